"""The unread badge in the navigation of every portal page."""

import logging
from typing import Any

from django.http import HttpRequest

from issuetracker.errors import ApplicationError
from notifications import services

logger = logging.getLogger(__name__)


def unread_badge(request: HttpRequest) -> dict[str, Any]:
    """`unread_notifications` for a signed-in person: one document read, done
    only when a template uses it. A failed read hides the badge (logged); the
    page itself must not fail for it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def count() -> int | None:
        try:
            return services.unread_count(user=user)
        except ApplicationError as error:  # Firestore down: the page still renders
            logger.warning("Unread count unavailable: %s", error)
            return None

    return {"unread_notifications": _Lazy(count)}


class _Lazy:
    """Evaluated once, on first use in a template."""

    def __init__(self, load: Any) -> None:
        self._load = load
        self._done = False
        self._value: int | None = None

    def value(self) -> int | None:
        """The count (None when unavailable)."""
        if not self._done:
            self._value, self._done = self._load(), True
        return self._value

    def __str__(self) -> str:
        value = self.value()
        return "" if value is None else str(value)

    def __bool__(self) -> bool:
        return bool(self.value())
