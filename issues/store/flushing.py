"""Writing buffered occurrences to their issues, without a transaction.

A flush reads, in one `get_all`, every issue its process owes occurrences to and
the fingerprint locks its requests used, then writes each of those issues once
in one `batch_write` (independent writes, each with its own outcome). Every
write sets the totals computed from the version it read and is conditional on
that version (`last_update_time`, a precondition, not a lock): when another
process's flush or an edit came in between, that write alone fails, and its issue
is read and computed again, all within FIRESTORE_TIMEOUT. Nothing is locked, so
the flushes of several processes on the same issues, and the requests reading
them, never wait for each other (transactions did: the emulator locks what a
transaction reads, and aborts or holds the others until it commits).

What a flush keeps:
- exact totals: `occurrenceCount`, the hourly map and the kept report ids are
  written whole from the version read, so no write is lost or doubled;
- `lastSeenAt` never moves back;
- a part whose write may have committed although its answer was lost keeps its
  token; the token is written with it (`flushTokens`), so the next flush finds it
  there and does not add it again;
- occurrences of an issue that is gone (deleted, in the trash) are dropped and
  logged; those of an issue that could not be written go back to the buffer.

Pacing (the flusher's own runs, not a flush at exit or on demand): an issue that
anyone wrote less than an interval ago waits for the next flush, at most
WAITS_MAX times, so the flushes of many processes share about one write an
interval on each issue instead of one each.
"""

import logging
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from django.conf import settings
from google.cloud import firestore
from google.cloud.firestore_v1.bulk_batch import BulkWriteBatch
from google.rpc import code_pb2  # type: ignore[import-untyped]

from issues.domain import Issue
from issues.hourly import merged
from issues.store.documents import (
    FINGERPRINTS,
    HOURLY,
    ISSUE_ID,
    ISSUES,
    LAST_SEEN,
    OCCURRENCES,
    REPORT_IDS,
    Snapshot,
    issue_from_document,
)
from issues.workflow import REPORT_IDS_KEPT
from issuetracker.deadlines import deadline
from issuetracker.firestore import TRANSIENT_ERRORS, call_options

logger = logging.getLogger(__name__)

# An issue's field holding the tokens of the latest flushes written to it, so a
# retried flush is not counted twice (an additive field of the issue document).
FLUSH_TOKENS: Final = "flushTokens"
FLUSH_TOKENS_KEPT: Final = 50
# 64 random bits: no two of the tokens kept are alike.
TOKEN_CHARS: Final = 16
# Flushes an issue's new occurrences may wait because another wrote it just
# before: they reach the store at most this many intervals late.
WAITS_MAX: Final = 3
# Writes in one `batch_write` call (Firestore's limit).
BATCH_MAX: Final = 500
# Write outcomes after which the issue is read again and the write computed anew.
READ_AGAIN: Final = frozenset(
    {
        code_pb2.FAILED_PRECONDITION,
        code_pb2.NOT_FOUND,
        code_pb2.ABORTED,
        code_pb2.UNAVAILABLE,
        code_pb2.DEADLINE_EXCEEDED,
        code_pb2.RESOURCE_EXHAUSTED,
        code_pb2.INTERNAL,
    }
)


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
    # Flushes it waited for because its issue had just been written (pacing).
    waits: int = 0

    def add(self, other: "Pending") -> None:
        """Fold `other` (later or earlier, order does not matter) into this."""
        self.count += other.count
        self.last_seen = later(self.last_seen, other.last_seen)
        self.report_ids = [*self.report_ids, *other.report_ids][-REPORT_IDS_KEPT:]
        self.hours.update(other.hours)
        self.waits = max(self.waits, other.waits)


def later(first: datetime | None, second: datetime | None) -> datetime | None:
    """The later of two moments; None only when both are."""
    if first is None or (second is not None and second > first):
        return second
    return first


@dataclass
class Flushed:
    """What a flush did: the issues as stored after it, the issue each lock read
    names, and the parts it leaves to the buffer."""

    issues: dict[str, Issue] = field(default_factory=dict)
    locks: dict[str, str | None] = field(default_factory=dict)
    unwritten: list[tuple[str, Pending]] = field(default_factory=list)
    deferred: list[tuple[str, Pending]] = field(default_factory=list)
    # When each issue written took this flush's write (see `Pace.own`).
    written: dict[str, datetime] = field(default_factory=dict)


