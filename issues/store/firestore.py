"""`FirestoreIssueRepository`: issues, comments and activities in Firestore.

The only class the services' writes and reads go through (`IssueRepository`).
Every call passes `call_options()`, so none waits on the library's defaults, and
transient store failures become `StoreUnavailable` (503). A document that cannot
be read is logged and skipped in lists, and reported as such by `get`.
"""

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from google.api_core import exceptions as google_exceptions
from google.cloud import firestore
from google.cloud.firestore_v1.document import DocumentReference
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
    add_moves,
    counter_moves,
    counter_shards,
    random_shard,
    read_counts,
    with_moves,
)
from issues.store.creates import IssueCreates
from issues.store.documents import (
    ACTIVITIES,
    AUTHOR,
    BUSY,
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
    WATCHERS,
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
from issues.store.outbox import EVENTS, event_document
from issues.store.queries import (
    aggregate_count,
    duplicates_query,
    encode_cursor,
    ordered,
    plan_issue_query,
    query_key,
    run_page,
    where_equal,
)
from issues.store.trash import FirestoreIssueTrash
from issues.store.updates import Pending, in_turn
from issues.workflow import created_entry
from issuetracker.errors import NotFound
from issuetracker.firestore import (
    call_options,
    get_client,
    run_transaction,
    store_errors,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")


class FirestoreIssueRepository(IssueCreates):
    """`IssueRepository` over the `issues` collection and its subcollections
    (creates and reports in `creates.IssueCreates`)."""

    def __init__(self, client: firestore.Client | None = None) -> None:
        self.client = client or get_client()
        self.issues = self.client.collection(ISSUES)
        self.counter_shards = counter_shards(self.client)
        self.fingerprints = self.client.collection(FINGERPRINTS)
        self.events = self.client.collection(EVENTS)

    def _transact(self, run: Callable[[Transaction], T], what: str) -> T:
        """Run a `@firestore.transactional` function within FIRESTORE_TIMEOUT."""
        return run_transaction(self.client, run, what=what, busy=BUSY)

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

    def update(
        self, *, issue_id: str, mutate: Mutation, event_id: str | None = None
    ) -> UpdateResult:
        """A transaction: read the issue, apply `mutate`, write it, its activity and
        the counter moves of a status or priority change (-1 old, +1 new).

        The threads of this process that update one issue take turns, and a turn
        applies every update queued by then in one transaction (`updates.in_turn`),
        all within FIRESTORE_TIMEOUT. `mutate` must be pure (Firestore may run it
        again on contention); errors it raises leave nothing of it written,
        counters included, and refuse no other caller's update.
        """
        ref = self.issues.document(issue_id)
        return in_turn(
            ref.path,
            Pending(mutate=mutate, event_id=event_id),
            lambda batch: self._apply(ref, batch),
        )

    def _apply(self, ref: DocumentReference, batch: list[Pending]) -> None:
        """One transaction applying the updates of `batch` in order, each on the
        issue as the one before left it; sets each one's outcome."""
        shard = random_shard(self.counter_shards)

        @firestore.transactional
        def run(transaction: Transaction) -> None:
            snapshot = ref.get(transaction=transaction, **call_options())
            if not snapshot.exists:
                raise NotFound("No issue with this id.")
            data = snapshot.to_dict() or {}
            first = current = read_issue(snapshot)
            for pending in batch:
                result = pending.apply(current)
                if result is None or result.activity is None:
                    continue
                current = result.issue
                transaction.set(
                    ref.collection(ACTIVITIES).document(),
                    activity_to_document(result.activity),
                )
                if pending.event_id:
                    transaction.set(
                        self.events.document(pending.event_id),
                        event_document(
                            kind="updated", issue_id=ref.id, activity=result.activity
                        ),
                    )
            if current is first:
                return
            writes = repairs(data, first)
            writes.update(
                {
                    ISSUE_FIELDS[name]: stored_field(getattr(current, name))
                    for name in ISSUE_FIELDS
                    if getattr(first, name) != getattr(current, name)
                }
            )
            writes[VERSION] = current.version
            writes[SEARCH_WORDS] = current.search_words
            writes[PRIORITY_RANK] = current.priority.rank
            transaction.update(ref, writes)
            add_moves(transaction, shard, counter_moves(data, {**data, **writes}))

        self._transact(run, "updating an issue")

    def duplicate_ids(
        self, *, issue_id: str, reporter_id: str | None = None, limit: int
    ) -> list[str]:
        """One equality query, ids only (see `duplicates_query`)."""
        query = duplicates_query(self.issues, issue_id, reporter_id)
        with store_errors("listing duplicates"):
            return [row.id for row in query.limit(limit).stream(**call_options())]

    def delete(self, *, issue_id: str, deleted_by: str, deleted_at: datetime) -> bool:
        """Move the issue to the trash in one transaction (`trash.move`)."""
        return FirestoreIssueTrash(self.client).move(
            issue_id=issue_id, deleted_by=deleted_by, deleted_at=deleted_at
        )

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

    def add_comment(
        self,
        *,
        comment: Comment,
        activity: Activity,
        event_id: str | None = None,
        watchers: tuple[str, ...] = (),
    ) -> Comment:
        """One batch: comment, `commented` activity, counter, updatedAt, the new
        `watchers` and the outbox event `event_id` when given."""
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
        issue_writes: dict[str, Any] = {
            COMMENT_COUNT: firestore.Increment(1),
            UPDATED: comment.created_at,
        }
        if watchers:
            issue_writes[WATCHERS] = firestore.ArrayUnion(list(watchers))
        batch.update(ref, issue_writes)
        if event_id:
            batch.set(
                self.events.document(event_id),
                event_document(
                    kind="commented",
                    issue_id=comment.issue_id,
                    activity=activity,
                    comment_id=comment_ref.id,
                ),
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

    def watch(self, *, issue_id: str, user_id: str, watching: bool) -> bool:
        """Add `user_id` to (or take it off) the issue's `watcherIds`, one update
        that races with no other write; False when there is no such issue."""
        change = firestore.ArrayUnion if watching else firestore.ArrayRemove
        with store_errors("changing watchers"):
            try:
                self.issues.document(issue_id).update(
                    {WATCHERS: change([user_id])}, **call_options()
                )
            except google_exceptions.NotFound:
                return False
        return True

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
        self, *, issue: Issue, limit: int, cursor: str | None
    ) -> Page[Activity]:
        """Oldest first; unreadable activities are logged and skipped. The first
        page of an issue whose `created` entry is derived opens with it."""

        def read(row: Snapshot) -> Activity | None:
            try:
                return activity_from_document(row.id, row.to_dict() or {})
            except ValueError as error:
                logger.error("Activity %s/%s skipped: %s", issue.id, row.id, error)
                return None

        page = self._sub_page(issue.id, ACTIVITIES, read, limit, cursor)
        if cursor is not None or not issue.created_entry_derived:
            return page
        items = [created_entry(issue), *page.items]
        if len(items) <= limit:
            return Page(items=items, next_cursor=page.next_cursor)
        last = items[limit - 1]
        return Page(
            items=items[:limit],
            next_cursor=encode_cursor(
                query_key((ACTIVITIES, issue.id)), [last.created_at, last.id]
            ),
        )
