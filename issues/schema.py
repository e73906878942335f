"""OpenAPI pieces drf-spectacular cannot guess: how API keys are sent, that
request bodies take no unknown keys, and links from a created issue onwards.

Defining an extension registers it; `IssuesConfig.ready` imports this module.
"""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class BearerKeyScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    """`Authorization: Bearer <key>` (accounts.authentication)."""

    target_class = "accounts.authentication.ApiKeyAuthentication"
    name = "bearerKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        """An HTTP bearer scheme; keys are opaque strings, not JWTs."""
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key from `manage.py create_api_key`.",
        }


def closed_request_bodies(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """POSTPROCESSING_HOOK: request bodies refuse unknown keys (the input
    serializers answer 400), so their components say `additionalProperties: false`.
    """
    components = result.get("components", {}).get("schemas", {})
    for path in result.get("paths", {}).values():
        for operation in path.values():
            content = (operation.get("requestBody") or {}).get("content", {})
            for media in content.values():
                ref = media.get("schema", {}).get("$ref", "")
                name = ref.rsplit("/", 1)[-1]
                if name in components:
                    components[name]["additionalProperties"] = False
    return result


# From a created (201) or counted (200) issue to what can be done with it next.
_ISSUE_FOLLOW_UPS = {
    "ReadIssue": "issues_retrieve",
    "ChangeIssue": "issues_partial_update",
    "DeleteIssue": "issues_destroy",
    "ListComments": "issues_comments_list",
    "AddComment": "issues_comments_create",
    "ListActivities": "issues_activities_list",
}


def issue_links(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """POSTPROCESSING_HOOK: OpenAPI links from `issues_create` to the issue's
    operations (`issue_id` is the response's `id`), for clients and for
    stateful testing."""
    for path in result.get("paths", {}).values():
        for operation in path.values():
            if operation.get("operationId") != "issues_create":
                continue
            for status in ("200", "201"):
                response = operation.get("responses", {}).get(status)
                if response is None:
                    continue
                response["links"] = {
                    name: {
                        "operationId": target,
                        "parameters": {"issue_id": "$response.body#/id"},
                    }
                    for name, target in _ISSUE_FOLLOW_UPS.items()
                }
    return result
