"""OpenAPI pieces drf-spectacular cannot guess: the problem responses, shared
parameters and examples the API declares, how API keys are sent, that request
bodies take no unknown keys, and links from a created issue onwards.

Defining an extension registers it; `IssuesConfig.ready` imports this module.
"""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse

from issuetracker.exception_handler import PROBLEM_CONTENT_TYPE, ProblemSerializer

JSON = "application/json"

_PROBLEM_TEXT = {
    400: (
        "Malformed JSON (or nested deeper than 32 levels), unknown fields, invalid "
        "values or an unusable `If-Match` (`errors` names them)."
    ),
    401: "No or invalid credentials (send `Authorization: Bearer <key>`).",
    403: "The caller's role does not allow this.",
    404: "No such issue, or one the caller may not see.",
    405: "Method not allowed.",
    409: (
        "Conflicts with the current state: a status move DESIGN.md does not allow, "
        "or a client-chosen `id` another report holds."
    ),
    412: "`If-Match` names a version that is no longer current; nothing written.",
    413: "Body larger than 1 MiB.",
    415: "Body is not `application/json`.",
    429: "Over `API_WRITE_RATE` writes; retry after `Retry-After` seconds.",
    503: "Firestore did not answer in time; retry after `Retry-After` seconds.",
}


def problems(*statuses: int) -> dict[Any, Any]:
    """Schema responses for the problem+json errors an endpoint can answer."""
    return {
        (status, PROBLEM_CONTENT_TYPE): OpenApiResponse(
            ProblemSerializer, description=_PROBLEM_TEXT[status]
        )
        for status in (*statuses, 401, 405, 503)
    }


ISSUE_ID = OpenApiParameter(
    "issue_id",
    {"type": "string", "pattern": r"^[A-Za-z0-9_-]{1,128}$"},
    OpenApiParameter.PATH,
)
X_USER_ID = OpenApiParameter(
    "X-User-Id",
    {"type": "string", "pattern": r"^[\w.@+-]{1,100}$"},
    OpenApiParameter.HEADER,
    required=False,
    description=(
        "Compatibility mode only (anonymous callers): the service acting. "
        "Ignored for authenticated callers."
    ),
)
IF_MATCH = OpenApiParameter(
    "If-Match",
    {"type": "string", "pattern": r'^("[0-9]{1,18}"|\*)$'},
    OpenApiParameter.HEADER,
    required=False,
    description=(
        'The ETag of the version read (`"3"`) or `*`; 412 when it is stale, 400 '
        'when it is no strong ETag (`W/"3"`, lists, unquoted).'
    ),
)
ETAG = OpenApiParameter(
    "ETag",
    str,
    OpenApiParameter.HEADER,
    response=[200],
    description="The issue's version, for If-Match.",
)
LINK = OpenApiParameter(
    "Link",
    str,
    OpenApiParameter.HEADER,
    response=[200],
    description='`<next URL>; rel="next"` when there is a next page.',
)


# A create body in the old app's shape (snake_case keys, `reporter_id`).
OLD_APP_CREATE_EXAMPLE = OpenApiExample(
    "Old app's example",
    request_only=True,
    value={
        "title": "Error in workflow",
        "description": "Workflow failed at step X",
        "type": "bug",
        "priority": "high",
        "reporter_id": "user123",
        "assignee_id": "dev456",
        "tags": ["workflow", "error"],
    },
)


class PageAutoSchema(AutoSchema):
    """drf-spectacular's schema, except that a `list` action answers one page
    object (`{"issues": [...], "next": ...}`), not a bare array of them."""

    def _is_list_view(self, serializer: Any = None) -> bool:
        return False


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
