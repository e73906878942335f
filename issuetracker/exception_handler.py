"""The one translator from exceptions to RFC 9457 `application/problem+json`.

DRF calls `problem_exception_handler` for everything a view raises; `handler404`
and `handler500` in `issuetracker.urls` use `problem_response` for URLs under
/api/ that no DRF view answers. Each body carries `type`, `title`, `status`,
`detail`, a stable `code`, field `errors`, and `error` (the message; the Flask
app's clients read that key).
"""

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.views.csrf import csrf_failure as django_csrf_failure
from django.views.decorators.csrf import csrf_exempt
from django.views.defaults import page_not_found, server_error
from rest_framework import exceptions as drf
from rest_framework import serializers
from rest_framework.views import set_rollback

from issuetracker.error_classes import Outage, classify
from issuetracker.errors import ApplicationError

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:alphafusion:issuetracker:problem:"

# DRF exception class -> (status, code, title). Checked in order; subclasses first.
_DRF_PROBLEMS: Sequence[tuple[type[drf.APIException], int, str, str]] = (
    (drf.ValidationError, 400, "invalid", "Invalid input"),
    (drf.ParseError, 400, "malformed", "Malformed request body"),
    (drf.NotAuthenticated, 401, "not_authenticated", "Authentication required"),
    (drf.AuthenticationFailed, 401, "not_authenticated", "Authentication failed"),
    (drf.PermissionDenied, 403, "forbidden", "Forbidden"),
    (drf.NotFound, 404, "not_found", "Not found"),
    (drf.MethodNotAllowed, 405, "method_not_allowed", "Method not allowed"),
    (drf.NotAcceptable, 406, "not_acceptable", "Not acceptable"),
    (drf.UnsupportedMediaType, 415, "unsupported_media_type", "Unsupported media"),
    (drf.Throttled, 429, "throttled", "Too many requests"),
)


