"""Upkeep of the issue store, for admins and operators: the trash (restore,
purge, listing), the Flask documents' backfill, the counters' rebuild, and
export and import as JSON Lines.

Each restore and purge is audited; the commands take no actor and are recorded
as the system user running them.
"""

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import TextIO

from django.db import transaction

from accounts.models import AuditAction
from accounts.policy import Actor, require
from accounts.roles import Action
from accounts.services.audit import COMMAND, SYSTEM, audit_record, command_actor
from issues.access import check_limit
from issues.domain import Issue, IssueCounts, Page, TrashedIssue
from issues.store import get_issue_repository, get_issue_trash
from issues.store.backfill import BackfillReport
from issues.store.transfer import TransferReport, get_issue_transfer
from issuetracker.errors import InvalidInput


def _now() -> datetime:
    return datetime.now(UTC)


# --- the trash ------------------------------------------------------------------------


def issue_restore(*, actor: Actor, issue_id: str, source: str = SYSTEM) -> Issue:
    """Put a trashed issue back, as it was, with its comments and history
    (admins only), audited. 404 when it is not in the trash; 409 when an issue
    with its id exists again, or it is being purged."""
    require(actor, Action.DELETE)
    return _restore(issue_id, actor=actor, source=source)


def issue_restore_by_operator(*, issue_id: str) -> Issue:
    """`issue_restore` for operators at the shell (`manage.py restore_issue`),
    audited as the system user running the command."""
    return _restore(issue_id, actor=command_actor(), source=COMMAND)


def _restore(issue_id: str, *, actor: Actor | str, source: str) -> Issue:
    with transaction.atomic():
        audit_record(
            action=AuditAction.ISSUE_RESTORED,
            actor=actor,
            target=issue_id,
            source=source,
        )
        return get_issue_trash().restore(issue_id=issue_id)


TRASH_DAYS = 30
PURGE_PAGE = 100


def trash_purge(
    *,
    older_than_days: int = TRASH_DAYS,
    now: datetime | None = None,
) -> list[str]:
    """Delete for good what was trashed more than `older_than_days` ago, one
    issue at a time (its history in batches, the trash entry last), each
    audited; the ids purged. For operators (`manage.py purge_trash`)."""
    if older_than_days < 0:
        raise InvalidInput("older_than_days cannot be negative.")
    before = (now or _now()) - timedelta(days=older_than_days)
    trash = get_issue_trash()
    purged: list[str] = []
    while ids := trash.expired_ids(before=before, limit=PURGE_PAGE):
        for issue_id in ids:
            with transaction.atomic():
                audit_record(
                    action=AuditAction.ISSUE_PURGED,
                    actor=command_actor(),
                    target=issue_id,
                    source=COMMAND,
                )
                if trash.purge(issue_id=issue_id, before=before):
                    purged.append(issue_id)
                else:  # restored meanwhile: nothing to record
                    transaction.set_rollback(True)
    return purged


# --- backfill, counters, export and import ------------------------------------------


def issues_backfill() -> BackfillReport:
    """Make the Flask app's documents searchable and sortable (see `backfill`).

    For operators (`manage.py backfill_issues`); takes no actor.
    """
    return get_issue_repository().backfill()


def issue_counts_rebuild() -> IssueCounts:
    """Recount every issue by status and priority and rewrite the counters the
    dashboard reads, for documents written without them (the Flask app's, edits
    in the console). For operators (`manage.py backfill_issues`); takes no actor.
    """
    return get_issue_repository().rebuild_counts()


def issues_export(
    *,
    out: TextIO,
    after: str | None = None,
    on_page: Callable[[str, int], None] | None = None,
) -> TransferReport:
    """Write every issue (after the id `after`) with its comments and history to
    `out` as JSON Lines, page by page (see `issues.store.transfer`). For
    operators (`manage.py export_issues`); takes no actor."""
    return get_issue_transfer().export(out, after=after, on_page=on_page)


def issues_import(
    *, lines: Iterable[str], allow_existing: bool = False
) -> TransferReport:
    """Write the issues of an export back with their ids, timestamps and
    history, then rebuild the counters; 409 when issues are stored unless
    `allow_existing`. For operators (`manage.py import_issues`)."""
    return get_issue_transfer().import_(lines, allow_existing=allow_existing)


def trash_page(*, limit: int, cursor: str | None = None) -> Page[TrashedIssue]:
    """One page of the trash for operators (`manage.py list_trash`); admins in
    the API and portal go through `issues.selectors.trash`."""
    check_limit(limit)
    return get_issue_trash().page(limit=limit, cursor=cursor)
