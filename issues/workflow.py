"""What changes do to an issue, as pure functions: status moves, partial updates
and the history entry they write, new issues, and occurrences of a fingerprint.

Nothing here reads or writes a store; the services call these inside the
store's transaction functions, which Firestore may run more than once.
"""

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from issues.domain import (
    ACTIVE_STATUSES,
    DONE_STATUSES,
    EDITABLE_FIELDS,
    STATUS_MOVES,
    UNSET,
    Activity,
    ActivityType,
    FieldChange,
    Issue,
    IssueChanges,
    NewIssue,
    Resolution,
    Status,
    UpdateResult,
    normalize_tags,
)
from issuetracker.errors import Conflict, InvalidInput

# What may ride along with a status move when closing or reopening.
RESOLUTION_FIELDS: Final = frozenset({"resolution", "duplicate_of"})

# How many caller-chosen ids of absorbed reports an issue keeps: a retry comes
# within seconds, while the latest reports are still among these.
REPORT_IDS_KEPT: Final = 20


def check_status_move(old: Status, new: Status) -> None:
    """Refuse a status move DESIGN.md does not allow (409)."""
    if new != old and new not in STATUS_MOVES[old]:
        allowed = ", ".join(sorted(STATUS_MOVES[old])) or "none"
        raise Conflict(
            f"An issue cannot move from {old} to {new}; from {old} it can move to "
            f"{allowed}.",
            errors={"status": [f"From {old}: {allowed}."]},
        )


def is_close_or_reopen(issue: Issue, changed: Mapping[str, Any]) -> bool:
    """Whether a change is only closing or reopening a resolved issue (with the
    resolution and duplicate link that go with the status)."""
    return (
        "status" in changed
        and set(changed) <= {"status", *RESOLUTION_FIELDS}
        and issue.status is Status.RESOLVED
        and changed["status"] in {Status.CLOSED, Status.OPEN}
    )


def _stored(value: Any) -> Any:
    """A field's value as an activity stores it (enums as text, tags as lists)."""
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, StrEnum):
        return str(value)
    return value


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


# Activity field names are the API's (camelCase) names: `assignee_id` -> `assigneeId`.
ACTIVITY_FIELD_NAMES: Final[Mapping[str, str]] = {
    name: _camel(name) for name in EDITABLE_FIELDS
}


def _refuse(name: str, message: str) -> InvalidInput:
    return InvalidInput(message, errors={name: [message]})


def resolution_given(issue: Issue, changes: IssueChanges) -> dict[str, Any]:
    """The resolution and duplicate link the issue has after `changes`.

    Entering resolved or closed sets a resolution: the one given, else `fixed`
    (closing a resolved issue keeps its own). `duplicate` needs `duplicate_of`
    (another issue; its existence is the service's to check), which no other
    resolution takes. Open and in-progress issues have neither: reopening
    clears them, and giving one for such a status is InvalidInput.
    """
    given = changes.given()
    status = given.get("status", issue.status)
    resolution = given.get("resolution")
    duplicate_of = given.get("duplicate_of")
    if status not in DONE_STATUSES:
        if resolution is not None or duplicate_of is not None:
            name = "resolution" if resolution is not None else "duplicate_of"
            raise _refuse(name, "Only a resolved or closed issue has a resolution.")
        return {"resolution": None, "duplicate_of": None}
    if resolution is None:
        if issue.status in DONE_STATUSES:
            resolution = issue.resolution  # closing or editing keeps it
        else:
            resolution = Resolution.FIXED
    if resolution is not Resolution.DUPLICATE:
        if duplicate_of is not None:
            raise _refuse(
                "duplicate_of", "duplicate_of goes with the resolution duplicate."
            )
        return {"resolution": resolution, "duplicate_of": None}
    if duplicate_of is None and "resolution" not in given:
        duplicate_of = issue.duplicate_of
    if not duplicate_of:
        raise _refuse("duplicate_of", "Name the issue this one duplicates.")
    if duplicate_of == issue.id:
        raise _refuse("duplicate_of", "An issue cannot duplicate itself.")
    return {"resolution": resolution, "duplicate_of": duplicate_of}


def changed_fields(issue: Issue, changes: IssueChanges) -> dict[str, Any]:
    """The fields `changes` would really move (tags normalized, "" unassigns,
    the resolution and duplicate link as `resolution_given` derives them).

    Raises InvalidInput for a resolution the resulting status cannot have.
    """
    given = changes.given()
    if {"status", *RESOLUTION_FIELDS} & set(given):
        given.update(resolution_given(issue, changes))
    if "tags" in given:
        given["tags"] = normalize_tags(given["tags"])
    if given.get("assignee_id") == "":
        given["assignee_id"] = None
    return {
        name: value for name, value in given.items() if getattr(issue, name) != value
    }