@dataclass(frozen=True)
class Pace:
    """How a flush shares its issues with the flushes of other processes: an
    issue another wrote less than `seconds` before is left for the next flush
    (at most WAITS_MAX times). `own` holds when this process last wrote each
    issue, so its own writes, already one an interval, never hold it back."""

    seconds: float = 0.0
    own: Mapping[str, datetime] = field(default_factory=dict)

    def waits(self, snapshot: Snapshot, parts: list[Pending]) -> bool:
        """Whether `parts` wait for the next flush (each counted as waiting)."""
        written, read = snapshot.update_time, snapshot.read_time
        if self.seconds <= 0 or written is None or read is None:
            return False
        if written == self.own.get(snapshot.id):
            return False
        if max(part.waits for part in parts) >= WAITS_MAX:
            return False
        if (read - written).total_seconds() >= self.seconds:
            return False
        for part in parts:
            part.waits += 1
        return True


def occurrence_update(
    current: Issue, tokens: list[str], parts: Iterable[Pending]
) -> dict[str, Any]:
    """The fields that add `parts` to `current` (read with its `tokens`)."""
    total, written = Pending(), []
    for part in parts:
        total.add(part)
        written.extend([part.token] if part.token else [])
    last_seen = later(current.last_seen_at, total.last_seen)
    update: dict[str, Any] = {
        OCCURRENCES: current.occurrence_count + total.count,
        LAST_SEEN: last_seen,
        HOURLY: merged(
            current.hourly_occurrences,
            total.hours,
            now=last_seen or datetime.now(UTC),
        ),
        FLUSH_TOKENS: [*tokens, *written][-FLUSH_TOKENS_KEPT:],
    }
    if total.report_ids:
        ids = [*current.report_ids, *total.report_ids]
        update[REPORT_IDS] = ids[-REPORT_IDS_KEPT:]
    return update


def write_occurrences(
    client: firestore.Client,
    *,
    owed: Mapping[str, list[Pending]],
    locks: Mapping[str, str] | None = None,
    pace: Pace | None = None,
) -> Flushed:
    """Write `owed` (parts by issue id) and read `locks` (lock key: the issue it
    named when last read) with the issues they name, all within
    FIRESTORE_TIMEOUT, sharing the issues with other processes as `pace` says
    (by default, never waiting)."""
    flushed = Flushed()
    todo = {issue_id: list(parts) for issue_id, parts in owed.items() if parts}
    try:
        with deadline(settings.FIRESTORE_TIMEOUT):
            snapshots = _read(client, todo, locks or {}, flushed)
            while todo:
                plans = _plan(client, todo, snapshots, flushed, pace or Pace())
                for start in range(0, len(plans), BATCH_MAX):
                    _commit(client, plans[start : start + BATCH_MAX], todo, flushed)
                if todo:
                    snapshots = _snapshots(
                        client, [_issue_ref(client, i) for i in todo]
                    )
    except TRANSIENT_ERRORS as error:
        logger.warning(
            "Occurrences of %d issue(s) not written; retried at the next flush: %s: %s",
            len(todo),
            type(error).__name__,
            error,
        )
    except Exception:  # a bug or an unexpected answer: keep them for later
        logger.exception(
            "Occurrences of %d issue(s) kept for the next flush", len(todo)
        )
    for issue_id, parts in todo.items():
        flushed.unwritten.extend((issue_id, part) for part in parts)
    return flushed


@dataclass
class _Plan:
    issue_id: str
    parts: list[Pending]
    data: dict[str, Any]
    update: dict[str, Any]
    snapshot: Snapshot


def _issue_ref(client: firestore.Client, issue_id: str) -> Any:
    return client.collection(ISSUES).document(issue_id)


def _snapshots(client: firestore.Client, refs: list[Any]) -> dict[str, Snapshot]:
    """Documents by path, read in one call."""
    if not refs:
        return {}
    return {
        snapshot.reference.path: snapshot
        for snapshot in client.get_all(refs, **call_options())
    }


