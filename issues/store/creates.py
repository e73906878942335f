"""Creating issues: single creates, batches and fingerprinted reports.

A mixin of `FirestoreIssueRepository` (`firestore`), which provides the client,
the collections and `_transact`.
"""

import logging
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Final, TypeVar

from django.conf import settings
from google.api_core import exceptions as google_exceptions
from google.cloud import firestore
from google.cloud.firestore_v1.batch import WriteBatch
from google.cloud.firestore_v1.collection import CollectionReference
from google.cloud.firestore_v1.transaction import Transaction

from issues.domain import Activity, CreateResult, Issue
from issues.hourly import hour_key, merged
from issues.store import Absorption, IssueExists
from issues.store.buffers import write_buffer
from issues.store.counters import CounterKey, add_moves, counter_moves, random_shard
from issues.store.documents import (
    CREATED,
    FINGERPRINT,
    FINGERPRINTS,
    HOURLY,
    ISSUE_ID,
    LAST_SEEN,
    OCCURRENCES,
    REPORT_IDS,
    REPORTER,
    fingerprint_key,
    issue_to_document,
    read_issue,
)
from issues.store.folding import fold_buffered, lock_holder
from issues.store.outbox import event_document
from issuetracker.deadlines import DeadlineReached, deadline, document_queues
from issuetracker.errors import StoreUnavailable
from issuetracker.firestore import MIN_ATTEMPT, call_options, store_errors

logger = logging.getLogger(__name__)

T = TypeVar("T")

REPORTS_BUSY: Final = "Many reports of this failure arrive at once; try again."

# Issues created in one batch (one write each, two with an outbox event).
ADD_MANY: Final = 200


def _reported(issue: Issue, activity: Activity) -> dict[str, Any]:
    """The outbox event of a new issue."""
    return event_document(kind="reported", issue_id=issue.id, activity=activity)


