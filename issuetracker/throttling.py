"""Rate limits for the API's writes, counted by django-ratelimit in the shared cache.

Counters live in the default cache: Redis in production (`REDIS_URL`), so every
gunicorn worker counts the same calls; local memory in the single-process local
setup. A caller over its rate gets 429 with `Retry-After` (problem+json); when the
cache does not answer (issuetracker/cache.py), writes go through uncounted.
"""

from typing import TYPE_CHECKING

from django.conf import settings
from django_ratelimit.core import get_usage
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

if TYPE_CHECKING:  # DRF imports this module while rest_framework.views loads.
    from rest_framework.views import APIView

WRITE_GROUP = "api-write"


def caller_key(group: str, request: Request) -> str:
    """Who is counted: the signed-in user or key owner, else the client address."""
    user = request.user
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return f"ip:{request.META.get('REMOTE_ADDR', '')}"


class WriteRateThrottle(BaseThrottle):
    """At most `API_WRITE_RATE` (e.g. `120/m`) writes per caller; reads are free."""

    def __init__(self) -> None:
        self.retry_after: int | None = None

    def allow_request(self, request: Request, view: "APIView") -> bool:
        """Count this write and refuse it once the caller is over the rate."""
        if request.method in SAFE_METHODS:
            return True
        # A view that takes many writes at once (a batch) says how many.
        weigh = getattr(view, "write_weight", None)
        for _ in range(weigh(request) if weigh is not None else 1):
            # None when the cache cannot count (RATELIMIT_FAIL_OPEN): let it through.
            usage = get_usage(
                request,
                group=WRITE_GROUP,
                key=caller_key,
                rate=settings.API_WRITE_RATE,
                increment=True,
            )
            if usage is not None and usage["should_limit"]:
                self.retry_after = max(1, int(usage["time_left"]))
                return False
        return True

    def wait(self) -> float | None:
        """Seconds until the caller's window ends (DRF sends it as Retry-After)."""
        return self.retry_after
