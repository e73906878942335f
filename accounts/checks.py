"""System checks of the accounts settings that `check --deploy` reports."""

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register

ANONYMOUS_SERVICES_ON = Warning(
    "ALLOW_ANONYMOUS_SERVICES is on: anonymous API callers act as any service "
    "they name, so the identity of those calls is not authenticated.",
    hint=(
        "Give each service an API key (manage.py create_api_key) and turn "
        "ALLOW_ANONYMOUS_SERVICES off once the old app's callers use them."
    ),
    id="accounts.W001",
)


@register(Tags.security, deploy=True)
def anonymous_services_check(
    app_configs: Sequence[AppConfig] | None, **kwargs: Any
) -> list[CheckMessage]:
    """Warn while compatibility mode accepts anonymous service callers."""
    return [ANONYMOUS_SERVICES_ON] if settings.ALLOW_ANONYMOUS_SERVICES else []
