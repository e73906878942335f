"""The trash: deleted issues, kept to be restored until they are purged.

`trash/{issueId}` holds the issue document exactly as it was stored, plus
`deletedAt` and `deletedBy`. Moving an issue there (and back) is one
transaction that also moves the counters, so an issue is always in exactly one
of `issues` and `trash`, and the counters count only `issues`; it takes the
issue's turn among this process's writers of it, as updates do. Comments and
activities stay where they are, under `issues/{issueId}/...`: every read of them
goes through their issue, which is then absent (404), so nothing shows them.

A purge deletes a trashed issue for good: it marks the entry `purging` (restore
then refuses it), deletes the comments and activities in batches and deletes the
entry last. A failure half-way leaves the marked entry, which the next purge
finishes; no issue is ever visible without its history.

Known limits: the dashboard's count of resolutions (a collection-group query
over all history) still counts a trashed issue's past resolutions; an issue
created with a client-chosen id that is in the trash shares that id's history.
"""

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, Final, TypeVar, cast

from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter
from google.cloud.firestore_v1.query import Query
from google.cloud.firestore_v1.transaction import Transaction

from issues.domain import PAGE_MAX, Issue, Page, TrashedIssue
from issues.store.counters import (
    add_moves,
    counter_moves,
    counter_shards,
    random_shard,
)
from issues.store.documents import (
    ACTIVITIES,
    BUSY,
    COMMENTS,
    ISSUES,
    Snapshot,
    _timestamp,
    issue_from_document,
)
from issues.store.queries import ordered, query_key, run_page
from issuetracker.errors import Conflict, NotFound
from issuetracker.firestore import (
    call_options,
    document_turn,
    get_client,
    run_transaction,
    store_errors,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")

TRASH: Final = "trash"
DELETED_AT, DELETED_BY, PURGING = "deletedAt", "deletedBy", "purging"
TRASH_FIELDS: Final = frozenset({DELETED_AT, DELETED_BY, PURGING})
# Subcollection deletes go in batches of this many writes (Firestore allows 500).
PURGE_BATCH: Final = 400
_ORDERS: Final = ((DELETED_AT, Query.DESCENDING),)


def trashed_from_document(issue_id: str, data: dict[str, Any]) -> TrashedIssue:
    """A trash entry as a TrashedIssue; ValueError when unreadable."""
    deleted_at = _timestamp(data.get(DELETED_AT), DELETED_AT)
    if deleted_at is None:
        raise ValueError("deletedAt is missing")
    by = data.get(DELETED_BY)
    return TrashedIssue(
        issue=issue_from_document(issue_id, data),
        deleted_at=deleted_at,
        deleted_by=by if isinstance(by, str) else "",
    )


def _read_or_skip(row: Snapshot) -> TrashedIssue | None:
    try:
        return trashed_from_document(row.id, row.to_dict() or {})
    except ValueError as error:
        logger.error("Trash entry %s skipped in a list: %s", row.id, error)
        return None


class FirestoreIssueTrash:
    """`IssueTrash` over the `trash` collection."""

    def __init__(self, client: firestore.Client | None = None) -> None:
        self.client = client or get_client()
        self.issues = self.client.collection(ISSUES)
        self.trash = self.client.collection(TRASH)
        self.counter_shards = counter_shards(self.client)

    def _transact(self, run: Callable[[Transaction], T], what: str) -> T:
        return run_transaction(self.client, run, what=what, busy=BUSY)

    def _transact_in_turn(
        self, issue_id: str, run: Callable[[Transaction], T], what: str
    ) -> T:
        """`_transact` in the issue's turn among this process's writers of it,
        the queue updates take (`issues.store.updates`): a move or restore
        concurrent with edits of the issue waits its turn instead of aborting
        their transactions (and being aborted) until the deadline."""
        with document_turn(self.issues.document(issue_id).path, busy=BUSY):
            return self._transact(run, what)

    def move(self, *, issue_id: str, deleted_by: str, deleted_at: datetime) -> bool:
        """One transaction: read the issue, write it to the trash with who and
        when, delete it and take it off the counters; False if absent."""
        ref = self.issues.document(issue_id)
        trash_ref = self.trash.document(issue_id)
        shard = random_shard(self.counter_shards)

        @firestore.transactional
        def run(transaction: Transaction) -> bool:
            snapshot = ref.get(transaction=transaction, **call_options())
            if not snapshot.exists:
                return False
            data = snapshot.to_dict() or {}
            entry = {k: v for k, v in data.items() if k not in TRASH_FIELDS}
            entry.update({DELETED_AT: deleted_at, DELETED_BY: deleted_by})
            transaction.set(trash_ref, entry)
            transaction.delete(ref)
            add_moves(transaction, shard, counter_moves(data, None))
            return True

        moved: bool = self._transact_in_turn(
            issue_id, run, "moving an issue to the trash"
        )
        return moved

    def restore(self, *, issue_id: str) -> Issue:
        """One transaction: the trash entry back to `issues` (counters included).

        NotFound when the trash has no such entry; Conflict when an issue with
        that id exists again or the entry is being purged.
        """
        ref = self.issues.document(issue_id)
        trash_ref = self.trash.document(issue_id)
        shard = random_shard(self.counter_shards)

        @firestore.transactional
        def run(transaction: Transaction) -> dict[str, Any]:
            entry = trash_ref.get(transaction=transaction, **call_options())
            if not entry.exists:
                raise NotFound("No issue with this id in the trash.")
            data = entry.to_dict() or {}
            if data.get(PURGING):
                raise Conflict("This issue is being purged; it cannot be restored.")
            if ref.get(transaction=transaction, **call_options()).exists:
                raise Conflict(
                    f"An issue {issue_id} exists again; it cannot be restored over it."
                )
            document = {k: v for k, v in data.items() if k not in TRASH_FIELDS}
            transaction.create(ref, document)
            transaction.delete(trash_ref)
            add_moves(transaction, shard, counter_moves(None, document))
            return document

        document = self._transact_in_turn(issue_id, run, "restoring an issue")
        return issue_from_document(issue_id, document)

    def get(self, *, issue_id: str) -> TrashedIssue | None:
        """One trash entry, or None."""
        with store_errors("reading the trash"):
            snapshot = self.trash.document(issue_id).get(**call_options())
        if not snapshot.exists:
            return None
        return trashed_from_document(snapshot.id, snapshot.to_dict() or {})

    def page(self, *, limit: int, cursor: str | None) -> Page[TrashedIssue]:
        """Newest deletion first, cursor pages (single-field index on deletedAt)."""
        key = query_key((TRASH,))
        return run_page(
            ordered(cast(Query, self.trash), _ORDERS, key, cursor),
            orders=_ORDERS,
            key=key,
            limit=min(limit, PAGE_MAX),
            read=_read_or_skip,
            keeps=None,
            what="listing the trash",
        )

    def expired_ids(self, *, before: datetime, limit: int) -> list[str]:
        """Ids of entries deleted before `before`, oldest first (a purge removes
        them, so the next call returns the next ones)."""
        query = (
            self.trash.where(filter=FieldFilter(DELETED_AT, "<", before))
            .order_by(DELETED_AT)
            .select([])
            .limit(limit)
        )
        with store_errors("listing expired trash"):
            return [row.id for row in query.stream(**call_options())]

    def purge(self, *, issue_id: str, before: datetime) -> bool:
        """Delete a trashed issue deleted before `before` for good, with its
        comments and activities (see the module docstring); False when there
        is no such entry (restored, or deleted again since)."""
        ref = self.issues.document(issue_id)
        trash_ref = self.trash.document(issue_id)

        @firestore.transactional
        def mark(transaction: Transaction) -> str:
            entry = trash_ref.get(transaction=transaction, **call_options())
            if not entry.exists:
                return "gone"
            deleted_at = _timestamp((entry.to_dict() or {}).get(DELETED_AT), "d")
            if deleted_at is not None and deleted_at >= before:
                return "gone"
            if ref.get(transaction=transaction, **call_options()).exists:
                # The id was taken again: the history under it is the live one's.
                transaction.delete(trash_ref)
                return "entry-only"
            transaction.update(trash_ref, {PURGING: True})
            return "marked"

        outcome = self._transact(mark, "purging the trash")
        if outcome == "gone":
            return False
        if outcome == "marked":
            with store_errors("purging the trash"):
                for name in (COMMENTS, ACTIVITIES):
                    self._delete_all(ref.collection(name))
                trash_ref.delete(**call_options())
        return True

    def _delete_all(self, collection: Any) -> None:
        while True:
            rows = list(
                collection.select([]).limit(PURGE_BATCH).stream(**call_options())
            )
            if not rows:
                return
            batch = self.client.batch()
            for row in rows:
                batch.delete(row.reference)
            batch.commit(**call_options())