def problem_response(
    *,
    status: int,
    code: str,
    title: str,
    detail: str,
    errors: Mapping[str, Sequence[str]] | None = None,
    headers: Mapping[str, str] | None = None,
    instance: str | None = None,
) -> HttpResponse:
    """A problem+json response, independent of DRF's content negotiation.

    Rendering it outside DRF's renderers keeps errors JSON even for a browser
    that asked the browsable API for HTML.
    """
    body: dict[str, Any] = {
        "type": TYPE_PREFIX + code,
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "errors": {field: list(messages) for field, messages in (errors or {}).items()},
        "error": detail,
    }
    if instance:
        body["instance"] = instance
    response = HttpResponse(
        json.dumps(body, ensure_ascii=False),
        status=status,
        content_type=PROBLEM_CONTENT_TYPE,
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as `{"field": [...], "tags.0": [...]}`."""
    if isinstance(detail, Mapping):
        flat: dict[str, list[str]] = {}
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            for field, messages in _flatten(value, name).items():
                flat.setdefault(field, []).extend(messages)
        return flat
    if isinstance(detail, list | tuple):
        if all(not isinstance(item, Mapping | list | tuple) for item in detail):
            return {prefix or "non_field_errors": [str(item) for item in detail]}
        flat = {}
        for index, item in enumerate(detail):
            if not item:
                continue
            name = f"{prefix}.{index}" if prefix else str(index)
            for field, messages in _flatten(item, name).items():
                flat.setdefault(field, []).extend(messages)
        return flat
    return {prefix or "non_field_errors": [str(detail)]}


def _summary(errors: Mapping[str, Sequence[str]]) -> str:
    parts = [
        message if field == "non_field_errors" else f"{field}: {message}"
        for field, messages in errors.items()
        for message in messages
    ]
    return "; ".join(parts) or "Invalid input."


def _from_drf(exc: drf.APIException, instance: str | None) -> HttpResponse:
    status, code, title = 500, "server_error", "Server error"
    for kind, kind_status, kind_code, kind_title in _DRF_PROBLEMS:
        if isinstance(exc, kind):
            status, code, title = kind_status, kind_code, kind_title
            break
    else:  # Another APIException: keep its own status and code.
        status, code, title = exc.status_code, str(exc.default_code), "Error"
    headers: dict[str, str] = {}
    errors: dict[str, list[str]] = {}
    if isinstance(exc, drf.ValidationError):
        errors = _flatten(exc.detail)
        detail = _summary(errors)
    else:
        detail = str(exc.detail)
    if status == 401:
        headers["WWW-Authenticate"] = getattr(exc, "auth_header", None) or "Bearer"
    wait = getattr(exc, "wait", None)
    if wait:
        headers["Retry-After"] = str(int(wait))
    return problem_response(
        status=status,
        code=code,
        title=title,
        detail=detail,
        errors=errors,
        headers=headers,
        instance=instance,
    )


def response_for(exc: BaseException, request: HttpRequest | None) -> HttpResponse:
    """Translate any exception into a problem response; log what is not expected."""
    instance = request.path if request is not None else None
    if isinstance(exc, Http404):
        exc = drf.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf.PermissionDenied()
    if isinstance(exc, drf.APIException):
        return _from_drf(exc, instance)
    kind = classify(exc)
    if kind is None:
        logger.error("Unexpected error answering %s", instance, exc_info=exc)
        return problem_response(
            status=500,
            code="server_error",
            title="Server error",
            detail="Something went wrong on our side; it has been logged.",
            instance=instance,
        )
    if isinstance(exc, ApplicationError):
        if kind.status == 503:
            logger.warning("Store unavailable: %s", kind.detail)
    elif kind.outage is Outage.STORE:
        logger.warning(
            "Firestore unavailable answering %s: %s: %s",
            instance,
            type(exc).__name__,
            exc,
        )
    elif kind.outage is Outage.DATABASE:
        # Logged with its traceback: an unmigrated table raises the same class.
        logger.error("Database unavailable answering %s", instance, exc_info=exc)
    headers = dict(kind.headers)
    if kind.status == 401:
        headers.setdefault("WWW-Authenticate", "Bearer")
    return problem_response(
        status=kind.status,
        code=kind.code,
        title=kind.title,
        detail=kind.detail,
        errors=kind.errors,
        headers=headers,
        instance=instance,
    )


def problem_exception_handler(
    exc: Exception, context: Mapping[str, Any]
) -> HttpResponse:
    """DRF's EXCEPTION_HANDLER: every exception a view raises becomes a problem."""
    set_rollback()
    request = context.get("request")
    django_request = getattr(request, "_request", request)
    return response_for(exc, django_request)


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def handler404(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Unknown URLs: problem+json under /api/, Django's page elsewhere."""
    if _is_api(request):
        return problem_response(
            status=404,
            code="not_found",
            title="Not found",
            detail=f"No API endpoint at {request.path}.",
            instance=request.path,
        )
    return page_not_found(request, exception)


@csrf_exempt  # it changes nothing; a write to a wrong URL is a 404, not a 403 page
def api_not_found(request: HttpRequest) -> HttpResponse:
    """The catch-all under /api/: answers 404 problem+json whatever DEBUG says."""
    return handler404(request, Http404())


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: problem+json 403 under /api/, Django's page elsewhere."""
    if _is_api(request):
        return problem_response(
            status=403,
            code="forbidden",
            title="Forbidden",
            detail=(
                "CSRF check failed: a signed-in browser session must send the "
                "CSRF token; services send `Authorization: Bearer <key>`."
            ),
            instance=request.path,
        )
    return django_csrf_failure(request, reason)


def handler500(request: HttpRequest) -> HttpResponse:
    """Errors outside DRF views: problem+json under /api/, Django's page elsewhere."""
    if _is_api(request):
        return problem_response(
            status=500,
            code="server_error",
            title="Server error",
            detail="Something went wrong on our side; it has been logged.",
            instance=request.path,
        )
    return server_error(request)


class ProblemSerializer(serializers.Serializer[Any]):
    """RFC 9457 problem details, as every error response of the API carries them."""

    type = serializers.CharField(help_text="URN naming the problem kind.")
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField(help_text="What went wrong, for people.")
    code = serializers.CharField(help_text="Stable machine-readable code.")
    errors = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages per field (`tags.0` for list items); may be empty.",
    )
    error = serializers.CharField(help_text="Same as `detail`, for old clients.")
    instance = serializers.CharField(required=False, help_text="The request path.")
