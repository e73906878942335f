"""Per-process write buffers, so a burst of reports does not become a burst of
writes on one document (Firestore sustains about one write a second on each).

Two things wait here for the next flush, every INGEST_BUFFER_SECONDS (default 1):

- counter moves of new issues, summed and written to one counter shard picked at
  random per flush: each process takes one counter write per interval, whatever
  the create rate (README, "Counters");
- occurrences of fingerprinted reports folded into an issue: count, latest time
  and the caller-chosen report ids, written to that issue at most once per flush,
  without a transaction (`issues.store.flushing`).

It also remembers, per fingerprint lock, the issue the lock named when last read
(`holder`). Each flush reads again, in the same call as the issues it writes, the
locks that requests used since the last one, and keeps the issues as it leaves
them; a holder is trusted for two intervals. So a storm of many failures reads
no lock or issue in its requests, and writes no lock.

What is buffered is in this process's memory only: a graceful stop (`close`,
gunicorn's `worker_exit`, interpreter exit) writes it; a crash (SIGKILL, OOM)
loses at most a few intervals of it (README, "What a crash can lose"). Reads in
the same process add what is pending (`pending_moves`, `pending`), so a caller
sees its own reports at once. INGEST_BUFFER_SECONDS = 0 turns buffering off:
every report writes at once, as before.
"""

import atexit
import functools
import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Mapping
from datetime import datetime

from django.conf import settings

from issues.domain import Issue
from issues.store.counters import (
    CounterKey,
    counter_increments,
    counter_shards,
    random_shard,
)
from issues.store.flushing import Flushed, Pace, write_occurrences
from issues.store.flushing import Pending as Pending
from issuetracker.firestore import call_options, get_client

logger = logging.getLogger(__name__)


def interval() -> float:
    """Seconds between flushes; 0 when buffering is off."""
    return float(getattr(settings, "INGEST_BUFFER_SECONDS", 0) or 0)


def holder_age_max() -> float:
    """Seconds a holder is trusted: two intervals and a flush as slow as the
    store lets it be (a flush reads the holders again within FIRESTORE_TIMEOUT)."""
    return 2 * interval() + float(settings.FIRESTORE_TIMEOUT)


