"""The one error hierarchy: services raise these, the API turns them into problem+json.

Plain Python (no Django, DRF or Google), so domain and service code may raise them.
"""

from collections.abc import Mapping, Sequence
from typing import Final

# Seconds a 503 asks the caller to wait (`Retry-After`), wherever it is answered.
RETRY_AFTER_SECONDS: Final = 5


class ApplicationError(Exception):
    """An expected failure with a stable `code` and the HTTP status it maps to."""

    status: int = 400
    code: str = "bad_request"
    title: str = "Bad request"

    def __init__(
        self,
        message: str | None = None,
        *,
        errors: Mapping[str, Sequence[str]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.message = message or self.title
        self.errors = {
            field: list(messages) for field, messages in (errors or {}).items()
        }
        self.headers = dict(headers or {})
        super().__init__(self.message)


class InvalidInput(ApplicationError):
    """The request is well-formed but its values are not acceptable."""

    status, code, title = 400, "invalid", "Invalid input"


class NotAuthenticated(ApplicationError):
    """No credentials, or credentials that prove nothing."""

    status, code, title = 401, "not_authenticated", "Authentication required"


class Forbidden(ApplicationError):
    """A known caller asks for something its role does not allow."""

    status, code, title = 403, "forbidden", "Forbidden"


class NotFound(ApplicationError):
    """The thing does not exist, or the caller may not see it."""

    status, code, title = 404, "not_found", "Not found"


class Conflict(ApplicationError):
    """The request conflicts with the current state (for example a status move)."""

    status, code, title = 409, "conflict", "Conflict"


class PreconditionFailed(ApplicationError):
    """`If-Match` names a version that is no longer current."""

    status, code, title = 412, "precondition_failed", "Precondition failed"


class StoreUnavailable(ApplicationError):
    """Firestore (or another store) did not answer in time; try again later."""

    status, code, title = 503, "unavailable", "Service unavailable"

    def __init__(
        self, message: str | None = None, *, retry_after: int = RETRY_AFTER_SECONDS
    ) -> None:
        super().__init__(message, headers={"Retry-After": str(retry_after)})