class IssueCreates:
    """The repository's creates; see `FirestoreIssueRepository`."""

    client: firestore.Client
    issues: CollectionReference
    counter_shards: CollectionReference
    fingerprints: CollectionReference
    events: CollectionReference

    def _transact(self, run: Callable[[Transaction], T], what: str) -> T:
        raise NotImplementedError

    def add(
        self, *, issue: Issue, activity: Activity, event_id: str | None = None
    ) -> Issue:
        """One batch: the issue (must not exist), the outbox event `event_id`
        when given, and +1 on the counters of its status and priority and the
        total (buffered, when `buffers` is on: written within a second, with
        other creates'). The `created` entry of its history is not stored: the
        history derives it from the issue (`activities_page`)."""
        ref = self.issues.document(issue.id)
        document = issue_to_document(issue)
        batch = self.client.batch()
        batch.create(ref, document)
        if event_id:
            batch.set(self.events.document(event_id), _reported(issue, activity))
        try:
            self._commit_counted(
                batch, counter_moves(None, document), "creating an issue"
            )
        except google_exceptions.AlreadyExists:
            # The precondition failed, so the batch wrote nothing; the id may be
            # this very report's, committed by an earlier attempt or request.
            raise IssueExists(read_issue(ref.get(**call_options()))) from None
        return issue

    def _commit_counted(
        self, batch: WriteBatch, moves: Mapping[CounterKey, int], what: str
    ) -> None:
        """Commit `batch` with the counter `moves`: in it, or (buffering on)
        into the process's buffer once it is committed."""
        buffer = write_buffer()
        if not buffer.enabled:
            add_moves(batch, random_shard(self.counter_shards), moves)
        with store_errors(what):
            batch.commit(**call_options())
        if buffer.enabled:
            buffer.add_moves(moves)

    def add_many(
        self, *, items: list[tuple[Issue, Activity, str | None]]
    ) -> list[Issue]:
        """One batch (at most ADD_MANY issues): each issue, its outbox event
        (when it has an id), and the counter moves of all of them summed."""
        if len(items) > ADD_MANY:
            raise ValueError(f"add_many takes at most {ADD_MANY} issues.")
        batch = self.client.batch()
        moves: Counter[CounterKey] = Counter()
        for issue, activity, event_id in items:
            ref = self.issues.document(issue.id)
            document = issue_to_document(issue)
            batch.create(ref, document)
            if event_id:
                batch.set(self.events.document(event_id), _reported(issue, activity))
            moves.update(counter_moves(None, document))
        self._commit_counted(batch, moves, "creating issues")
        return [issue for issue, _, _ in items]

    def add_or_absorb(
        self,
        *,
        issue: Issue,
        activity: Activity,
        absorb: Absorption,
        chosen_id: bool = False,
        event_id: str | None = None,
    ) -> CreateResult:
        """A transaction on the fingerprint lock of `issue`'s reporter and
        fingerprint: read the lock and the issue it names; if `absorb` takes the
        report, +1 `occurrenceCount` and the new `lastSeenAt` on that issue (no
        activity, no counter); otherwise what `add` writes, plus the lock naming
        the new issue.

        Two concurrent reports read the same lock, so one of them commits and
        the other runs again and finds the issue the first one made. As in
        `add`, the new issue's `created` history entry is derived, not stored. `absorb`
        must be pure (Firestore may run it again on contention).

        With buffering on, a report the lock's issue absorbs is counted in the
        process's buffer instead (`folding`): the issue and its lock take no
        write per report.
        """
        if not issue.fingerprint:
            raise ValueError("add_or_absorb needs an issue with a fingerprint.")
        lock_key = fingerprint_key(issue.reporter_id, issue.fingerprint)
        buffer = write_buffer()

        def fold() -> CreateResult | None:
            return fold_buffered(
                self.client,
                issue=issue,
                lock_key=lock_key,
                absorb=absorb,
                chosen_id=chosen_id,
            )

        if (folded := fold()) is not None:
            return folded
        # One transaction at a time per lock in this process, first come first
        # served: concurrent reports of one failure queue instead of aborting
        # each other's transactions until the deadline (and, buffering on, the
        # later ones then find the issue the first one made).
        with deadline(settings.FIRESTORE_TIMEOUT) as limit:
            try:
                with document_queues.hold(
                    (f"{FINGERPRINTS}/{lock_key}",), within=limit, reserve=MIN_ATTEMPT
                ):
                    if (folded := fold()) is not None:
                        return folded
                    result = self._add_or_absorb(
                        issue, activity, absorb, lock_key, chosen_id, event_id
                    )
                    if buffer.enabled and not result.replayed:
                        buffer.remember(lock_key, result.issue)
                    return result
            except DeadlineReached:
                raise StoreUnavailable(REPORTS_BUSY) from None

    def _add_or_absorb(
        self,
        issue: Issue,
        activity: Activity,
        absorb: Absorption,
        lock_key: str,
        chosen_id: bool,
        event_id: str | None,
    ) -> CreateResult:
        """`add_or_absorb`'s transaction."""
        lock_ref = self.fingerprints.document(lock_key)
        new_ref = self.issues.document(issue.id)
        document = issue_to_document(issue)
        lock = {
            ISSUE_ID: issue.id,
            REPORTER: issue.reporter_id,
            FINGERPRINT: issue.fingerprint,
            CREATED: issue.created_at,
        }
        moves = counter_moves(None, document)
        # Buffering on, the counter moves wait in the buffer (written after
        # the commit, as `add`'s): new failures reported side by side then
        # contend on no counter shard.
        buffer = write_buffer()
        shard = None if buffer.enabled else random_shard(self.counter_shards)

        @firestore.transactional
        def run(transaction: Transaction) -> CreateResult:
            if chosen_id:
                taken = new_ref.get(transaction=transaction, **call_options())
                if taken.exists:
                    raise IssueExists(read_issue(taken))
            held = lock_ref.get(transaction=transaction, **call_options())
            holder = lock_holder(self.issues, held, transaction=transaction)
            if chosen_id and holder is not None and issue.id in holder[1].report_ids:
                return CreateResult(issue=holder[1], created=False, replayed=True)
            absorbed = absorb(holder[1]) if holder is not None else None
            if holder is not None and absorbed is not None:
                snapshot, current = holder
                stored = (snapshot.to_dict() or {}).get(OCCURRENCES)
                step = absorbed.occurrence_count - current.occurrence_count
                occurrence: dict[str, Any] = {
                    # The transaction holds the read, so Increment adds to the
                    # count read; a document lacking it gets the whole.
                    OCCURRENCES: firestore.Increment(step)
                    if isinstance(stored, int)
                    else absorbed.occurrence_count,
                    LAST_SEEN: absorbed.last_seen_at,
                }
                seen = absorbed.last_seen_at or datetime.now(UTC)
                hours = merged(
                    current.hourly_occurrences, {hour_key(seen): step}, now=seen
                )
                occurrence[HOURLY] = hours
                absorbed = replace(absorbed, hourly_occurrences=tuple(hours.items()))
                if absorbed.report_ids != current.report_ids:
                    occurrence[REPORT_IDS] = list(absorbed.report_ids)
                transaction.update(snapshot.reference, occurrence)
                return CreateResult(issue=absorbed, created=False)
            transaction.create(new_ref, document)
            if shard is not None:
                add_moves(transaction, shard, moves)
            if event_id:
                transaction.set(
                    self.events.document(event_id), _reported(issue, activity)
                )
            if held.exists:
                transaction.set(lock_ref, lock)
            else:
                transaction.create(lock_ref, lock)
            return CreateResult(issue=issue, created=True)

        result: CreateResult = self._transact(run, "reporting an issue")
        if result.created and shard is None:
            buffer.add_moves(moves)
        return result
