"""Per-process write buffers, so a burst of reports does not become a burst of
writes on one document (Firestore sustains about one write a second on each).

Two things wait here for the next flush, every INGEST_BUFFER_SECONDS (default 1):

- counter moves of new issues, summed and written to one counter shard picked at
  random per flush: each process takes one counter write per interval, whatever
  the create rate (README, "Counters");
- occurrences of fingerprinted reports folded into an issue: count, latest time
  and the caller-chosen report ids, written to that issue in one transaction per
  issue per interval.

It also remembers, per fingerprint lock, the issue the lock named when last read
(`holder`), for at most one interval, so a storm of one failure reads its lock
once an interval and writes it never.

What is buffered is in this process's memory only: a graceful stop (`close`,
gunicorn's `worker_exit`, interpreter exit) writes it; a crash (SIGKILL, OOM)
loses at most one interval of it (README, "What a crash can lose"). Reads in the
same process add what is pending (`pending_moves`, `pending`), so a caller sees
its own reports at once. INGEST_BUFFER_SECONDS = 0 turns buffering off: every
report writes at once, as before.
"""

import atexit
import functools
import logging
import os
import threading
import time
import uuid
from collections import Counter
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from google.cloud import firestore
from google.cloud.firestore_v1.transaction import Transaction

from issues.domain import Issue
from issues.hourly import merged
from issues.store.counters import (
    CounterKey,
    counter_increments,
    counter_shards,
    random_shard,
)
from issues.store.documents import (
    BUSY,
    HOURLY,
    ISSUES,
    LAST_SEEN,
    OCCURRENCES,
    REPORT_IDS,
    issue_from_document,
)
from issues.workflow import REPORT_IDS_KEPT
from issuetracker.errors import StoreUnavailable
from issuetracker.firestore import call_options, get_client, run_transaction

logger = logging.getLogger(__name__)

# Issues whose occurrences a flush writes at the same time.
FLUSH_THREADS = 8
# An issue's field holding the tokens of the latest flushes written to it, so a
# retried flush is not counted twice (an additive field of the issue document).
FLUSH_TOKENS = "flushTokens"
FLUSH_TOKENS_KEPT = 50


@dataclass
class Pending:
    """Occurrences of one issue not yet written."""

    count: int = 0
    last_seen: datetime | None = None
    report_ids: list[str] = field(default_factory=list)
    # Occurrences by UTC hour (`issues.hourly`), written with the count.
    hours: Counter[str] = field(default_factory=Counter)
    # Set when a flush first tries to write it, and kept by its retries, so a
    # write that did commit although its answer was lost is not added twice.
    token: str | None = None

    def add(self, other: "Pending") -> None:
        """Fold `other` (later or earlier, order does not matter) into this."""
        self.count += other.count
        self.last_seen = later(self.last_seen, other.last_seen)
        self.report_ids = [*self.report_ids, *other.report_ids][-REPORT_IDS_KEPT:]
        self.hours.update(other.hours)


def later(first: datetime | None, second: datetime | None) -> datetime | None:
    """The later of two moments; None only when both are."""
    if first is None or (second is not None and second > first):
        return second
    return first


