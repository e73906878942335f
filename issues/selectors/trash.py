"""Reads of the trash, for admins (the role that may delete and restore)."""

from accounts.policy import Actor, require
from accounts.roles import Action
from issues.access import check_limit
from issues.domain import PAGE_DEFAULT, Page, TrashedIssue
from issues.store import get_issue_trash
from issuetracker.errors import NotFound


def trash_list(
    *, actor: Actor, limit: int = PAGE_DEFAULT, cursor: str | None = None
) -> Page[TrashedIssue]:
    """One page of trashed issues, most recently deleted first (admins only)."""
    require(actor, Action.DELETE)
    check_limit(limit)
    return get_issue_trash().page(limit=limit, cursor=cursor)


def trash_get(*, actor: Actor, issue_id: str) -> TrashedIssue:
    """One trashed issue (admins only); 404 when the trash has no such issue."""
    require(actor, Action.DELETE)
    trashed = get_issue_trash().get(issue_id=issue_id)
    if trashed is None:
        raise NotFound("No issue with this id in the trash.")
    return trashed
