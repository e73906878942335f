"""Firestore errors injected at the client boundary, answered through the API.

Errors that will not pass on retry (permissions, credentials, a missing database,
a bad request) are a 500 logged with its traceback, not a 503 inviting a retry;
the call-level retry covers only errors that are safe to send again.
"""

import logging

import pytest
from google.api_core import exceptions as google_exceptions
from google.cloud.firestore_v1.services.firestore.client import FirestoreClient

from issuetracker.firestore import TRANSIENT_ERRORS, call_options

ISSUES = "/api/v1/issues"

FINAL = [
    google_exceptions.PermissionDenied,
    google_exceptions.Unauthenticated,
    google_exceptions.InvalidArgument,
    google_exceptions.FailedPrecondition,
    google_exceptions.NotFound,
]


# The generated API client's calls the library makes for reads, queries and writes.
RPCS = (
    "batch_get_documents",
    "run_query",
    "run_aggregation_query",
    "commit",
    "begin_transaction",
)
CALLS = {
    "read": lambda api: api.get(f"{ISSUES}/abc"),
    "list": lambda api: api.get(ISSUES),
    "create": lambda api: api.post(ISSUES, {"title": "t", "description": "d"}),
    "change": lambda api: api.patch(f"{ISSUES}/abc", {"priority": "low"}),
    "comment": lambda api: api.post(f"{ISSUES}/abc/comments", {"content": "c"}),
}


@pytest.fixture
def failing_store(monkeypatch, store):
    """Make every Firestore call of the process's client raise `error`."""

    def fail_with(error: Exception) -> None:
        def fail(*args, **kwargs):
            raise error

        for name in RPCS:
            monkeypatch.setattr(FirestoreClient, name, fail)

    return fail_with


@pytest.mark.parametrize("call", CALLS)
@pytest.mark.parametrize("kind", FINAL, ids=lambda kind: kind.__name__)
def test_a_final_firestore_error_is_a_logged_500_not_a_503(
    api, developer, failing_store, caplog, kind, call
):
    failing_store(kind("database projects/x/databases/(default) refused"))
    with caplog.at_level(logging.ERROR):
        response = CALLS[call](api.as_user(developer))

    assert response.status_code == 500, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "server_error"
    assert "Retry-After" not in response
    logged = [record for record in caplog.records if record.exc_info]
    assert logged, "the error is logged with its traceback"
    assert isinstance(logged[0].exc_info[1], kind)


@pytest.mark.parametrize("call", CALLS)
@pytest.mark.parametrize(
    "kind",
    [google_exceptions.ServiceUnavailable, google_exceptions.Unknown],
    ids=lambda kind: kind.__name__,
)
def test_a_transient_firestore_error_is_still_a_503(
    api, developer, failing_store, kind, call
):
    failing_store(kind("try later"))
    response = CALLS[call](api.as_user(developer))

    assert response.status_code == 503, response.content
    assert response.json()["code"] == "unavailable"
    assert response["Retry-After"]


SAFE_TO_RETRY = [
    google_exceptions.ServiceUnavailable,
    google_exceptions.DeadlineExceeded,
    google_exceptions.InternalServerError,
    google_exceptions.Aborted,
    google_exceptions.GatewayTimeout,
    google_exceptions.TooManyRequests,
]
# A call that failed this way may have been applied: sending it again could
# write twice. Still answered 503, but not retried inside the call.
MAYBE_APPLIED = [google_exceptions.Unknown, google_exceptions.Cancelled]


@pytest.mark.parametrize(
    ("kind", "retried"),
    [(kind, True) for kind in SAFE_TO_RETRY]
    + [(kind, False) for kind in [*MAYBE_APPLIED, *FINAL]],
    ids=lambda value: getattr(value, "__name__", str(value)),
)
def test_call_level_retry_covers_only_errors_safe_to_send_again(kind, retried):
    predicate = call_options()["retry"]._predicate
    assert predicate(kind("x")) is retried


@pytest.mark.parametrize("kind", MAYBE_APPLIED + SAFE_TO_RETRY)
def test_every_retryable_or_maybe_applied_error_is_transient(kind):
    assert issubclass(kind, TRANSIENT_ERRORS)


@pytest.mark.parametrize("kind", FINAL)
def test_final_errors_are_not_transient(kind):
    assert not issubclass(kind, TRANSIENT_ERRORS)
