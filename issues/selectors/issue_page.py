"""The portal's issue page: the issue, its merged timeline and what the viewer
may do to it. The comments and history are read through the issue selectors,
side by side."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

from accounts.policy import user_can
from accounts.roles import Action
from issues import access
from issues.domain import PAGE_MAX, Activity, ActivityType, Comment, Issue, Status
from issues.selectors.issues import (
    issue_activities,
    issue_comments,
    issue_duplicates,
    issue_get,
)
from issuetracker.concurrency import run_side_by_side


@dataclass(frozen=True)
class TimelineEntry:
    """A comment or a history entry, for the issue page's merged timeline."""

    kind: str  # "comment" or "activity"
    at: datetime | None
    comment: Comment | None = None
    activity: Activity | None = None


@dataclass(frozen=True)
class IssuePage:
    """One issue with its timeline and what the viewer may do to it."""

    issue: Issue
    timeline: list[TimelineEntry]
    more_comments: bool
    more_history: bool
    status_moves: list[Status]
    editable_fields: frozenset[str]
    can_comment: bool
    duplicates: list[str] = field(default_factory=list)


def merge_timeline(
    comments: Sequence[Comment], activities: Sequence[Activity]
) -> list[TimelineEntry]:
    """Comments and history in time order (oldest first). A `commented` activity
    only repeats its comment, so it is left out."""
    entries = [
        TimelineEntry(kind="comment", at=comment.created_at, comment=comment)
        for comment in comments
    ] + [
        TimelineEntry(kind="activity", at=activity.created_at, activity=activity)
        for activity in activities
        if activity.type is not ActivityType.COMMENTED
    ]
    earliest = datetime.min.replace(tzinfo=UTC)
    # Stable sort: at equal times history (created, changed) comes before comments.
    entries.sort(key=lambda entry: (entry.at or earliest, entry.kind == "comment"))
    return entries


def issue_page_get(*, actor: Any, issue_id: str) -> IssuePage:
    """The issue (404 when absent or not the actor's to see), its first 100
    comments and history entries, the ids of its duplicates, and the moves and
    fields the actor may change."""
    issue = issue_get(actor=actor, issue_id=issue_id)
    reads: list[Callable[[], Any]] = [
        partial(issue_comments, actor=actor, issue=issue, limit=PAGE_MAX),
        partial(issue_activities, actor=actor, issue=issue, limit=PAGE_MAX),
        partial(issue_duplicates, actor=actor, issue=issue),
    ]
    comments, activities, duplicates = run_side_by_side(reads)
    return IssuePage(
        issue=issue,
        timeline=merge_timeline(comments.items, activities.items),
        more_comments=comments.next_cursor is not None,
        more_history=activities.next_cursor is not None,
        status_moves=access.status_moves(actor=actor, issue=issue),
        editable_fields=access.editable_fields(actor=actor, issue=issue),
        can_comment=user_can(actor, Action.CREATE),
        duplicates=duplicates,
    )