def _read(
    client: firestore.Client,
    todo: Mapping[str, list[Pending]],
    locks: Mapping[str, str],
    flushed: Flushed,
) -> dict[str, Snapshot]:
    """In one call: the owed issues, the `locks` (lock key: the issue it named
    when last read) and those issues. A lock that now names another issue is
    given without it (its holder is let go and read again when next needed)."""
    lock_refs = {key: client.collection(FINGERPRINTS).document(key) for key in locks}
    ids = sorted({*todo, *locks.values()})
    refs = [*lock_refs.values(), *(_issue_ref(client, i) for i in ids)]
    snapshots = _snapshots(client, refs)
    for key, ref in lock_refs.items():
        lock = snapshots.get(ref.path)
        named = (lock.to_dict() or {}).get(ISSUE_ID) if lock and lock.exists else None
        flushed.locks[key] = named if isinstance(named, str) and named else None
    for issue_id in ids:
        snapshot = snapshots.get(_issue_ref(client, issue_id).path)
        if snapshot is None or not snapshot.exists or issue_id in todo:
            continue  # an owed issue is read by `_plan`
        try:
            flushed.issues[issue_id] = issue_from_document(
                issue_id, snapshot.to_dict() or {}
            )
        except ValueError:
            continue  # the request that reads it next logs it
    return snapshots


def _plan(
    client: firestore.Client,
    todo: dict[str, list[Pending]],
    snapshots: Mapping[str, Snapshot],
    flushed: Flushed,
    pace: Pace,
) -> list[_Plan]:
    """The write of each issue in `todo`; issues that need none leave `todo`."""
    plans = []
    for issue_id, parts in list(todo.items()):
        snapshot = snapshots.get(_issue_ref(client, issue_id).path)
        if snapshot is None or not snapshot.exists:
            del todo[issue_id]
            logger.warning(
                "%d occurrences of issue %s dropped: the issue is gone",
                sum(part.count for part in parts),
                issue_id,
            )
            continue
        data = snapshot.to_dict() or {}
        try:
            current = issue_from_document(issue_id, data)
        except ValueError as error:  # unreadable document: nothing to add to
            del todo[issue_id]
            logger.error("Issue %s unreadable: %s", issue_id, error)
            continue
        stored = data.get(FLUSH_TOKENS)
        tokens = (
            [t for t in stored if isinstance(t, str)]
            if isinstance(stored, list)
            else []
        )
        # Parts whose token is there were written before, though unanswered.
        left = [part for part in parts if part.token not in tokens]
        # Also after losing to another's write: its flush took this interval's.
        if not left or pace.waits(snapshot, left):
            del todo[issue_id]
            flushed.issues[issue_id] = current
            flushed.deferred.extend((issue_id, part) for part in left)
            continue
        for part in left:
            part.token = part.token or uuid.uuid4().hex[:TOKEN_CHARS]
        todo[issue_id] = left
        update = occurrence_update(current, tokens, left)
        plans.append(_Plan(issue_id, left, data, update, snapshot))
    return plans


def _commit(
    client: firestore.Client,
    plans: list[_Plan],
    todo: dict[str, list[Pending]],
    flushed: Flushed,
) -> None:
    """Send `plans` in one `batch_write`; written issues leave `todo`. Sending it
    again after a lost answer is safe: a write that did commit fails its
    precondition the second time, and the read after it finds its token."""
    batch = BulkWriteBatch(client)
    for plan in plans:
        batch.update(
            plan.snapshot.reference,
            plan.update,
            option=client.write_option(last_update_time=plan.snapshot.update_time),
        )
    response = batch.commit(**call_options())
    outcomes = zip(plans, response.status, response.write_results, strict=True)
    for plan, status, result in outcomes:
        if status.code == code_pb2.OK:
            del todo[plan.issue_id]
            flushed.written[plan.issue_id] = result.update_time
            flushed.issues[plan.issue_id] = issue_from_document(
                plan.issue_id, {**plan.data, **plan.update}
            )
        elif status.code not in READ_AGAIN:
            del todo[plan.issue_id]
            flushed.unwritten.extend((plan.issue_id, part) for part in plan.parts)
            logger.error(
                "Occurrences of issue %s not written (%s: %s); kept for the next flush",
                plan.issue_id,
                status.code,
                status.message,
            )
