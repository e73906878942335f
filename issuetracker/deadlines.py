"""Deadlines shared by every call of one store operation, and per-key FIFO queues.

A transaction runs under one `Deadline` (FIRESTORE_TIMEOUT from its start): its
begin, reads, commit and every rerun take their timeouts from what is left of it
(`issuetracker.firestore.call_options` reads the running one), so the whole
operation, not each call, ends within the budget.

`KeyedQueues` lets the threads of one process that change the same document take
turns (first come, first served) instead of aborting each other's transactions:
Firestore (and its emulator) answers such collisions by aborting all but one, and
many at once can abort every attempt of every caller.
"""

import contextlib
import contextvars
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field


class DeadlineReached(TimeoutError):
    """The operation's deadline left no time for the next step (a transient 503)."""


class Deadline:
    """A point in time (monotonic clock) an operation must end by."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expires = time.monotonic() + seconds

    def remaining(self) -> float:
        """Seconds left, never below 0."""
        return max(0.0, self.expires - time.monotonic())

    def check(self, needed: float = 0.0) -> float:
        """What is left, or DeadlineReached when that is not more than `needed`."""
        left = self.remaining()
        if left <= needed:
            raise DeadlineReached(
                f"{left:.3f} s left of {self.seconds:.3f} s; {needed:.3f} s needed"
            )
        return left


_running: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar(
    "store_deadline", default=None
)


def running_deadline() -> Deadline | None:
    """The deadline of the operation this thread is in, if any."""
    return _running.get()


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[Deadline]:
    """Run the block under a deadline `seconds` from now; inside an operation that
    already has an earlier one, that one holds."""
    outer = _running.get()
    if outer is not None and outer.remaining() <= seconds:
        yield outer
        return
    limit = Deadline(seconds)
    token = _running.set(limit)
    try:
        yield limit
    finally:
        _running.reset(token)


@dataclass
class _Queue:
    held: bool = False
    waiting: deque[threading.Event] = field(default_factory=deque)


class KeyedQueues:
    """One FIFO-fair lock per key (a document path), created on demand and
    dropped when nobody holds or waits for it; the lock passes straight to the
    longest waiter on release, so no late thread overtakes it."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._queues: dict[str, _Queue] = {}

    def _acquire(self, key: str, timeout: float) -> bool:
        with self._mutex:
            queue = self._queues.setdefault(key, _Queue())
            if not queue.held and not queue.waiting:
                queue.held = True
                return True
            turn = threading.Event()
            queue.waiting.append(turn)
        if turn.wait(timeout):
            return True
        with self._mutex:
            if turn.is_set():  # handed over as the wait ended: it is ours
                return True
            queue.waiting.remove(turn)
            self._drop_if_idle(key, queue)
            return False

    def _release(self, key: str) -> None:
        with self._mutex:
            queue = self._queues[key]
            if queue.waiting:
                queue.waiting.popleft().set()  # stays held: handed over
            else:
                queue.held = False
                self._drop_if_idle(key, queue)

    def _drop_if_idle(self, key: str, queue: _Queue) -> None:
        if not queue.held and not queue.waiting:
            del self._queues[key]

    def waiting(self, key: str) -> int:
        """How many threads wait for `key` (for tests and logs)."""
        with self._mutex:
            queue = self._queues.get(key)
            return len(queue.waiting) if queue else 0

    @contextlib.contextmanager
    def hold(
        self, keys: Iterable[str], *, within: Deadline, reserve: float = 0.0
    ) -> Iterator[None]:
        """Hold every key (taken in sorted order, so two holders never deadlock),
        waiting at most until `within` has only `reserve` seconds left (the time
        the holder needs); DeadlineReached if the turn does not come by then."""
        taken: list[str] = []
        try:
            for key in sorted(set(keys)):
                if not self._acquire(key, max(0.0, within.remaining() - reserve)):
                    raise DeadlineReached(f"waited {within.seconds} s for {key}")
                taken.append(key)
            yield
        finally:
            for key in reversed(taken):
                self._release(key)


# The process's queues of document writers (`run_transaction(serialize=...)`).
document_queues = KeyedQueues()
