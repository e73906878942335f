"""`FirestoreIssueRepository`: issues, comments and activities in Firestore.

The only class the services' writes and reads go through (`IssueRepository`).
Every call passes `call_options()`, so none waits on the library's defaults, and
transient store failures become `StoreUnavailable` (503). A document that cannot
be read is logged and skipped in lists, and reported as such by `get`.
"""

import logging
from collections import Counter
from collections.abc import Callable
from typing import Any, Final, TypeVar

from google.api_core import exceptions as google_exceptions
from google.cloud import firestore
from google.cloud.firestore_v1.query import Query
from google.cloud.firestore_v1.transaction import Transaction

from issues.domain import (
    PAGE_MAX,
    Activity,
    Comment,
    CreateResult,
    Issue,
    IssueCounts,
    IssueFilters,
    Page,
    UpdateResult,
)
from issues.store import Absorption, IssueExists, Mutation
from issues.store.backfill import BackfillReport, backfill_issues, rebuild_counts
from issues.store.buffers import write_buffer
from issues.store.counters import (
    ISSUE_COUNTS,
    SHARDS,
    STATS,
    CounterKey,
    add_moves,
    counter_moves,
    random_shard,
    read_counts,
    with_moves,
)
from issues.store.documents import (
    ACTIVITIES,
    AUTHOR,
    COMMENT_COUNT,
    COMMENTS,
    CONTENT,
    CREATED,
    FINGERPRINT,
    FINGERPRINTS,
    ISSUE_FIELDS,
    ISSUE_ID,
    ISSUES,
    LAST_SEEN,
    OCCURRENCES,
    PRIORITY_RANK,
    REPORT_IDS,
    REPORTER,
    SEARCH_WORDS,
    UPDATED,
    VERSION,
    Snapshot,
    activity_from_document,
    activity_to_document,
    comment_from_document,
    fingerprint_key,
    issue_from_document,
    issue_to_document,
    read_issue,
    read_issue_or_skip,
    repairs,
    stored_field,
)
from issues.store.folding import fold_buffered, with_pending
from issues.store.queries import (
    aggregate_count,
    ordered,
    plan_issue_query,
    query_key,
    run_page,
    where_equal,
)
from issuetracker.errors import NotFound
from issuetracker.firestore import (
    call_options,
    get_client,
    run_transaction,
    store_errors,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Deletes go in batches of this many writes (Firestore allows 500).
DELETE_BATCH: Final = 400
# Issues created in one batch (two writes each, with their activity).
ADD_MANY: Final = 200


class FirestoreIssueRepository:
    """`IssueRepository` over the `issues` collection and its subcollections."""

    def __init__(self, client: firestore.Client | None = None) -> None:
        self.client = client or get_client()
        self.issues = self.client.collection(ISSUES)
        self.counter_shards = (
            self.client.collection(STATS).document(ISSUE_COUNTS).collection(SHARDS)
        )
        self.fingerprints = self.client.collection(FINGERPRINTS)

    def _transact(self, run: Callable[[Transaction], T], what: str) -> T:
        """Run a `@firestore.transactional` function with bounded calls."""
        return run_transaction(
            self.client,
            run,
            what=what,
            busy="The issue is being changed by many callers; try again.",
        )

    def new_id(self) -> str:
        """A fresh random document id (Firestore's own generator, no call)."""
        return str(self.issues.document().id)

    def add(self, *, issue: Issue, activity: Activity) -> Issue:
        """One batch: the issue (must not exist), its `created` activity and +1 on
        the counters of its status and priority and the total (buffered, when
        `buffers` is on: written within a second, with other creates')."""
        ref = self.issues.document(issue.id)
        document = issue_to_document(issue)
        batch = self.client.batch()
        batch.create(ref, document)
        batch.set(ref.collection(ACTIVITIES).document(), activity_to_document(activity))
        buffer = write_buffer()
        moves = counter_moves(None, document)
        if not buffer.enabled:
            add_moves(batch, random_shard(self.counter_shards), moves)
        try:
            with store_errors("creating an issue"):
                batch.commit(**call_options())
        except google_exceptions.AlreadyExists:
            # The precondition failed, so the batch wrote nothing; the id may be
            # this very report's, committed by an earlier attempt or request.
            raise IssueExists(read_issue(ref.get(**call_options()))) from None
        if buffer.enabled:
            buffer.add_moves(moves)
        return issue

    def add_many(self, *, items: list[tuple[Issue, Activity]]) -> list[Issue]:
        """One batch (at most ADD_MANY issues): each issue, its `created`
        activity, and the counter moves of all of them summed."""
        if len(items) > ADD_MANY:
            raise ValueError(f"add_many takes at most {ADD_MANY} issues.")
        batch = self.client.batch()
        moves: Counter[CounterKey] = Counter()
        for issue, activity in items:
            ref = self.issues.document(issue.id)
            document = issue_to_document(issue)
            batch.create(ref, document)
            batch.set(
                ref.collection(ACTIVITIES).document(), activity_to_document(activity)
            )
            moves.update(counter_moves(None, document))
        buffer = write_buffer()
        if not buffer.enabled:
            add_moves(batch, random_shard(self.counter_shards), moves)
        with store_errors("creating issues"):
            batch.commit(**call_options())
        if buffer.enabled:
            buffer.add_moves(moves)
        return [issue for issue, _ in items]

    def add_or_absorb(
        self,
        *,
        issue: Issue,
        activity: Activity,
        absorb: Absorption,
        chosen_id: bool = False,
    ) -> CreateResult:
        """A transaction on the fingerprint lock of `issue`'s reporter and
        fingerprint: read the lock and the issue it names; if `absorb` takes the
        report, +1 `occurrenceCount` and the new `lastSeenAt` on that issue (no
        activity, no counter); otherwise what `add` writes, plus the lock naming
        the new issue.

        Two concurrent reports read the same lock, so one of them commits and
        the other runs again and finds the issue the first one made. `absorb`
        must be pure (Firestore may run it again on contention).

        With buffering on, a report the lock's issue absorbs is counted in the
        process's buffer instead (`folding`): the issue and its lock take no
        write per report.
        """
        if not issue.fingerprint:
            raise ValueError("add_or_absorb needs an issue with a fingerprint.")
        lock_key = fingerprint_key(issue.reporter_id, issue.fingerprint)
        buffer = write_buffer()
        if not buffer.enabled:
            return self._add_or_absorb(issue, activity, absorb, lock_key, chosen_id)

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
        # One transaction at a time per lock in this process: the others then
        # find the issue it made instead of all contending for the lock.
        with buffer.key_lock(lock_key):
            if (folded := fold()) is not None:
                return folded
            result = self._add_or_absorb(issue, activity, absorb, lock_key, chosen_id)
            if not result.replayed:
                buffer.remember(lock_key, result.issue)
            return result

    def _add_or_absorb(
        self,
        issue: Issue,
        activity: Activity,
        absorb: Absorption,
        lock_key: str,
        chosen_id: bool,
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
        shard = random_shard(self.counter_shards)

        @firestore.transactional
        def run(transaction: Transaction) -> CreateResult:
            if chosen_id:
                taken = new_ref.get(transaction=transaction, **call_options())
                if taken.exists:
                    raise IssueExists(read_issue(taken))
            held = lock_ref.get(transaction=transaction, **call_options())
            holder = self._lock_holder(transaction, held)
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
                if absorbed.report_ids != current.report_ids:
                    occurrence[REPORT_IDS] = list(absorbed.report_ids)
                transaction.update(snapshot.reference, occurrence)
                return CreateResult(issue=absorbed, created=False)
            transaction.create(new_ref, document)
            transaction.set(
                new_ref.collection(ACTIVITIES).document(),
                activity_to_document(activity),
            )
            add_moves(transaction, shard, counter_moves(None, document))
            if held.exists:
                transaction.set(lock_ref, lock)
            else:
                transaction.create(lock_ref, lock)
            return CreateResult(issue=issue, created=True)

        result: CreateResult = self._transact(run, "reporting an issue")
        return result

    def _lock_holder(
        self, transaction: Transaction, lock: Snapshot
    ) -> tuple[Snapshot, Issue] | None:
        """The issue a fingerprint lock names, read in `transaction`; None when
        there is no lock, or its issue is deleted or unreadable (logged)."""
        holder_id = (lock.to_dict() or {}).get(ISSUE_ID) if lock.exists else None
        if not isinstance(holder_id, str) or not holder_id:
            return None
        snapshot = self.issues.document(holder_id).get(
            transaction=transaction, **call_options()
        )
        if not snapshot.exists:
            return None
        try:
            issue = issue_from_document(snapshot.id, snapshot.to_dict() or {})
        except ValueError as error:
            logger.error(
                "Issue %s unreadable; a new issue takes its reports: %s",
                snapshot.id,
                error,
            )
            return None
        return snapshot, issue

    def get(self, issue_id: str) -> Issue | None:
        """One document read (plus this process's occurrences not yet written)."""
        with store_errors("reading an issue"):
            snapshot = self.issues.document(issue_id).get(**call_options())
        if not snapshot.exists:
            return None
        return with_pending(read_issue(snapshot), write_buffer().pending(issue_id))

    def update(self, *, issue_id: str, mutate: Mutation) -> UpdateResult:
        """A transaction: read the issue, apply `mutate`, write it, its activity and
        the counter moves of a status or priority change (-1 old, +1 new).

        `mutate` must be pure (Firestore may run it again on contention); errors it
        raises leave nothing written, counters included.
        """
        ref = self.issues.document(issue_id)
        shard = random_shard(self.counter_shards)

        @firestore.transactional
        def run(transaction: Transaction) -> UpdateResult:
            snapshot = ref.get(transaction=transaction, **call_options())
            if not snapshot.exists:
                raise NotFound("No issue with this id.")
            data = snapshot.to_dict() or {}
            current = read_issue(snapshot)
            result = mutate(current)
            if result.activity is None:
                return result
            before, after = current, result.issue
            writes = repairs(data, current)
            writes.update(
                {
                    ISSUE_FIELDS[name]: stored_field(getattr(after, name))
                    for name in ISSUE_FIELDS
                    if getattr(before, name) != getattr(after, name)
                }
            )
            writes[VERSION] = after.version
            writes[SEARCH_WORDS] = after.search_words
            writes[PRIORITY_RANK] = after.priority.rank
            transaction.update(ref, writes)
            transaction.set(
                ref.collection(ACTIVITIES).document(),
                activity_to_document(result.activity),
            )
            add_moves(transaction, shard, counter_moves(data, {**data, **writes}))
            return result

        result: UpdateResult = self._transact(run, "updating an issue")
        return result

    def delete(self, *, issue_id: str) -> bool:
        """Delete comments and activities in batches, then the issue itself in a
        transaction that takes it off the counters as it is stored then. The
        transaction's read is the only read of the issue (False if absent)."""
        ref = self.issues.document(issue_id)
        shard = random_shard(self.counter_shards)

        @firestore.transactional
        def remove(transaction: Transaction) -> bool:
            snapshot = ref.get(transaction=transaction, **call_options())
            if not snapshot.exists:
                return False  # deleted meanwhile, and counted off by that delete
            transaction.delete(ref)
            add_moves(transaction, shard, counter_moves(snapshot.to_dict(), None))
            return True

        with store_errors("deleting an issue"):
            for name in (COMMENTS, ACTIVITIES):
                sub = ref.collection(name)
                while True:
                    rows = list(
                        sub.select([]).limit(DELETE_BATCH).stream(**call_options())
                    )
                    if not rows:
                        break
                    batch = self.client.batch()
                    for row in rows:
                        batch.delete(row.reference)
                    batch.commit(**call_options())
        removed: bool = self._transact(remove, "deleting an issue")
        return removed

    def list_page(
        self, *, filters: IssueFilters, limit: int, cursor: str | None
    ) -> Page[Issue]:
        """One query, `limit` (+1 to see if there is more) rows, no offsets."""
        plan = plan_issue_query(self.issues, filters, cursor)
        return run_page(
            plan.query,
            orders=plan.orders,
            key=plan.key,
            limit=min(limit, PAGE_MAX),
            read=read_issue_or_skip,
            keeps=plan.keeps if plan.has_residual else None,
            what="listing issues",
        )

    def count(self, *, filters: IssueFilters) -> int:
        """An aggregation query over the equality filters; no documents read."""
        with store_errors("counting issues"):
            return aggregate_count(where_equal(self.issues, filters))

    def counts(self) -> IssueCounts:
        """The counters: every shard read in one call and summed, plus this
        process's moves not yet written."""
        counts = read_counts(self.client, self.counter_shards)
        return with_moves(counts, write_buffer().pending_moves())

    def rebuild_counts(self) -> IssueCounts:
        """Recount with aggregation queries and rewrite the counters (see
        `issues.store.backfill.rebuild_counts`), after writing this process's
        buffered moves so the recount does not take them twice."""
        write_buffer().flush()
        return rebuild_counts(self.client, self.issues, self.counter_shards)

    def add_comment(self, *, comment: Comment, activity: Activity) -> Comment:
        """One batch: comment, `commented` activity, counter and updatedAt."""
        ref = self.issues.document(comment.issue_id)
        comment_ref = ref.collection(COMMENTS).document()
        batch = self.client.batch()
        batch.create(
            comment_ref,
            {
                ISSUE_ID: comment.issue_id,
                AUTHOR: comment.author_id,
                CONTENT: comment.content,
                CREATED: comment.created_at,
                UPDATED: comment.updated_at,
            },
        )
        batch.set(ref.collection(ACTIVITIES).document(), activity_to_document(activity))
        batch.update(
            ref,
            {COMMENT_COUNT: firestore.Increment(1), UPDATED: comment.created_at},
        )
        with store_errors("adding a comment"):
            try:
                batch.commit(**call_options())
            except google_exceptions.NotFound as error:
                raise NotFound("No issue with this id.") from error
        return Comment(
            id=comment_ref.id,
            issue_id=comment.issue_id,
            author_id=comment.author_id,
            content=comment.content,
            created_at=comment.created_at,
            updated_at=comment.updated_at,
        )

    def backfill(self, *, page_size: int = 300) -> BackfillReport:
        """Add what queries need to documents the Flask app wrote (see
        `issues.store.backfill.backfill_issues`); idempotent."""
        return backfill_issues(self.client, self.issues, page_size=page_size)

    def _sub_page(
        self,
        issue_id: str,
        name: str,
        read: Callable[[Snapshot], Any],
        limit: int,
        cursor: str | None,
    ) -> Page[Any]:
        orders = ((CREATED, Query.ASCENDING),)
        key = query_key((name, issue_id))
        collection = self.issues.document(issue_id).collection(name)
        return run_page(
            ordered(collection, orders, key, cursor),
            orders=orders,
            key=key,
            limit=min(limit, PAGE_MAX),
            read=read,
            keeps=None,
            what=f"listing {name}",
        )

    def comments_page(
        self, *, issue_id: str, limit: int, cursor: str | None
    ) -> Page[Comment]:
        """Oldest first; unreadable comments are logged and skipped."""

        def read(row: Snapshot) -> Comment | None:
            try:
                return comment_from_document(row.id, issue_id, row.to_dict() or {})
            except ValueError as error:
                logger.error("Comment %s/%s skipped: %s", issue_id, row.id, error)
                return None

        return self._sub_page(issue_id, COMMENTS, read, limit, cursor)

    def activities_page(
        self, *, issue_id: str, limit: int, cursor: str | None
    ) -> Page[Activity]:
        """Oldest first; unreadable activities are logged and skipped."""

        def read(row: Snapshot) -> Activity | None:
            try:
                return activity_from_document(row.id, row.to_dict() or {})
            except ValueError as error:
                logger.error("Activity %s/%s skipped: %s", issue_id, row.id, error)
                return None

        return self._sub_page(issue_id, ACTIVITIES, read, limit, cursor)
