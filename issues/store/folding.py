"""The buffered way of folding a fingerprinted report into its issue.

During a storm every report of one failure names the same fingerprint lock and
the same issue. Instead of a transaction per report (a write on the issue each
time), the issue the lock names is taken from the process's buffer (`holder`,
read again by each flush) and the occurrence is added to that buffer
(`buffers`), which writes the issue about once an interval. Only a report the
holder does not absorb (no lock yet, a resolved or closed issue, another
reporter) goes to the transaction, which creates the new issue and moves the
lock.
"""

import logging
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime

from google.cloud import firestore
from google.cloud.firestore_v1.collection import CollectionReference
from google.cloud.firestore_v1.transaction import Transaction

from issues.domain import CreateResult, Issue
from issues.hourly import hour_key, merged
from issues.store import Absorption, IssueExists
from issues.store.buffers import write_buffer
from issues.store.documents import (
    FINGERPRINTS,
    ISSUE_ID,
    ISSUES,
    Snapshot,
    issue_from_document,
    read_issue,
)
from issues.store.flushing import Pending, later
from issues.workflow import REPORT_IDS_KEPT
from issuetracker.firestore import call_options, store_errors

logger = logging.getLogger(__name__)


def with_pending(issue: Issue, pending: Pending | None) -> Issue:
    """`issue` as stored plus this process's occurrences not yet written."""
    if pending is None or not pending.count:
        return issue
    return replace(
        issue,
        occurrence_count=issue.occurrence_count + pending.count,
        last_seen_at=later(issue.last_seen_at, pending.last_seen),
        report_ids=(*issue.report_ids, *pending.report_ids)[-REPORT_IDS_KEPT:],
        hourly_occurrences=tuple(
            merged(
                issue.hourly_occurrences,
                pending.hours,
                now=later(issue.last_seen_at, pending.last_seen) or datetime.now(UTC),
            ).items()
        ),
    )


def lock_holder(
    issues: CollectionReference,
    lock: Snapshot,
    *,
    transaction: Transaction | None = None,
) -> tuple[Snapshot, Issue] | None:
    """The issue a fingerprint lock names (read in `transaction` when given);
    None when there is no lock, or its issue is deleted or unreadable (logged)."""
    holder_id = (lock.to_dict() or {}).get(ISSUE_ID) if lock.exists else None
    if not isinstance(holder_id, str) or not holder_id:
        return None
    snapshot = issues.document(holder_id).get(transaction=transaction, **call_options())
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


def read_holder(client: firestore.Client, lock_key: str) -> Issue | None:
    """The issue a fingerprint lock names, read outside any transaction; None
    when there is no lock or no readable issue (the transaction decides then)."""
    with store_errors("reading a fingerprint lock"):
        lock = client.collection(FINGERPRINTS).document(lock_key).get(**call_options())
        found = lock_holder(client.collection(ISSUES), lock)
    return found[1] if found is not None else None


def fold_buffered(
    client: firestore.Client,
    *,
    issue: Issue,
    lock_key: str,
    absorb: Absorption,
    chosen_id: bool,
) -> CreateResult | None:
    """Count the report `issue` on the issue its lock names, in the buffer; None
    when buffering is off or that issue does not absorb it (use the transaction).

    A chosen id already among the holder's reports is a replay; a chosen id
    taken by a stored issue is IssueExists, as in the transaction.
    """
    buffer = write_buffer()
    if not buffer.enabled:
        return None
    holder = buffer.holder(lock_key)
    if holder is None:
        holder = read_holder(client, lock_key)
        if holder is None:
            return None
        buffer.remember(lock_key, holder)
    current = with_pending(holder, buffer.owed(holder.id))
    if chosen_id and issue.id in current.report_ids:
        return CreateResult(issue=current, created=False, replayed=True)
    absorbed = absorb(current)
    if absorbed is None:
        return None
    if chosen_id:
        with store_errors("reading an issue"):
            taken = client.collection(ISSUES).document(issue.id).get(**call_options())
        if taken.exists:
            raise IssueExists(read_issue(taken))
    count = absorbed.occurrence_count - current.occurrence_count
    seen = absorbed.last_seen_at or datetime.now(UTC)
    added = Pending(
        count=count,
        last_seen=absorbed.last_seen_at,
        report_ids=[issue.id] if chosen_id else [],
        hours=Counter({hour_key(seen): count}),
    )
    total = buffer.add_occurrences(holder.id, added)
    return CreateResult(issue=with_pending(holder, total), created=False)
