"""OpenAPI pieces drf-spectacular cannot guess: how API keys are sent.

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
