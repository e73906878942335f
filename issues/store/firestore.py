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
from issues.store.counters import (
    ISSUE_COUNTS,
    SHARDS,
    STATS,
    add_moves,
    counter_moves,
    random_shard,
    read_counts,
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
    WATCHERS,
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
from issues.store.outbox import EVENTS, event_document
from issues.store.queries import (
    aggregate_count,
    duplicates_query,
    ordered,
    plan_issue_query,
    query_key,
    run_page,
    where_equal,
)
from issues.store.trash import FirestoreIssueTrash
from issuetracker.errors import NotFound
from issuetracker.firestore import (
    call_options,
    get_client,
    run_transaction,
    store_errors,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")


class FirestoreIssueRepository:
    """`IssueRepository` over the `issues` collection and its subcollections."""

    def __init__(self, client: firestore.Client | None = None) -> None:
        self.client = client or get_client()
        self.issues = self.client.collection(ISSUES)
        self.counter_shards = (
            self.client.collection(STATS).document(ISSUE_COUNTS).collection(SHARDS)
        )
        self.fingerprints = self.client.collection(FINGERPRINTS)
        self.events = self.client.collection(EVENTS)

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

    def add(
        self, *, issue: Issue, activity: Activity, event_id: str | None = None
    ) -> Issue:
        """One batch: the issue (must not exist), its `created` activity, +1 on
        the counters of its status and priority and the total, and the outbox
        event `event_id` when given."""
        ref = self.issues.document(issue.id)
        document = issue_to_document(issue)
        batch = self.client.batch()
        batch.create(ref, document)
        batch.set(ref.collection(ACTIVITIES).document(), activity_to_document(activity))
        add_moves(
            batch, random_shard(self.counter_shards), counter_moves(None, document)
        )
        if event_id:
            batch.set(
                self.events.document(event_id),
                event_document(kind="reported", issue_id=issue.id, activity=activity),
            )
        try:
            with store_errors("creating an issue"):
                batch.commit(**call_options())
        except google_exceptions.AlreadyExists:
            # The precondition failed, so the batch wrote nothing; the id may be
            # this very report's, committed by an earlier attempt or request.
            raise IssueExists(read_issue(ref.get(**call_options()))) from None
        return issue

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
        the other runs again and finds the issue the first one made. `absorb`
        must be pure (Firestore may run it again on contention).
        """
        if not issue.fingerprint:
            raise ValueError("add_or_absorb needs an issue with a fingerprint.")
        lock_ref = self.fingerprints.document(
            fingerprint_key(issue.reporter_id, issue.fingerprint)
        )
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
            if event_id:
                transaction.set(
                    self.events.document(event_id),
                    event_document(
                        kind="reported", issue_id=issue.id, activity=activity
                    ),
                )
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
        """One document read."""
        with store_errors("reading an issue"):
            snapshot = self.issues.document(issue_id).get(**call_options())
        return read_issue(snapshot) if snapshot.exists else None

    def update(
        self, *, issue_id: str, mutate: Mutation, event_id: str | None = None
    ) -> UpdateResult:
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
            if event_id:
                transaction.set(
                    self.events.document(event_id),
                    event_document(
                        kind="updated", issue_id=issue_id, activity=result.activity
                    ),
                )
            return result

        result: UpdateResult = self._transact(run, "updating an issue")
        return result

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
        """The counters: every shard read in one call and summed."""
        return read_counts(self.client, self.counter_shards)

    def rebuild_counts(self) -> IssueCounts:
        """Recount with aggregation queries and rewrite the counters (see
        `issues.store.backfill.rebuild_counts`)."""
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