class WriteBuffer:
    """What this process owes Firestore, and the thread that pays it."""

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._flushing = threading.Lock()
        self._moves: Counter[CounterKey] = Counter()
        self._occurrences: dict[str, Pending] = {}
        # Taken by the flush under way; kept apart from later reports until the
        # holders show them as written.
        self._writing: dict[str, list[Pending]] = {}
        self._retries: list[tuple[str, Pending]] = []
        self._holders: dict[str, tuple[Issue, float]] = {}
        self._used: set[str] = set()
        # When this process's flushes last wrote each issue (`Pace.own`).
        self._written: dict[str, datetime] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def enabled(self) -> bool:
        """Whether reports are buffered (INGEST_BUFFER_SECONDS > 0)."""
        return interval() > 0

    def _started(self) -> None:
        """Start the flusher if needed (caller holds the lock); after a fork the
        parent's buffer and thread are not this process's."""
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(
                target=self._run, name="issues-write-buffer", daemon=True
            )
            self._thread.start()

    def _own(self) -> None:
        if self._pid != os.getpid():
            self._reset()

    # --- what callers add and read ----------------------------------------------

    def add_moves(self, moves: Mapping[CounterKey, int]) -> None:
        """Counter moves to write with the next flush."""
        self._own()
        with self._lock:
            self._moves.update(moves)
            self._started()

    def pending_moves(self) -> dict[CounterKey, int]:
        """The counter moves not yet written."""
        with self._lock:
            return {key: n for key, n in self._moves.items() if n}

    def add_occurrences(self, issue_id: str, pending: Pending) -> Pending:
        """Occurrences of `issue_id` to write with the next flush; what this
        process owes it in all now (see `owed`)."""
        self._own()
        with self._lock:
            self._occurrences.setdefault(issue_id, Pending()).add(pending)
            self._started()
            return self._owed(issue_id, writing=True) or Pending()

    def pending(self, issue_id: str) -> Pending | None:
        """The occurrences of `issue_id` not yet written, if any: what a read of
        the stored issue lacks (those the flush under way is writing aside)."""
        with self._lock:
            return self._owed(issue_id, writing=False)

    def owed(self, issue_id: str) -> Pending | None:
        """The occurrences of `issue_id` its holder does not show yet: pending,
        and those the flush under way is writing (the flush updates the holders
        when it takes them off)."""
        with self._lock:
            return self._owed(issue_id, writing=True)

    def _owed(self, issue_id: str, *, writing: bool) -> Pending | None:
        found = [p for i, p in self._retries if i == issue_id]
        if writing:
            found.extend(self._writing.get(issue_id, ()))
        if issue_id in self._occurrences:
            found.append(self._occurrences[issue_id])
        if not found:
            return None
        total = Pending()
        for each in found:
            total.add(each)
        return total

    def holder(self, lock_key: str) -> Issue | None:
        """The issue a fingerprint lock named when last read, by a request or by
        the flusher (which reads it again each interval, plus the time a flush
        takes); never one read more than `holder_age_max()` ago."""
        with self._lock:
            known = self._holders.get(lock_key)
            if known is not None:
                self._used.add(lock_key)
        if known is None or time.monotonic() - known[1] > holder_age_max():
            return None
        return known[0]

    def remember(self, lock_key: str, issue: Issue | None) -> None:
        """The issue a fingerprint lock names now, as stored (None: forget)."""
        with self._lock:
            if issue is None:
                self._holders.pop(lock_key, None)
            else:
                self._holders[lock_key] = (issue, time.monotonic())
                self._used.add(lock_key)

    # --- flushing ----------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.wait(interval() or 1.0):
            try:
                self.flush(pace=True)
            except Exception:  # the flusher must outlive any one failure
                logger.exception("Flushing buffered issue writes failed")

    def flush(self, *, pace: bool = False) -> None:
        """Write every pending counter move and occurrence now, and read again
        the locks requests used. With `pace` (the flusher's own runs) an issue
        just written by another waits a little (`issues.store.flushing`), and
        the locks are read even when nothing is owed. What cannot be written
        (store down) goes back to the buffer for the next flush."""
        if self._pid != os.getpid():
            return
        with self._flushing:
            with self._lock:
                moves, self._moves = self._moves, Counter()
                owed: dict[str, list[Pending]] = {}
                for issue_id, pending in [*self._retries, *self._occurrences.items()]:
                    owed.setdefault(issue_id, []).append(pending)
                self._occurrences, self._retries, self._writing = {}, [], owed
                # A holder no request used since the last flush is let go.
                used = self._used
                self._holders = {k: h for k, h in self._holders.items() if k in used}
                locks = {key: held[0].id for key, held in self._holders.items()}
                self._used = set()
            moves = Counter({k: n for k, n in moves.items() if n})
            if moves:
                self._write_moves(moves)
            if not owed and not (pace and locks):
                return
            read_at = time.monotonic()
            try:
                flushed = write_occurrences(
                    get_client(),
                    owed=owed,
                    locks=locks,
                    pace=Pace(interval() if pace else 0.0, own=self._written),
                )
            except Exception:  # no client: keep every part, token and all
                logger.exception("Buffered occurrences kept for the next flush")
                parts = [(i, part) for i, each in owed.items() for part in each]
                flushed = Flushed(unwritten=parts)
            with self._lock:
                for key, named in flushed.locks.items():
                    known = self._holders.get(key)
                    if known is None or known[1] > read_at:
                        continue  # let go, or remembered since the read: newer
                    issue = flushed.issues.get(named) if named else None
                    if issue is None:
                        del self._holders[key]
                    else:
                        self._holders[key] = (issue, read_at)
                self._writing = {}
                self._retries.extend(flushed.unwritten)
                for issue_id, pending in flushed.deferred:
                    if pending.token is None:
                        self._occurrences.setdefault(issue_id, Pending()).add(pending)
                    else:  # tried once: its token must stay its own
                        self._retries.append((issue_id, pending))
                mine = {i: t for i, t in self._written.items() if i in owed}
                self._written = mine | flushed.written
            logger.debug(
                "Flushed %d issue(s) and %d lock(s) in %.3f s: %d part(s) waited, "
                "%d kept for the next flush",
                len(owed),
                len(locks),
                time.monotonic() - read_at,
                len(flushed.deferred),
                len(flushed.unwritten),
            )

    def _write_moves(self, moves: Counter[CounterKey]) -> None:
        try:
            random_shard(counter_shards(get_client())).set(
                counter_increments(moves), merge=True, **call_options()
            )
        except Exception:
            logger.warning(
                "Counter moves not written; retried at the next flush", exc_info=True
            )
            with self._lock:
                self._moves.update(moves)

    def discard(self) -> None:
        """Forget everything pending and remembered (tests: a fresh store)."""
        with self._lock:
            self._moves.clear()
            self._occurrences.clear()
            self._retries.clear()
            self._holders.clear()
            self._used.clear()
            self._written.clear()

    def close(self) -> None:
        """Stop the flusher and write what is pending (a graceful shutdown)."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(5)
        try:
            self.flush()
        finally:
            self._stop = threading.Event()
            self._thread = None


@functools.cache
def write_buffer() -> WriteBuffer:
    """The process's buffer (created on first use, written at exit)."""
    buffer = WriteBuffer()
    atexit.register(flush_at_exit)
    return buffer


def flush_at_exit() -> None:
    """Write what is buffered; for atexit and gunicorn's `worker_exit`."""
    if write_buffer.cache_info().currsize == 0:
        return
    try:
        write_buffer().close()
    except Exception:  # never spoil the exit; the loss is logged
        logger.exception("Buffered issue writes lost at exit")
