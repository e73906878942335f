"""Logging: a request id and client address on every record of a request, JSON
lines in production, and a last scrub of anything that looks like a secret.

`RequestContextMiddleware` takes the caller's `X-Request-ID` when it is a short
safe token (else makes one), sends it back and puts it, with the client address,
in context variables; `RequestContextFilter` copies them onto each record, so
logs of one request can be found together. settings.py names these classes in
LOGGING (`LOG_FORMAT`: `json` in production, `plain` locally).
"""

import json
import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Final

from django.core.signals import request_finished
from django.http import HttpRequest, HttpResponse

from issuetracker.clientip import client_ip

NO_REQUEST: Final = "-"
request_id_var: ContextVar[str] = ContextVar("request_id", default=NO_REQUEST)
client_ip_var: ContextVar[str] = ContextVar("client_ip", default=NO_REQUEST)

REQUEST_ID_HEADER: Final = "X-Request-ID"
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")

# Defence in depth: the code logs no credentials, and this keeps a mistake (an
# exception message quoting a header, a URL with a key) from printing one.
_SECRETS = (
    (re.compile(r"(?i)\b(bearer|basic|token)\s+[^\s,;\"']+"), r"\1 [redacted]"),
    # itk_<prefix>_<secret>: the prefix names the key and may be shown.
    (re.compile(r"\b(itk_[A-Za-z0-9]+_)[A-Za-z0-9_\-]+"), r"\1[redacted]"),
    (
        re.compile(
            r"(?i)\b(password|passwd|secret|token|api_?key|key|sessionid|"
            r"csrftoken|csrfmiddlewaretoken|authorization|cookie)"
            r"([\"']?\s*[=:]\s*[\"']?)[^\s&,;\"']+"
        ),
        r"\1\2[redacted]",
    ),
)


def scrub(text: str) -> str:
    """`text` with bearer tokens, API keys and `name=value` secrets blanked."""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


def incoming_request_id(value: str | None) -> str:
    """The caller's request id if it is a safe short token, else a new one."""
    if value and _SAFE_REQUEST_ID.fullmatch(value):
        return value
    return uuid.uuid4().hex


def logging_config(log_format: str, level: str) -> dict[str, Any]:
    """settings.LOGGING: stdout in `log_format` (`json` or `plain`) at `level`,
    every record with its request's id."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request": {"()": "issuetracker.logs.RequestContextFilter"}},
        "formatters": {
            "plain": {
                "()": "issuetracker.logs.PlainFormatter",
                "format": (
                    "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"
                ),
            },
            "json": {"()": "issuetracker.logs.JsonFormatter"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "formatter": log_format,
                "filters": ["request"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        # SQL with its parameters (session keys among them) stays out, even at DEBUG.
        "loggers": {"django.db.backends": {"level": "INFO"}},
    }


class RequestContextFilter(logging.Filter):
    """Puts the current request's id and client address on every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Always passes the record, with `request_id` and `client_ip` set."""
        record.request_id = request_id_var.get()
        record.client_ip = client_ip_var.get()
        return True


class PlainFormatter(logging.Formatter):
    """The readable local format, scrubbed."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line (plus traceback), secrets blanked."""
        return scrub(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, request id, caller,
    client IP, and the exception (type, message, traceback) as a field."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one JSON line, secrets blanked."""
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": scrub(record.getMessage()),
            "request_id": getattr(record, "request_id", request_id_var.get()),
            "client_ip": getattr(record, "client_ip", client_ip_var.get()),
            "caller": f"{record.pathname}:{record.lineno} {record.funcName}",
        }
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            entry["exception"] = {
                "type": type(error).__qualname__,
                "message": scrub(str(error)),
                "traceback": scrub(self.formatException(record.exc_info)),
            }
        elif record.exc_text:
            entry["exception"] = {"traceback": scrub(record.exc_text)}
        if record.stack_info:
            entry["stack"] = scrub(self.formatStack(record.stack_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


class RequestContextMiddleware:
    """Names each request (X-Request-ID in and out) for the logs."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        """Set the request's context, answer, send the id back."""
        request_id = incoming_request_id(request.headers.get(REQUEST_ID_HEADER))
        request.request_id = request_id  # type: ignore[attr-defined]
        request_id_var.set(request_id)
        client_ip_var.set(client_ip(request))
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        return response


def _forget_request(**kwargs: Any) -> None:
    # Cleared when the response is closed, after Django's own "Not Found" and
    # "Internal Server Error" lines, which are logged after the middleware.
    request_id_var.set(NO_REQUEST)
    client_ip_var.set(NO_REQUEST)


request_finished.connect(_forget_request, dispatch_uid="issuetracker.logs")
