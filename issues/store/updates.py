"""Updates of one issue from many threads of this process, applied in turns.

Concurrent transactions on one document abort each other (Firestore and its
emulator alike), and with many callers every attempt of most of them can lose.
So the threads of a process that update one issue queue for it (first come,
first served, `issuetracker.deadlines.KeyedQueues`), and whoever's turn comes
applies, in one transaction, its own update and every update still queued
behind it, each on the result of the one before: one read and one commit for
the lot, one activity and one outbox event for each. Each caller gets its own
result or error (a stale `If-Match` refuses that update only). Across processes
Firestore's transactions still decide, with reruns bounded by the deadline.

Every caller's wait ends within its deadline (FIRESTORE_TIMEOUT from its start):
an update still queued when the deadline leaves no time is withdrawn (503, never
written); one already taken into a transaction learns that transaction's outcome,
which ends by the taker's earlier deadline.
"""

import copy
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from django.conf import settings

from issues.domain import Issue, UpdateResult
from issues.store import Mutation
from issues.store.documents import BUSY
from issuetracker.deadlines import (
    Deadline,
    DeadlineReached,
    deadline,
    document_queues,
)
from issuetracker.errors import ApplicationError, StoreUnavailable
from issuetracker.firestore import MIN_ATTEMPT

# How long a caller whose update a transaction took waits past its own deadline
# for that transaction's outcome (which ends by the earliest deadline of those it
# took, give or take the time to hand the outcome over).
HANDOVER: Final = 0.1
# At most this many updates in one transaction (two writes each, of Firestore's
# 500 a commit).
BATCH_MAX: Final = 100

_WAITING, _TAKEN, _WITHDRAWN = "waiting", "taken", "withdrawn"


@dataclass(eq=False)
class Pending:
    """One caller's update: its mutation, its outbox event id, and its outcome."""

    mutate: Mutation
    event_id: str | None
    limit: Deadline | None = None
    state: str = _WAITING
    result: UpdateResult | None = None
    error: BaseException | None = None
    done: threading.Event = field(default_factory=threading.Event)

    def apply(self, issue: Issue) -> UpdateResult | None:
        """Run the mutation on `issue`: its result, or None when it refuses (the
        refusal kept as this caller's outcome)."""
        self.result, self.error = None, None
        try:
            self.result = self.mutate(issue)
        except ApplicationError as error:
            self.error = error
        return self.result

    def outcome(self) -> UpdateResult:
        if self.error is not None:
            raise copy.copy(self.error) from self.error.__cause__
        if self.result is None:
            raise StoreUnavailable(BUSY)
        return self.result


_mutex = threading.Lock()
_queued: dict[str, list[Pending]] = {}


def _enqueue(key: str, mine: Pending) -> None:
    with _mutex:
        _queued.setdefault(key, []).append(mine)


def _take(key: str) -> list[Pending]:
    """The updates still waiting for `key`, oldest first (at most BATCH_MAX)."""
    with _mutex:
        queue = _queued.get(key, [])
        taken = [p for p in queue if p.state == _WAITING][:BATCH_MAX]
        for pending in taken:
            pending.state = _TAKEN
        rest = [p for p in queue if p.state == _WAITING]
        if rest:
            _queued[key] = rest
        else:
            _queued.pop(key, None)
        return taken


def _withdraw(key: str, mine: Pending) -> bool:
    """Take `mine` off the queue unless a transaction has it already."""
    with _mutex:
        if mine.state != _WAITING:
            return False
        mine.state = _WITHDRAWN
        queue = _queued.get(key, [])
        if mine in queue:
            queue.remove(mine)
        if not queue:
            _queued.pop(key, None)
        return True


def in_turn(
    key: str, mine: Pending, transact: Callable[[list[Pending]], None]
) -> UpdateResult:
    """Queue `mine` for document `key`; on our turn, `transact` everything still
    queued (setting each one's outcome). Returns our result or raises our error."""
    with deadline(settings.FIRESTORE_TIMEOUT) as limit:
        mine.limit = limit
        _enqueue(key, mine)
        try:
            with document_queues.hold((key,), within=limit, reserve=MIN_ATTEMPT):
                batch = _take(key)
                try:
                    if batch:
                        _transact_within(batch, transact)
                except BaseException as error:
                    for pending in batch:
                        pending.result, pending.error = None, error
                    raise
                finally:
                    for pending in batch:
                        pending.done.set()
        except DeadlineReached as error:
            if _withdraw(key, mine):
                raise StoreUnavailable(BUSY) from error
            # Taken by an earlier caller, whose deadline ends before ours.
            mine.done.wait(limit.remaining() + HANDOVER)
        if not mine.done.is_set():
            raise StoreUnavailable(BUSY)
        return mine.outcome()


def _transact_within(
    batch: list[Pending], transact: Callable[[list[Pending]], None]
) -> None:
    """`transact` under the earliest deadline of the callers in `batch`, so none
    is answered after its own."""
    earliest = min(p.limit.remaining() for p in batch if p.limit is not None)
    with deadline(earliest):
        transact(batch)
