"""One request to the tracker's issue API over urllib, and what its answer means.

Nothing here retries or sleeps; the client's worker decides that from the outcome.
"""

import contextlib
import email.utils
import http.client
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC
from enum import Enum
from typing import IO, Any
from urllib.parse import urlsplit, urlunsplit

# Bytes of an answer read at most: enough for a problem+json, never a large page.
_READ_MAX = 64 * 1024
# A batch's answer holds up to 100 issues.
_READ_MAX_BATCH = 8 * 1024 * 1024
# Answers worth another try: the tracker or a proxy in front of it may recover.
_RETRY_STATUSES = frozenset({408, 425, 429})


class Result(Enum):
    """What an attempt means for the report."""

    SENT = "sent"
    RETRY = "retry"  # network error, timeout, 408, 425, 429, 5xx
    REJECTED = "rejected"  # any other answer: sending it again cannot help


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of one attempt, with what the worker and the log need."""

    result: Result
    status: int | None = None  # None: no HTTP answer (network error, timeout)
    retry_after: float | None = None  # seconds, from the answer's Retry-After
    detail: str = ""  # for the log: the problem's code and message, or the error
    issue_id: str | None = None  # the `id` of a 2xx answer's JSON object, if any
    results: Any = None  # a batch's answer: its `results` list


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Never follow a redirect: urllib would resend the key to wherever it points."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        """Refuse; urllib then raises HTTPError with the 3xx answer."""
        return None


def retry_after_seconds(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date)."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    moment = time.time() if now is None else now
    return max(0.0, when.timestamp() - moment)


def public_url(url: str) -> str:
    """`url` without credentials, query or fragment: safe to log."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _problem(answer: IO[bytes] | None) -> str:
    """`code: message` of a problem+json answer, or its first bytes."""
    if answer is None:
        return ""
    try:
        raw = answer.read(_READ_MAX)
    except (OSError, ValueError, AttributeError, http.client.HTTPException):
        return ""
    try:
        data = json.loads(raw)
    except ValueError:
        return raw[:200].decode("utf-8", "replace").strip()
    if not isinstance(data, dict):
        return ""
    message = data.get("error") or data.get("detail") or data.get("title") or ""
    code = data.get("code")
    text = f"{code}: {message}" if code else str(message)
    return text[:300]


def _answer(raw: bytes) -> tuple[str | None, Any]:
    """The `id` of a JSON object answer (the issue created, found or changed),
    and its `results` (a batch's answer)."""
    try:
        data = json.loads(raw)
    except ValueError:
        return None, None
    if not isinstance(data, dict):
        return None, None
    value = data.get("id")
    return (value if isinstance(value, str) and value else None), data.get("results")


def _header(error: urllib.error.HTTPError, name: str) -> str | None:
    headers = getattr(error, "headers", None)
    value = headers.get(name) if headers is not None else None
    return str(value) if value is not None else None


class Transport:
    """Sends JSON bodies to the tracker's issue endpoint and the URLs under it."""

    def __init__(self, *, url: str, headers: dict[str, str], timeout: float) -> None:
        self._url = url
        self._headers = headers
        self._timeout = timeout
        self._opener = urllib.request.build_opener(_NoRedirect())

    def __repr__(self) -> str:
        return f"Transport(url={public_url(self._url)!r})"

    def send(
        self,
        body: bytes,
        *,
        method: str = "POST",
        path: str = "",
        headers: dict[str, str] | None = None,
    ) -> Outcome:
        """One attempt at `method` on the issue URL + `path` (`/{id}/comments`);
        never raises for network or HTTP trouble."""
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked
            self._url + path,
            data=body,
            headers={**self._headers, **headers} if headers else self._headers,
            method=method,
        )
        try:
            with self._opener.open(request, timeout=self._timeout) as answer:
                raw = answer.read(_READ_MAX_BATCH if path == "/batch" else _READ_MAX)
                issue_id, results = _answer(raw)
                return Outcome(
                    Result.SENT,
                    status=answer.status,
                    issue_id=issue_id,
                    results=results,
                )
        except urllib.error.HTTPError as error:
            try:
                return self._refused(error)
            finally:
                with contextlib.suppress(OSError, ValueError, AttributeError):
                    error.close()
        except urllib.error.URLError as error:
            return Outcome(Result.RETRY, detail=f"cannot connect: {error.reason}")
        except (OSError, http.client.HTTPException) as error:
            # Timeouts, resets, a connection closed mid-answer.
            return Outcome(
                Result.RETRY, detail=f"{type(error).__name__}: {error}".rstrip(": ")
            )

    def _refused(self, error: urllib.error.HTTPError) -> Outcome:
        status = error.code
        detail = _problem(error)
        if 300 <= status < 400:
            where = _header(error, "Location") or "?"
            detail = f"redirect to {public_url(where)} not followed; check base_url"
        if status in _RETRY_STATUSES or status >= 500:
            wait = retry_after_seconds(_header(error, "Retry-After"))
            return Outcome(Result.RETRY, status=status, retry_after=wait, detail=detail)
        return Outcome(Result.REJECTED, status=status, detail=detail)
