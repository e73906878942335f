"""The process's Firestore client, the call options every Firestore call passes,
the one list of transient Firestore errors, and the transaction every app uses:
one deadline (FIRESTORE_TIMEOUT) for all its calls and reruns
(`issuetracker.deadlines`).

Shared by every app that touches Firestore (issues, accounts, notifications).
"""

import contextlib
import functools
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, Final, TypeVar

from django.conf import settings
from google.api_core import exceptions as google_exceptions
from google.api_core.retry import Retry, if_exception_type
from google.auth import exceptions as google_auth_exceptions
from google.cloud import firestore
from google.cloud.firestore_v1.transaction import Transaction

from issuetracker.deadlines import (
    Deadline,
    DeadlineReached,
    deadline,
    document_queues,
    running_deadline,
)
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
    TimeoutError,  # DeadlineReached included
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
# to RETRY_PAUSE * 2**n seconds (at most RETRY_PAUSE_MAX, and never more than the
# deadline leaves once the next attempt is paid for).
RETRY_PAUSE: Final = 0.05
RETRY_PAUSE_MAX: Final = 1.0
# The deadline bounds a transaction; this only stops a hopeless loop sooner.
TRANSACTION_ATTEMPTS: Final = 10
# The least time an attempt is assumed to take (begin, read, commit) before one
# has been measured: no attempt starts with less than this left.
MIN_ATTEMPT: Final = 0.05
# No commit is sent with less than this left: it would likely be applied after
# its caller was told 503 (the outcome of a commit that timed out is unknown).
MIN_COMMIT: Final = 0.02
# A rollback that finds the deadline spent runs on this thread instead (with this
# timeout), so the caller is answered on time and the locks are still released.
LATE_ROLLBACK_TIMEOUT: Final = 2.0


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
    worker longer than FIRESTORE_TIMEOUT seconds. Inside an operation with a
    deadline (a transaction) the timeout is what is left of it, and a call with
    nothing left is not sent (DeadlineReached, a 503).
    """
    seconds = settings.FIRESTORE_TIMEOUT if timeout is None else timeout
    running = running_deadline()
    if running is not None:
        seconds = min(seconds, running.check())
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
    """A transaction whose every call and rerun fits in one deadline.

    The library sends begin, commit and rollback without a timeout, so an
    unreachable store would hold a worker for its default minute; these overrides
    pass `call_options()`, whose timeout is what is left of `limit`. Commit is not
    retried: a conflict (Aborted) reruns the whole function instead, after a
    random pause (transactions that aborted each other would otherwise collide
    again in step), but only when what is left of the deadline still holds the
    pause and one more attempt as long as the last: otherwise it gives up at once
    (DeadlineReached, a 503) rather than when the deadline passes.
    """

    def __init__(
        self, client: firestore.Client, *, limit: Deadline, max_attempts: int
    ) -> None:
        super().__init__(client, max_attempts=max_attempts)
        self.limit = limit
        self.attempts = 0
        self._attempt_started = time.monotonic()

    def _begin(self, retry_id: bytes | None = None) -> None:
        if self.in_progress:
            raise ValueError("Transaction already begun.")
        now = time.monotonic()
        if self.attempts == 0:
            self.limit.check(MIN_ATTEMPT)
        else:
            needed = max(now - self._attempt_started, MIN_ATTEMPT)
            spare = self.limit.check(needed) - needed
            ceiling = min(RETRY_PAUSE * 2**self.attempts, RETRY_PAUSE_MAX, spare)
            time.sleep(random.uniform(0, ceiling))  # noqa: S311 - jitter only
        self.attempts += 1
        self._attempt_started = time.monotonic()
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
        self.limit.check(MIN_COMMIT)
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
        if not self.in_progress or self._id is None:  # nothing begun to roll back
            self._clean_up()
            return
        left = self.limit.remaining()
        if left >= MIN_ATTEMPT:
            _roll_back(self._client, self._id, left)
        else:  # the caller is answered now; the store's locks go shortly after
            threading.Thread(
                target=_roll_back,
                args=(self._client, self._id, LATE_ROLLBACK_TIMEOUT),
                daemon=True,
            ).start()
        self._clean_up()


def _roll_back(client: firestore.Client, transaction_id: bytes, timeout: float) -> None:
    try:
        client._firestore_api.rollback(
            request={
                "database": client._database_string,
                "transaction": transaction_id,
            },
            metadata=client._rpc_metadata,
            timeout=timeout,
            retry=None,
        )
    except TRANSIENT_ERRORS:
        logger.warning("Could not roll back a transaction; it will expire.")


def run_transaction(
    client: firestore.Client,
    run: Callable[[Transaction], T],
    *,
    what: str,
    busy: str,
    attempts: int = TRANSACTION_ATTEMPTS,
) -> T:
    """Run a `@firestore.transactional` function in a BoundedTransaction, all of
    it (begin, reads, commit, reruns) within one deadline: FIRESTORE_TIMEOUT
    seconds, or what is left of an earlier one the caller runs under.

    Transient failures become StoreUnavailable; so does a deadline that leaves
    no room for the next attempt, and losing to other transactions `attempts`
    times in a row (`busy` says why to the caller).
    """
    with store_errors(what), deadline(settings.FIRESTORE_TIMEOUT) as limit:
        transaction = BoundedTransaction(client, limit=limit, max_attempts=attempts)
        try:
            return run(transaction)
        except DeadlineReached as error:
            logger.warning("Gave up %s: %s", what, error)
            raise StoreUnavailable(busy) from error
        except ValueError as error:
            if isinstance(error.__cause__, google_exceptions.Aborted):
                raise StoreUnavailable(busy) from error
            raise


@contextlib.contextmanager
def document_turn(key: str, *, busy: str) -> Iterator[Deadline]:
    """Run the block in this process's turn for the document at path `key`
    (first come, first served among its writers, `deadlines.document_queues`),
    all of it within FIRESTORE_TIMEOUT; StoreUnavailable(`busy`) when the turn
    does not come in time. Transactions on one document taken in turns do not
    abort each other until the deadline."""
    with deadline(settings.FIRESTORE_TIMEOUT) as limit:
        try:
            with document_queues.hold((key,), within=limit, reserve=MIN_ATTEMPT):
                yield limit
        except DeadlineReached as error:
            raise StoreUnavailable(busy) from error
