"""The process's Firestore client, the call options every Firestore call passes,
the one list of transient Firestore errors, and the transaction every app uses.

Shared by every app that touches Firestore (issues, accounts, notifications).
"""

import contextlib
import functools
import logging
import random
import time
from collections.abc import Callable, Iterator
from typing import Any, Final, TypeVar

from django.conf import settings
from google.api_core import exceptions as google_exceptions
from google.api_core.retry import Retry, if_exception_type
from google.auth import exceptions as google_auth_exceptions
from google.cloud import firestore
from google.cloud.firestore_v1.transaction import Transaction

from issuetracker.errors import StoreUnavailable

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Firestore failures that may pass on retry: answered 503 with Retry-After.
# Anything else (PermissionDenied, Unauthenticated, InvalidArgument,
# FailedPrecondition, NotFound of the database...) is final: a logged 500, since
# retrying cannot help until someone fixes the configuration.
TRANSIENT_ERRORS: Final[tuple[type[Exception], ...]] = (
    google_exceptions.ServiceUnavailable,
    google_exceptions.DeadlineExceeded,
    google_exceptions.GatewayTimeout,
    google_exceptions.RetryError,
    google_exceptions.InternalServerError,
    google_exceptions.Unknown,
    google_exceptions.TooManyRequests,
    google_exceptions.Cancelled,
    google_exceptions.Aborted,
    google_auth_exceptions.TransportError,
    TimeoutError,
)
# The transient failures each call retries itself within its deadline: those
# after which the request is known not to have been applied, or is idempotent
# to repeat. Unknown and Cancelled may have committed, so they are not sent again.
SAFE_TO_RETRY: Final[tuple[type[Exception], ...]] = (
    google_exceptions.ServiceUnavailable,
    google_exceptions.DeadlineExceeded,
    google_exceptions.InternalServerError,
    google_exceptions.Aborted,
    google_exceptions.GatewayTimeout,
    google_exceptions.TooManyRequests,
)
_RETRIED = if_exception_type(*SAFE_TO_RETRY)

# Before attempt n + 1 of a transaction that lost to another, a random pause of up
# to RETRY_PAUSE * 2**n seconds (at most RETRY_PAUSE_MAX).
RETRY_PAUSE: Final = 0.05
RETRY_PAUSE_MAX: Final = 1.0
TRANSACTION_ATTEMPTS: Final = 5


@functools.cache
def get_client() -> firestore.Client:
    """Return the process's client, created on first use.

    The library itself switches to the emulator (anonymous credentials, plain
    channel) when FIRESTORE_EMULATOR_HOST is set; otherwise it uses Application
    Default Credentials.
    """
    return firestore.Client(
        project=settings.GOOGLE_CLOUD_PROJECT, database=settings.FIRESTORE_DATABASE
    )


def call_options(*, timeout: float | None = None) -> dict[str, Any]:
    """Keyword arguments bounding one Firestore call: a timeout and a short retry.

    The retry's deadline equals the timeout, so no call (retries included) holds a
    worker longer than FIRESTORE_TIMEOUT seconds.
    """
    seconds = settings.FIRESTORE_TIMEOUT if timeout is None else timeout
    retry = Retry(
        predicate=_RETRIED, initial=0.1, maximum=1.0, multiplier=2.0, timeout=seconds
    )
    return {"timeout": seconds, "retry": retry}


@contextlib.contextmanager
def store_errors(what: str) -> Iterator[None]:
    """Turn transient Firestore failures into StoreUnavailable, logged once."""
    try:
        yield
    except TRANSIENT_ERRORS as error:
        logger.warning(
            "Firestore unavailable while %s: %s: %s", what, type(error).__name__, error
        )
        raise StoreUnavailable(
            "The issue store did not answer in time; try again shortly."
        ) from error


class BoundedTransaction(Transaction):
    """A transaction whose begin, commit and rollback calls have deadlines too.

    The library sends those three without a timeout, so an unreachable store would
    hold a worker for its default minute; these overrides pass `call_options()`.
    Commit is not retried: a conflict (Aborted) reruns the whole function instead,
    after a random pause: transactions that aborted each other (several reports
    of one failure) would otherwise collide again in step, and the emulator can
    abort all of them every time.
    """

    _retries = 0

    def _begin(self, retry_id: bytes | None = None) -> None:
        if self.in_progress:
            raise ValueError("Transaction already begun.")
        if retry_id is None:
            self._retries = 0
        else:
            self._retries += 1
            ceiling = min(RETRY_PAUSE * 2**self._retries, RETRY_PAUSE_MAX)
            time.sleep(random.uniform(0, ceiling))  # noqa: S311 - jitter only
        response = self._client._firestore_api.begin_transaction(
            request={
                "database": self._client._database_string,
                "options": self._options_protobuf(retry_id),
            },
            metadata=self._client._rpc_metadata,
            **call_options(),
        )
        self._id = response.transaction

    def _commit(self) -> list[Any]:
        if not self.in_progress:
            raise ValueError("No transaction in progress.")
        options = call_options()
        response = self._client._firestore_api.commit(
            request={
                "database": self._client._database_string,
                "writes": self._write_pbs,
                "transaction": self._id,
            },
            metadata=self._client._rpc_metadata,
            timeout=options["timeout"],
            retry=None,
        )
        self._clean_up()
        self.write_results = list(response.write_results)
        self.commit_time = response.commit_time
        return self.write_results

    def _rollback(self) -> None:
        if not self.in_progress:  # begin itself failed: nothing to roll back
            self._clean_up()
            return
        try:
            self._client._firestore_api.rollback(
                request={
                    "database": self._client._database_string,
                    "transaction": self._id,
                },
                metadata=self._client._rpc_metadata,
                timeout=call_options()["timeout"],
                retry=None,
            )
        except TRANSIENT_ERRORS:
            logger.warning("Could not roll back a transaction; it will expire.")
        finally:
            self._clean_up()


def run_transaction(
    client: firestore.Client,
    run: Callable[[Transaction], T],
    *,
    what: str,
    busy: str,
    attempts: int = TRANSACTION_ATTEMPTS,
) -> T:
    """Run a `@firestore.transactional` function in a BoundedTransaction.

    Transient failures become StoreUnavailable; so does losing to other
    transactions `attempts` times in a row (`busy` says why to the caller).
    """
    transaction = BoundedTransaction(client, max_attempts=attempts)
    with store_errors(what):
        try:
            return run(transaction)
        except ValueError as error:
            if isinstance(error.__cause__, google_exceptions.Aborted):
                raise StoreUnavailable(busy) from error
            raise
