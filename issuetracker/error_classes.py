"""The one classifier of errors: exception -> status, code, title and Retry-After.

Used by the API's exception handler (which renders problem+json) and by the
portal (which renders pages), so both answer the same failure the same way. Free
of DRF: DRF's own exceptions are the API handler's business.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db import InterfaceError, OperationalError

from issuetracker.errors import RETRY_AFTER_SECONDS, ApplicationError
from issuetracker.firestore import TRANSIENT_ERRORS

# The relational database (users, keys, sessions) refused or dropped the connection.
DATABASE_UNAVAILABLE: Final = (OperationalError, InterfaceError)


class Outage(StrEnum):
    """Which store did not answer (a transient error: retrying may pass)."""

    STORE = "store"  # Firestore
    DATABASE = "database"  # the relational database


@dataclass(frozen=True)
class ErrorClass:
    """How an exception is answered: HTTP status, stable code, title, message."""

    status: int
    code: str
    title: str
    detail: str
    errors: Mapping[str, Sequence[str]] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    outage: Outage | None = None

    @property
    def transient(self) -> bool:
        """Whether the same request may pass later (503 with Retry-After)."""
        return self.status == 503

    @property
    def retry_after(self) -> int | None:
        """Seconds the caller should wait before retrying, when it says so."""
        value = self.headers.get("Retry-After")
        return int(value) if value is not None else None


def _unavailable(detail: str, outage: Outage) -> ErrorClass:
    return ErrorClass(
        status=503,
        code="unavailable",
        title="Service unavailable",
        detail=detail,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        outage=outage,
    )


def classify(exc: BaseException) -> ErrorClass | None:
    """The class of an expected error; None for an unexpected one (a bug: log it)."""
    if isinstance(exc, ApplicationError):
        return ErrorClass(
            status=exc.status,
            code=exc.code,
            title=exc.title,
            detail=exc.message,
            errors=exc.errors,
            headers=exc.headers,
            outage=Outage.STORE if exc.status == 503 else None,
        )
    if isinstance(exc, RequestDataTooBig):
        return ErrorClass(
            status=413,
            code="too_large",
            title="Request body too large",
            detail="The request body is larger than the 1 MiB this API accepts.",
        )
    if isinstance(exc, SuspiciousOperation):
        return ErrorClass(
            status=400,
            code="bad_request",
            title="Bad request",
            detail="The request was refused as malformed.",
        )
    if isinstance(exc, TRANSIENT_ERRORS):
        return _unavailable(
            "The issue store did not answer in time; try again shortly.", Outage.STORE
        )
    if isinstance(exc, DATABASE_UNAVAILABLE):
        return _unavailable(
            "The database did not answer; try again shortly.", Outage.DATABASE
        )
    return None
