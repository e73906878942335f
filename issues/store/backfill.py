"""Data migration of the Flask app's documents, and the counters' rebuild.

Operators run both through `manage.py backfill_issues`; each is idempotent.
"""

import logging
from dataclasses import dataclass
from typing import Any

from google.api_core import exceptions as google_exceptions
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter
from google.cloud.firestore_v1.query import Query
from google.cloud.firestore_v1.transaction import Transaction

from issues.domain import IssueCounts, Priority, Status
from issues.store.counters import COUNTER_SHARDS, NO_ISSUES, counts_to_shard
from issues.store.documents import (
    ASSIGNEE,
    BUSY,
    COMPONENT,
    DOCUMENT_ID,
    PRIORITY,
    PRIORITY_RANK,
    SEARCH_WORDS,
    STATUS,
    VERSION,
    issue_from_document,
    repairs,
)
from issues.store.queries import aggregate_count
from issuetracker.firestore import call_options, run_transaction, store_errors

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BackfillReport:
    """What `backfill` did."""

    scanned: int
    repaired: int
    unreadable: int


def backfill_issues(
    client: firestore.Client, issues: Any, *, page_size: int = 300
) -> BackfillReport:
    """Add what queries need to documents the Flask app wrote; idempotent.

    Writes `searchWords`, `priorityRank`, `version`, `assigneeId`, `component` and the
    camelCase ids and real timestamps of snake_case or ISO-text fields, without
    touching `updatedAt`. Pages through the collection by document id; a
    document changed meanwhile (update-time precondition) is read again.
    """
    scanned = repaired = unreadable = 0
    last: str | None = None
    while True:
        query = issues.order_by(DOCUMENT_ID).limit(page_size)
        if last is not None:
            query = query.start_after({DOCUMENT_ID: last})
        with store_errors("reading issues to backfill"):
            rows = list(query.stream(**call_options()))
        if not rows:
            return BackfillReport(scanned, repaired, unreadable)
        batch, pending = client.batch(), 0
        for row in rows:
            data = row.to_dict() or {}
            try:
                issue = issue_from_document(row.id, data)
            except ValueError as error:
                logger.error("Issue %s not backfilled: %s", row.id, error)
                unreadable += 1
                continue
            fixes = repairs(data, issue)
            derived = {
                SEARCH_WORDS: issue.search_words,
                PRIORITY_RANK: issue.priority.rank,
                VERSION: issue.version,
                ASSIGNEE: issue.assignee_id,
                # The triage queue sorts on it: a document without it is left out.
                COMPONENT: issue.component,
            }
            fixes.update(
                {
                    name: value
                    for name, value in derived.items()
                    if name not in data or data[name] != value
                }
            )
            if fixes:
                option = client.write_option(last_update_time=row.update_time)
                batch.update(row.reference, fixes, option=option)
                pending += 1
        with store_errors("backfilling issues"):
            try:
                if pending:
                    batch.commit(**call_options())
            except google_exceptions.FailedPrecondition:
                continue  # someone edited one of them: read the page again
        scanned += len(rows)
        repaired += pending
        last = rows[-1].id


def rebuild_counts(
    client: firestore.Client, issues: Any, counter_shards: Any
) -> IssueCounts:
    """Recount with aggregation queries (the total, each status, each priority)
    and write the counts to shard 0, zeroing the others, in one transaction.

    The transaction reads every shard first, so an issue written meanwhile
    (which increments a shard) makes it run again rather than be lost.
    """
    refs = [counter_shards.document(str(n)) for n in range(COUNTER_SHARDS)]

    def count(transaction: Transaction, name: str | None, value: str) -> int:
        query: Query = issues
        if name is not None:
            query = query.where(filter=FieldFilter(name, "==", value))
        return aggregate_count(query, transaction=transaction)

    @firestore.transactional
    def run(transaction: Transaction) -> IssueCounts:
        list(transaction.get_all(refs, **call_options()))
        counts = IssueCounts(
            total=count(transaction, None, ""),
            by_status={s: count(transaction, STATUS, str(s)) for s in Status},
            by_priority={p: count(transaction, PRIORITY, str(p)) for p in Priority},
        )
        transaction.set(refs[0], counts_to_shard(counts))
        for ref in refs[1:]:
            transaction.set(ref, counts_to_shard(NO_ISSUES))
        return counts

    rebuilt: IssueCounts = run_transaction(
        client,
        run,
        what="rebuilding the issue counters",
        busy=BUSY,
    )
    return rebuilt