def apply_changes(
    issue: Issue, changes: IssueChanges, *, actor_id: str, now: datetime
) -> UpdateResult:
    """The issue after `changes`, and one activity listing every field that moved.

    Pure: raises Conflict for a status move DESIGN.md does not allow. Entering
    `resolved` sets `resolved_at`; leaving it clears it. Changing nothing returns
    the issue as it was and no activity.
    """
    if changes.status is not UNSET:
        check_status_move(issue.status, changes.status)
    moved = changed_fields(issue, changes)
    if not moved:
        return UpdateResult(issue=issue, activity=None)
    field_changes = tuple(
        FieldChange(
            field=ACTIVITY_FIELD_NAMES[name],
            old_value=_stored(getattr(issue, name)),
            new_value=_stored(value),
        )
        for name, value in moved.items()
    )
    updated = replace(issue, **moved, updated_at=now, version=issue.version + 1)
    if "status" in moved:
        if moved["status"] is Status.RESOLVED:
            updated = replace(updated, resolved_at=now)
        elif issue.status is Status.RESOLVED:
            updated = replace(updated, resolved_at=None)
    if "status" in moved:
        kind = ActivityType.STATUS_CHANGED
    elif "assignee_id" in moved:
        kind = ActivityType.ASSIGNED
    else:
        kind = ActivityType.UPDATED
    activity = Activity(
        type=kind, user_id=actor_id, changes=field_changes, created_at=now
    )
    return UpdateResult(issue=updated, activity=activity, changes=field_changes)


def new_issue(
    data: NewIssue, *, issue_id: str, reporter_id: str, now: datetime
) -> Issue:
    """The issue `data` creates, with its defaults and timestamps."""
    return Issue(
        id=issue_id,
        title=data.title,
        description=data.description,
        status=Status.OPEN,
        priority=data.priority,
        type=data.type,
        reporter_id=reporter_id,
        assignee_id=data.assignee_id or None,
        tags=normalize_tags(data.tags),
        created_at=now,
        updated_at=now,
        fingerprint=data.fingerprint or None,
        component=data.component or None,
        occurrence_count=1,
        first_seen_at=now,
        last_seen_at=now,
        version=1,
        created_entry_derived=True,
    )


# The id of a `created` entry derived from its issue (stored entries have
# Firestore's 20-character ids).
CREATED_ENTRY_ID: Final = "created"


def created_entry(issue: Issue) -> Activity:
    """The `created` entry that opens the history of an issue whose
    `created_entry_derived` is set: creates do not store it (one write less
    per report)."""
    return Activity(
        type=ActivityType.CREATED,
        user_id=issue.reporter_id,
        created_at=issue.created_at,
        id=CREATED_ENTRY_ID,
    )


def absorbs(issue: Issue, *, reporter_id: str, fingerprint: str) -> bool:
    """Whether `issue` takes a new report of `reporter_id` with `fingerprint` as one
    more occurrence: same reporter and fingerprint, and not yet resolved.

    A resolved or closed issue does not: the report is a regression and opens a
    new issue, which absorbs the reports after it.
    """
    return (
        issue.reporter_id == reporter_id
        and issue.fingerprint == fingerprint
        and issue.status in ACTIVE_STATUSES
    )


def record_occurrence(
    issue: Issue, *, now: datetime, report_id: str | None = None, count: int = 1
) -> Issue:
    """`issue` after one more report: occurrence count + `count` (a report of
    merged repeats counts each), last seen `now`, and the report's caller-chosen
    id (if any) among the last REPORT_IDS_KEPT.

    An occurrence is not an edit: `updatedAt` and `version` stay, so a crash loop
    neither floats the issue to the top of "recently updated" nor makes a
    person's pending `If-Match` stale. `lastSeenAt` never moves back when
    concurrent reports commit out of order.
    """
    last_seen = max(issue.last_seen_at, now) if issue.last_seen_at else now
    report_ids = issue.report_ids
    if report_id is not None:
        report_ids = (*report_ids, report_id)[-REPORT_IDS_KEPT:]
    return replace(
        issue,
        occurrence_count=issue.occurrence_count + count,
        last_seen_at=last_seen,
        report_ids=report_ids,
    )


def is_replay(stored: Issue, *, reporter_id: str, title: str) -> bool:
    """Whether a create that chose the id of `stored` repeats the report that made
    it (same reporter, same title) rather than claiming another's id."""
    return stored.reporter_id == reporter_id and stored.title == title


def with_new_watchers(
    before: Issue, result: UpdateResult, mentioned: tuple[str, ...]
) -> UpdateResult:
    """`result` with a new assignee and the people a new description mentions
    added to the issue's watchers (inside the update's transaction)."""
    after = result.issue
    if result.activity is None:
        return result
    found = list(after.watcher_ids)
    if after.assignee_id and after.assignee_id != before.assignee_id:
        found.append(after.assignee_id)
    if after.description != before.description:
        found.extend(mentioned)
    watchers = tuple(dict.fromkeys(found))
    if watchers == after.watcher_ids:
        return result
    return replace(result, issue=replace(after, watcher_ids=watchers))
