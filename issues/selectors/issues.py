"""Reads of issues, comments and history, each checked against the caller's role.

Raises the errors of `issuetracker.errors`: NotFound (404) for what the caller
may not see, Forbidden (403) for what the role may not read, InvalidInput (400)
and StoreUnavailable (503) when Firestore does not answer.
"""

from dataclasses import replace

from accounts.policy import Actor, require, user_can
from accounts.roles import Action
from issues.access import actor_id, check_limit, visible
from issues.domain import (
    PAGE_DEFAULT,
    PAGE_MAX,
    Activity,
    Comment,
    Issue,
    IssueCounts,
    IssueFilters,
    Page,
)
from issues.store import get_issue_repository


def issue_get(*, actor: Actor, issue_id: str) -> Issue:
    """One issue; 404 when absent or when a service asks for another's issue."""
    require(actor, Action.READ, owner_id=actor_id(actor))
    return visible(actor, get_issue_repository().get(issue_id))


DUPLICATES_MAX = 100


def issue_duplicates(*, actor: Actor, issue: Issue) -> list[str]:
    """Ids of (at most 100) issues marked as duplicates of `issue`, which the
    caller has already read; a service gets only those it reported."""
    require(actor, Action.READ, owner_id=actor_id(actor))
    visible(actor, issue)
    own = None if user_can(actor, Action.READ) else actor_id(actor)
    return get_issue_repository().duplicate_ids(
        issue_id=issue.id, reporter_id=own, limit=DUPLICATES_MAX
    )


def issue_list(
    *,
    actor: Actor,
    filters: IssueFilters,
    limit: int = PAGE_DEFAULT,
    cursor: str | None = None,
) -> Page[Issue]:
    """One page of issues; `cursor` is the previous page's `next_cursor`.

    One Firestore query per page. A service sees only the issues it reported.
    """
    require(actor, Action.READ, owner_id=actor_id(actor))
    check_limit(limit)
    if not user_can(actor, Action.READ):  # an OWN grant: its own issues only
        own = actor_id(actor)
        if filters.reporter_id not in (None, own):
            return Page(items=[])
        filters = replace(filters, reporter_id=own)
    return get_issue_repository().list_page(filters=filters, limit=limit, cursor=cursor)


def issue_count(*, actor: Actor, filters: IssueFilters) -> int:
    """How many issues match the equality filters (status, priority, type,
    assignee, reporter): one aggregation query, no documents read."""
    require(actor, Action.READ, owner_id=actor_id(actor))
    if not user_can(actor, Action.READ):
        filters = replace(filters, reporter_id=actor_id(actor))
    return get_issue_repository().count(filters=filters)


def issue_counts(*, actor: Actor) -> IssueCounts:
    """How many issues there are in all, by status and by priority, from the
    maintained counters: one read of a few documents, whatever the store holds.

    For roles that read every issue; a role that reads only its own gets 403
    (the counters cover everyone's issues; `issue_count` counts its own).
    """
    require(actor, Action.READ)
    return get_issue_repository().counts()


def comment_list(
    *,
    actor: Actor,
    issue_id: str,
    limit: int = PAGE_MAX,
    cursor: str | None = None,
) -> Page[Comment]:
    """One page of an issue's comments, oldest first."""
    require(actor, Action.READ, owner_id=actor_id(actor))
    check_limit(limit)
    issue = visible(actor, get_issue_repository().get(issue_id))
    return issue_comments(actor=actor, issue=issue, limit=limit, cursor=cursor)


def issue_comments(
    *,
    actor: Actor,
    issue: Issue,
    limit: int = PAGE_MAX,
    cursor: str | None = None,
) -> Page[Comment]:
    """`comment_list` of an issue the caller has already read (no second read)."""
    require(actor, Action.READ, owner_id=actor_id(actor))
    check_limit(limit)
    visible(actor, issue)
    return get_issue_repository().comments_page(
        issue_id=issue.id, limit=limit, cursor=cursor
    )


def activity_list(
    *,
    actor: Actor,
    issue_id: str,
    limit: int = PAGE_MAX,
    cursor: str | None = None,
) -> Page[Activity]:
    """One page of an issue's history, oldest first."""
    require(actor, Action.READ, owner_id=actor_id(actor))
    check_limit(limit)
    issue = visible(actor, get_issue_repository().get(issue_id))
    return issue_activities(actor=actor, issue=issue, limit=limit, cursor=cursor)


def issue_activities(
    *,
    actor: Actor,
    issue: Issue,
    limit: int = PAGE_MAX,
    cursor: str | None = None,
) -> Page[Activity]:
    """`activity_list` of an issue the caller has already read (no second read)."""
    require(actor, Action.READ, owner_id=actor_id(actor))
    check_limit(limit)
    visible(actor, issue)
    return get_issue_repository().activities_page(
        issue=issue, limit=limit, cursor=cursor
    )
