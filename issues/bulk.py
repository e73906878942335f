"""Triage and bulk actions: one change applied to many issues, each on its own.

Every issue goes through `services.issue_update` (the role rules, the status
moves, its own history entry), so a bulk change is exactly the changes one at a
time. A refused, conflicting or stale issue is reported by its title and the
others still go through.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from accounts.policy import Actor
from issues import services
from issues.access import actor_id
from issues.domain import (
    UNSET,
    Issue,
    IssueChanges,
    Priority,
    Resolution,
    Status,
    UpdateResult,
    normalize_tags,
)
from issues.selectors import issues as selectors
from issuetracker.errors import ApplicationError, InvalidInput, PreconditionFailed

BULK_MAX = 100


class BulkAction(StrEnum):
    """What a triage button or the bulk form does to each issue."""

    TAKE = "take"  # assign to me, in progress
    ASSIGN = "assign"
    RAISE = "raise"  # priority one step up
    LOWER = "lower"
    PRIORITY = "priority"
    STATUS = "status"  # with a resolution when resolving or closing
    DUPLICATE = "duplicate"  # close as duplicate of `duplicate_of`
    WONT_FIX = "wont-fix"  # close as won't fix
    TAG_ADD = "tag-add"
    TAG_REMOVE = "tag-remove"


# Actions whose change depends on the issue as it is (read first).
_READS = frozenset(
    {BulkAction.RAISE, BulkAction.LOWER, BulkAction.TAG_ADD, BulkAction.TAG_REMOVE}
)


@dataclass(frozen=True)
class BulkChange:
    """An action and the values it needs (validated by the form)."""

    action: BulkAction
    assignee: str | None = None
    priority: Priority | None = None
    status: Status | None = None
    resolution: Resolution | None = None
    duplicate_of: str = ""
    tag: str = ""


@dataclass(frozen=True)
class Refusal:
    """An issue left as it was, and why."""

    issue_id: str
    title: str
    reason: str


@dataclass
class BulkReport:
    """What a bulk change did: the issues changed (as they are now), those it
    left as they were (nothing to change), and those refused."""

    changed: list[Issue] = field(default_factory=list)
    unchanged: list[Issue] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)


def _step(priority: Priority, by: int) -> Priority:
    order = list(Priority)
    return order[max(0, min(len(order) - 1, order.index(priority) + by))]


def changes_for(change: BulkChange, *, me: str, issue: Issue | None) -> IssueChanges:
    """The IssueChanges `change` makes (`issue`: the issue as read, for the
    actions that depend on it)."""
    action = change.action
    if action is BulkAction.TAKE:
        return IssueChanges(assignee_id=me, status=Status.IN_PROGRESS)
    if action is BulkAction.ASSIGN:
        return IssueChanges(assignee_id=change.assignee or None)
    if action is BulkAction.PRIORITY and change.priority is not None:
        return IssueChanges(priority=change.priority)
    if action is BulkAction.DUPLICATE:
        return IssueChanges(
            status=Status.CLOSED,
            resolution=Resolution.DUPLICATE,
            duplicate_of=change.duplicate_of,
        )
    if action is BulkAction.WONT_FIX:
        return IssueChanges(status=Status.CLOSED, resolution=Resolution.WONT_FIX)
    if action is BulkAction.STATUS and change.status is not None:
        if change.status not in (Status.RESOLVED, Status.CLOSED):
            return IssueChanges(status=change.status)
        resolution = change.resolution or Resolution.FIXED
        duplicate = resolution is Resolution.DUPLICATE
        return IssueChanges(
            status=change.status,
            resolution=resolution,
            duplicate_of=change.duplicate_of if duplicate else UNSET,
        )
    if issue is not None and action in (BulkAction.RAISE, BulkAction.LOWER):
        by = 1 if action is BulkAction.RAISE else -1
        return IssueChanges(priority=_step(issue.priority, by))
    if issue is not None and action is BulkAction.TAG_ADD:
        return IssueChanges(tags=normalize_tags([*issue.tags, change.tag]))
    if issue is not None and action is BulkAction.TAG_REMOVE:
        return IssueChanges(tags=tuple(t for t in issue.tags if t != change.tag))
    raise InvalidInput(f"The action {action} needs a value.")


def _reason(error: ApplicationError) -> str:
    if isinstance(error, PreconditionFailed):
        return "someone changed it meanwhile; reload and try again"
    return error.message


def issue_change_one(
    *,
    actor: Actor,
    issue_id: str,
    change: BulkChange,
    expected_version: int | None = None,
) -> UpdateResult:
    """Apply `change` to one issue through `issue_update`; its errors raise
    (PreconditionFailed when the issue is no longer at `expected_version`)."""
    current = None
    if change.action in _READS:
        current = selectors.issue_get(actor=actor, issue_id=issue_id)
        if expected_version is not None and current.version != expected_version:
            raise PreconditionFailed("The issue changed meanwhile.")
    return services.issue_update(
        actor=actor,
        issue_id=issue_id,
        changes=changes_for(change, me=actor_id(actor), issue=current),
        expected_version=expected_version,
    )


def issues_change_many(
    *,
    actor: Actor,
    targets: Sequence[tuple[str, int | None]],
    change: BulkChange,
) -> BulkReport:
    """`issue_change_one` for each (issue id, version seen), at most BULK_MAX;
    an issue's error is its own (reported with its title)."""
    report = BulkReport()
    for issue_id, version in targets[:BULK_MAX]:
        try:
            result = issue_change_one(
                actor=actor, issue_id=issue_id, change=change, expected_version=version
            )
        except ApplicationError as error:
            report.refused.append(
                Refusal(issue_id, _title(actor, issue_id), _reason(error))
            )
            continue
        target = report.changed if result.activity else report.unchanged
        target.append(result.issue)
    return report


def _title(actor: Actor, issue_id: str) -> str:
    """The title of a refused issue, to name it; its id when it cannot be read."""
    try:
        return selectors.issue_get(actor=actor, issue_id=issue_id).title
    except ApplicationError:
        return issue_id
