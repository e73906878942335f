"""Rate limits for writes (API and portal), counted by django-ratelimit in the cache.

Counters live in the default cache: Redis in production (`REDIS_URL`), so every
gunicorn worker counts the same calls; local memory in the single-process local
setup. A caller over its rate gets 429 with `Retry-After` (problem+json); when the
cache does not answer (issuetracker/cache.py), writes go through uncounted.
"""

from typing import TYPE_CHECKING

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_ratelimit.core import get_usage
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from issuetracker.clientip import client_ip

if TYPE_CHECKING:  # DRF imports this module while rest_framework.views loads.
    from rest_framework.views import APIView

WRITE_GROUP = "api-write"
PORTAL_WRITE_GROUP = "portal-write"


def caller_key(group: str, request: Request) -> str:
    """Who is counted: the signed-in user or key owner, else the client address
    (X-Forwarded-For only as far as TRUSTED_PROXIES allows)."""
    user = request.user
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return f"ip:{client_ip(request)}"


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


def _person_key(group: str, request: HttpRequest) -> str:
    return f"user:{request.user.pk}"


def portal_write_refusal(request: HttpRequest) -> HttpResponse | None:
    """Count a signed-in person's portal write; over `PORTAL_WRITE_RATE`, the 429
    page saying when to retry (also as Retry-After). None: go ahead."""
    usage = get_usage(
        request,
        group=PORTAL_WRITE_GROUP,
        key=_person_key,
        rate=settings.PORTAL_WRITE_RATE,
        increment=True,
    )
    if usage is None or not usage["should_limit"]:
        return None
    wait = max(1, int(usage["time_left"]))
    response = render(request, "429.html", {"retry_after": wait}, status=429)
    response["Retry-After"] = str(wait)
    return response
