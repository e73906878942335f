"""`FirestoreIssueRepository`: issues, comments and activities in Firestore.

The only class the services' writes and reads go through (`IssueRepository`).
Every call passes `call_options()`, so none waits on the library's defaults, and
transient store failures become `StoreUnavailable` (503). A document that cannot
be read is logged and skipped in lists, and reported as such by `get`.
"""

import logging
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
    Issue,
    IssueCounts,
    IssueFilters,
    Page,
    UpdateResult,
)
from issues.store import Mutation
from issues.store.backfill import BackfillReport, backfill_issues, rebuild_counts
from issues.store.buffers import write_buffer
from issues.store.counters import (
    ISSUE_COUNTS,
    SHARDS,
    STATS,
    add_moves,
    counter_moves,
    random_shard,
    read_counts,
    with_moves,
)
from issues.store.creates import IssueCreates
from issues.store.documents import (
    ACTIVITIES,
    AUTHOR,
    COMMENT_COUNT,
    COMMENTS,
    CONTENT,
    CREATED,
    FINGERPRINTS,
    ISSUE_FIELDS,
    ISSUE_ID,
    ISSUES,
    PRIORITY_RANK,
    SEARCH_WORDS,
    UPDATED,
    VERSION,
    Snapshot,
    activity_from_document,
    activity_to_document,
    comment_from_document,
    read_issue,
    read_issue_or_skip,
    repairs,
    stored_field,
)
from issues.store.folding import with_pending
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


class FirestoreIssueRepository(IssueCreates):
    """`IssueRepository` over the `issues` collection and its subcollections
    (creates and reports in `creates.IssueCreates`)."""

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
