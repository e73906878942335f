"""The client's counters, its count of queued requests, and warnings logged once.

One lock guards them all, so `stats` is a consistent snapshot and `flush` can
wait for the queue to empty.
"""

import logging
import threading
from dataclasses import dataclass
from typing import Final

from issuetracker_client import reports

logger = logging.getLogger("issuetracker_client")

COUNTERS: Final = ("sent", "rejected", "failed", "dropped", "retried")


@dataclass(frozen=True, slots=True)
class ClientStats:
    """Counts since the client started.

    Every report ends in exactly one of `sent`, `rejected`, `failed` or
    `dropped`, or is still `queued`; `retried` counts extra attempts.
    """

    queued: int  # waiting or being sent
    sent: int  # the tracker took it (2xx): issue created or folded, comment, update
    rejected: int  # the tracker refused it with a 4xx other than 408/425/429
    failed: int  # still undelivered after max_retries (down, slow, 429, 5xx)
    dropped: int  # never sent: queue full, client closed, cut off by close(), bad
    # arguments, or a follow-up of an issue whose create did not get through
    retried: int  # attempts after the first one


class Tally:
    """Counters, queued requests and warnings already logged (thread-safe)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._idle = threading.Condition(self.lock)
        self.pending = 0  # queued or being sent; change it holding `lock`
        self._counts = dict.fromkeys(COUNTERS, 0)
        self._warned: set[str] = set()

    def snapshot(self) -> ClientStats:
        with self.lock:
            return ClientStats(queued=self.pending, **self._counts)

    def count(self, name: str, times: int = 1) -> None:
        with self.lock:
            self._counts[name] += times

    def done(self, jobs: int) -> None:
        """`jobs` requests left the queue and were dealt with."""
        with self.lock:
            self.pending -= jobs
            if self.pending <= 0:
                self._idle.notify_all()

    def discard(self) -> None:
        """A queued request was dropped without being taken by the worker."""
        with self.lock:
            self._counts["dropped"] += 1
            self.pending -= 1

    def wait_idle(self, timeout: float) -> bool:
        """Wait at most `timeout` seconds for nothing to be pending."""
        with self._idle:
            return self._idle.wait_for(lambda: self.pending <= 0, timeout)

    # Warnings, each kind logged once until rearmed

    def warn_once(self, kind: str, message: str, *args: object) -> None:
        with self.lock:
            if kind in self._warned:
                return
            self._warned.add(kind)
        logger.warning(message, *args)

    def rearm(self, *kinds: str) -> None:
        """Warnings of `kinds` are news again."""
        with self.lock:
            self._warned.difference_update(kinds)

    def drop(self, kind: str, message: str, *args: object) -> None:
        self.count("dropped")
        self.warn_once(kind, message, *args)

    def drop_bad_argument(self, where: str, error: reports.BadArgument) -> None:
        self.drop(
            f"bad-argument-{where}",
            "%s: %s; the call is dropped. Logged once.",
            where,
            error,
        )

    def drop_unbuildable(self, where: str) -> None:
        """Call from an except block: the warning holds the traceback."""
        self.count("dropped")
        with self.lock:
            first = where not in self._warned
            self._warned.add(where)
        if first:
            logger.warning(
                "%s could not build a report; it is dropped. Logged once.",
                where,
                exc_info=True,
            )