def interval() -> float:
    """Seconds between flushes; 0 when buffering is off."""
    return float(getattr(settings, "INGEST_BUFFER_SECONDS", 0) or 0)


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
        self._holders: dict[str, tuple[Issue, float]] = {}
        self._retries: list[tuple[str, Pending]] = []
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
        """Occurrences of `issue_id` to write with the next flush; what is now
        pending for it in all."""
        self._own()
        with self._lock:
            total = self._occurrences.setdefault(issue_id, Pending())
            total.add(pending)
            self._started()
            copy = Pending(total.count, total.last_seen, list(total.report_ids))
            copy.hours.update(total.hours)
            return copy

    def pending(self, issue_id: str) -> Pending | None:
        """The occurrences of `issue_id` not yet written, if any."""
        with self._lock:
            found = [p for i, p in self._retries if i == issue_id]
            if issue_id in self._occurrences:
                found.append(self._occurrences[issue_id])
        if not found:
            return None
        total = Pending()
        for each in found:
            total.add(each)
        return total

    def holder(self, lock_key: str) -> Issue | None:
        """The issue a fingerprint lock named when read less than an interval ago."""
        with self._lock:
            known = self._holders.get(lock_key)
        if known is None or time.monotonic() - known[1] > interval():
            return None
        return known[0]

    def remember(self, lock_key: str, issue: Issue | None) -> None:
        """The issue a fingerprint lock names now, as stored (None: forget)."""
        with self._lock:
            if issue is None:
                self._holders.pop(lock_key, None)
            else:
                self._holders[lock_key] = (issue, time.monotonic())

    # --- flushing ----------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.wait(interval() or 1.0):
            try:
                self.flush()
            except Exception:  # the flusher must outlive any one failure
                logger.exception("Flushing buffered issue writes failed")

    def flush(self) -> None:
        """Write every pending counter move and occurrence now. What cannot be
        written (store down) goes back to the buffer for the next flush."""
        if self._pid != os.getpid():
            return
        with self._flushing:
            with self._lock:
                moves, self._moves = self._moves, Counter()
                occurrences, self._occurrences = self._occurrences, {}
                retries, self._retries = self._retries, []
                # Read again after this flush: the stored counts move now.
                self._holders = {
                    key: held
                    for key, held in self._holders.items()
                    if held[0].id not in occurrences
                }
            if not moves and not occurrences and not retries:
                return
            client = get_client()
            self._write_moves(client, {k: n for k, n in moves.items() if n})
            work = [*retries]
            for issue_id, pending in occurrences.items():
                pending.token = uuid.uuid4().hex
                work.append((issue_id, pending))
            if not work:
                return
            # Side by side: a storm of many failures must flush within the
            # interval (and within gunicorn's timeout at a worker's exit).
            try:
                with ThreadPoolExecutor(FLUSH_THREADS) as pool:
                    for issue_id, pending in work:
                        pool.submit(self._write_occurrences, client, issue_id, pending)
            except RuntimeError:  # at interpreter exit: no new threads
                for issue_id, pending in work:
                    self._write_occurrences(client, issue_id, pending)

    def _write_moves(
        self, client: firestore.Client, moves: dict[CounterKey, int]
    ) -> None:
        if not moves:
            return
        try:
            random_shard(counter_shards(client)).set(
                counter_increments(moves), merge=True, **call_options()
            )
        except Exception:
            logger.warning(
                "Counter moves not written; retried at the next flush", exc_info=True
            )
            with self._lock:
                self._moves.update(moves)

    def _write_occurrences(
        self, client: firestore.Client, issue_id: str, pending: Pending
    ) -> None:
        ref = client.collection(ISSUES).document(issue_id)

        @firestore.transactional
        def write(transaction: Transaction) -> bool:
            snapshot = ref.get(transaction=transaction, **call_options())
            if not snapshot.exists:
                return False
            data = snapshot.to_dict() or {}
            tokens = data.get(FLUSH_TOKENS)
            tokens = list(tokens) if isinstance(tokens, list) else []
            if pending.token in tokens:
                return True  # committed before, though its answer was lost
            current = issue_from_document(snapshot.id, data)
            last_seen = current.last_seen_at
            if pending.last_seen and (
                last_seen is None or pending.last_seen > last_seen
            ):
                last_seen = pending.last_seen
            update: dict[str, Any] = {
                OCCURRENCES: current.occurrence_count + pending.count,
                LAST_SEEN: last_seen,
                HOURLY: merged(
                    current.hourly_occurrences,
                    pending.hours,
                    now=last_seen or datetime.now(UTC),
                ),
            }
            if pending.report_ids:
                ids = [*current.report_ids, *pending.report_ids]
                update[REPORT_IDS] = ids[-REPORT_IDS_KEPT:]
            if pending.token is not None:
                update[FLUSH_TOKENS] = [*tokens, pending.token][-FLUSH_TOKENS_KEPT:]
            transaction.update(ref, update)
            return True

        try:
            written = run_transaction(
                client, write, what="counting occurrences", busy=BUSY
            )
        except StoreUnavailable:
            logger.warning(
                "%d occurrences of issue %s not written; retried at the next flush",
                pending.count,
                issue_id,
            )
            with self._lock:
                self._retries.append((issue_id, pending))
            return
        except ValueError as error:  # unreadable document: nothing to add to
            written = False
            logger.error("Issue %s unreadable: %s", issue_id, error)
        except Exception:  # a bug or an unexpected error: keep them for later
            logger.exception(
                "Occurrences of issue %s kept for the next flush", issue_id
            )
            with self._lock:
                self._retries.append((issue_id, pending))
            return
        if not written:
            logger.warning(
                "%d occurrences of issue %s dropped: the issue is gone",
                pending.count,
                issue_id,
            )

    def discard(self) -> None:
        """Forget everything pending and remembered (tests: a fresh store)."""
        with self._lock:
            self._moves.clear()
            self._occurrences.clear()
            self._retries.clear()
            self._holders.clear()

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
