"""Table tests of the pure rules: no emulator, no database, well under a second.

`apply_changes` and the status moves, the edit check for every role, field and
status on the caller's own issues and others', and the `from_data` constructors
that turn validated input into domain values.
"""

from dataclasses import fields
from datetime import UTC, datetime, timedelta
from itertools import product

import pytest

from accounts.roles import EDITABLE_FIELD_LIMITS, Role
from issues import rules
from issues.domain import (
    EDITABLE_FIELDS,
    STATUS_MOVES,
    UNSET,
    ActivityType,
    FieldChange,
    Issue,
    IssueChanges,
    IssueFilters,
    IssueType,
    NewIssue,
    Priority,
    Resolution,
    Sort,
    Status,
)
from issues.workflow import ACTIVITY_FIELD_NAMES, apply_changes, check_status_move
from issuetracker.errors import Conflict, Forbidden, InvalidInput

OPEN, IN_PROGRESS, RESOLVED, CLOSED = (
    Status.OPEN,
    Status.IN_PROGRESS,
    Status.RESOLVED,
    Status.CLOSED,
)
THEN = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
NOW = THEN + timedelta(hours=2)
ROLES = [*Role, ""]  # "" : anonymous, inactive or unknown role
FIELDS = [name for name in EDITABLE_FIELDS if name != "status"]


def issue(status: Status = OPEN, **values) -> Issue:
    defaults = {
        "id": "i1",
        "title": "Order book freezes",
        "description": "After reconnect",
        "status": status,
        "priority": Priority.MEDIUM,
        "type": IssueType.BUG,
        "reporter_id": "svc",
        "assignee_id": None,
        "tags": ("ws",),
        "created_at": THEN,
        "updated_at": THEN,
        "resolved_at": THEN if status is RESOLVED else None,
        "resolution": Resolution.FIXED if status in {RESOLVED, CLOSED} else None,
        "version": 3,
    }
    return Issue(**(defaults | values))


# --- the one list of editable fields ----------------------------------------------


def test_editable_fields_are_the_fields_a_change_can_set():
    assert set(EDITABLE_FIELDS) == {f.name for f in fields(IssueChanges)}
    assert set(ACTIVITY_FIELD_NAMES) == set(EDITABLE_FIELDS)
    assert ACTIVITY_FIELD_NAMES["assignee_id"] == "assigneeId"
    for allowed in EDITABLE_FIELD_LIMITS.values():
        assert allowed <= set(EDITABLE_FIELDS)


# --- status moves -------------------------------------------------------------------

# Every move the code allows (open <-> in-progress; open or in-progress ->
# resolved; open, in-progress or resolved -> closed; resolved or closed -> open);
# staying put is no move.
MOVES = {
    (OPEN, IN_PROGRESS),
    (IN_PROGRESS, OPEN),
    (OPEN, RESOLVED),
    (IN_PROGRESS, RESOLVED),
    (OPEN, CLOSED),
    (IN_PROGRESS, CLOSED),
    (RESOLVED, CLOSED),
    (RESOLVED, OPEN),
    (CLOSED, OPEN),
}
DONE = {RESOLVED, CLOSED}


def test_the_table_below_is_the_domains():
    assert {(old, new) for old, news in STATUS_MOVES.items() for new in news} == MOVES


@pytest.mark.parametrize(("old", "new"), list(product(Status, Status)))
def test_every_status_move(old, new):
    change = IssueChanges(status=new)
    if old == new:
        result = apply_changes(issue(old), change, actor_id="a", now=NOW)
        assert result.activity is None
        assert result.issue == issue(old)
    elif (old, new) in MOVES:
        check_status_move(old, new)
        result = apply_changes(issue(old), change, actor_id="a", now=NOW)
        assert result.issue.status is new
        assert result.activity is not None
        assert result.activity.type is ActivityType.STATUS_CHANGED
        expected = [FieldChange("status", str(old), str(new))]
        if (old in DONE) is not (new in DONE):  # entering sets, leaving clears
            resolution = "fixed" if new in DONE else None
            expected.append(
                FieldChange("resolution", "fixed" if old in DONE else None, resolution)
            )
        assert list(result.changes) == expected
        assert result.issue.resolution == (Resolution.FIXED if new in DONE else None)
        expected_resolved_at = NOW if new is RESOLVED else None
        assert result.issue.resolved_at == expected_resolved_at
    else:
        with pytest.raises(Conflict) as refused:
            apply_changes(issue(old), change, actor_id="a", now=NOW)
        assert "status" in refused.value.errors
        with pytest.raises(Conflict):
            check_status_move(old, new)


# --- apply_changes --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "kind", "moved"),
    [
        (
            IssueChanges(title="Order book stalls"),
            ActivityType.UPDATED,
            [FieldChange("title", "Order book freezes", "Order book stalls")],
        ),
        (
            IssueChanges(priority=Priority.CRITICAL, type=IssueType.TASK),
            ActivityType.UPDATED,
            [
                FieldChange("priority", "medium", "critical"),
                FieldChange("type", "bug", "task"),
            ],
        ),
        (
            IssueChanges(assignee_id="ann"),
            ActivityType.ASSIGNED,
            [FieldChange("assigneeId", None, "ann")],
        ),
        (
            IssueChanges(tags=(" ws ", "api", "api", " ")),
            ActivityType.UPDATED,
            [FieldChange("tags", ["ws"], ["ws", "api"])],
        ),
        (
            IssueChanges(status=IN_PROGRESS, assignee_id="ann"),
            ActivityType.STATUS_CHANGED,
            [
                FieldChange("status", "open", "in-progress"),
                FieldChange("assigneeId", None, "ann"),
            ],
        ),
    ],
)
def test_apply_changes_records_every_moved_field(changes, kind, moved):
    before = issue()
    result = apply_changes(before, changes, actor_id="dev", now=NOW)
    assert result.activity is not None
    assert result.activity.type is kind
    assert result.activity.user_id == "dev"
    assert result.activity.created_at == NOW
    assert list(result.changes) == moved
    assert result.issue.version == before.version + 1
    assert result.issue.updated_at == NOW
    assert result.issue.created_at == THEN


@pytest.mark.parametrize(
    "changes",
    [
        IssueChanges(),
        IssueChanges(title="Order book freezes", priority=Priority.MEDIUM),
        IssueChanges(tags=("ws", " ws ")),  # the same tags once normalized
        IssueChanges(assignee_id=""),  # "" unassigns; already unassigned
        IssueChanges(status=OPEN),
    ],
)
def test_apply_changes_that_move_nothing_change_nothing(changes):
    before = issue()
    result = apply_changes(before, changes, actor_id="dev", now=NOW)
    assert result.issue is before
    assert result.activity is None
    assert result.changes == ()


def test_leaving_resolved_clears_resolved_at_and_empty_assignee_unassigns():
    before = issue(RESOLVED, assignee_id="ann")
    result = apply_changes(
        before, IssueChanges(status=OPEN, assignee_id=""), actor_id="d", now=NOW
    )
    assert result.issue.resolved_at is None
    assert result.issue.assignee_id is None
    assert FieldChange("assigneeId", "ann", None) in result.changes


# --- who may edit what ---------------------------------------------------------


def field_allowed(role: str, *, own: bool, name: str) -> bool:
    """The expected answer: admins and developers edit every field; a service
    edits the priority, resolution and duplicate link of its own issues (status
    aside); nobody else edits."""
    if role in {Role.ADMIN, Role.DEVELOPER}:
        return True
    return (
        role == Role.SERVICE
        and own
        and name in {"priority", "resolution", "duplicate_of"}
    )


@pytest.mark.parametrize(
    ("role", "own", "status"), list(product(ROLES, [True, False], Status))
)
def test_edit_check_for_each_role_field_and_status(role, own, status):
    subject = issue(status)
    for name in FIELDS:
        moved = {name: "x"}
        if field_allowed(role, own=own, name=name):
            rules.check_edit(role, subject, moved, own=own)
        else:
            with pytest.raises(Forbidden):
                rules.check_edit(role, subject, moved, own=own)
        assert rules.may_edit(role, subject, moved, own=own) is field_allowed(
            role, own=own, name=name
        ), name
    assert rules.editable_fields(role, subject, own=own) == {
        name for name in FIELDS if field_allowed(role, own=own, name=name)
    }


def status_moves_allowed(role: str, *, own: bool, status: Status) -> set[Status]:
    """The expected answer: admins and developers make every move; testers only
    close or reopen a resolved issue; a service moves its own issues except
    closing or reopening a resolved one; viewers make none."""
    every = {new for old, new in MOVES if old == status}
    if role in {Role.ADMIN, Role.DEVELOPER}:
        return every
    if role == Role.TESTER:
        return every if status is RESOLVED else set()
    if role == Role.SERVICE and own:
        return set() if status is RESOLVED else every
    return set()


@pytest.mark.parametrize(
    ("role", "own", "old", "new"),
    [
        (role, own, old, new)
        for role, own in product(ROLES, [True, False])
        for old, new in sorted(MOVES)
    ],
)
def test_edit_check_for_each_role_and_status_move(role, own, old, new):
    subject = issue(old)
    allowed = new in status_moves_allowed(role, own=own, status=old)
    assert rules.may_edit(role, subject, {"status": new}, own=own) is allowed
    if not allowed:
        with pytest.raises(Forbidden):
            rules.check_edit(role, subject, {"status": new}, own=own)


@pytest.mark.parametrize(
    ("role", "own", "status"), list(product(ROLES, [True, False], Status))
)
def test_status_moves_lists_the_allowed_moves_in_order(role, own, status):
    allowed = status_moves_allowed(role, own=own, status=status)
    expected = [new for new in Status if new in allowed]
    assert rules.status_moves(role, issue(status), own=own) == expected


@pytest.mark.parametrize(
    ("role", "status", "moved", "refused"),
    [
        # Closing along with another field still needs CLOSE_OR_REOPEN.
        (Role.SERVICE, RESOLVED, {"status": CLOSED, "priority": "high"}, {"status"}),
        # A tester's close or reopen may not carry another field.
        (Role.TESTER, RESOLVED, {"status": CLOSED, "title": "t"}, set()),
        # A service's own-issue grant names the fields it may not change.
        (Role.SERVICE, OPEN, {"priority": "high", "title": "t"}, {"title"}),
        (Role.SERVICE, OPEN, {"tags": (), "assignee_id": "a"}, {"assignee_id", "tags"}),
    ],
)
def test_edit_check_refuses_mixed_changes(role, status, moved, refused):
    with pytest.raises(Forbidden) as error:
        rules.check_edit(role, issue(status), moved, own=True)
    assert set(error.value.errors) == refused


def test_service_edits_status_and_priority_of_its_own_open_issue_together():
    moved = {"status": IN_PROGRESS, "priority": Priority.HIGH}
    rules.check_edit(Role.SERVICE, issue(OPEN), moved, own=True)


# --- from_data -----------------------------------------------------------------


def test_new_issue_from_minimal_data_takes_the_defaults():
    assert NewIssue.from_data({"title": "T", "description": "D"}) == NewIssue(
        title="T",
        description="D",
        type=IssueType.TASK,
        priority=Priority.MEDIUM,
        assignee_id=None,
        tags=(),
        fingerprint=None,
    )


def test_new_issue_from_full_data():
    data = {
        "title": "T",
        "description": "D",
        "type": "bug",
        "priority": "critical",
        "assignee_id": "ann",
        "tags": [" ws ", "api", "ws", ""],
        "fingerprint": "KeyError@feed.py:42",
        "reporter_id": "svc",  # names the actor, not the issue: ignored
    }
    assert NewIssue.from_data(data) == NewIssue(
        title="T",
        description="D",
        type=IssueType.BUG,
        priority=Priority.CRITICAL,
        assignee_id="ann",
        tags=("ws", "api"),
        fingerprint="KeyError@feed.py:42",
    )


@pytest.mark.parametrize("blank", ["", None])
def test_new_issue_blank_assignee_and_fingerprint_are_none(blank):
    data = {
        "title": "T",
        "description": "D",
        "assignee_id": blank,
        "fingerprint": blank,
    }
    new = NewIssue.from_data(data)
    assert new.assignee_id is None
    assert new.fingerprint is None


def test_issue_changes_from_no_data_change_nothing():
    assert IssueChanges.from_data({}) == IssueChanges()
    assert IssueChanges.from_data({"version": 3}).given() == {}


@pytest.mark.parametrize(
    ("data", "given"),
    [
        ({"title": "New"}, {"title": "New"}),
        ({"description": "More"}, {"description": "More"}),
        ({"status": "in-progress"}, {"status": IN_PROGRESS}),
        ({"priority": "high"}, {"priority": Priority.HIGH}),
        ({"type": "feature"}, {"type": IssueType.FEATURE}),
        ({"assignee_id": "ann"}, {"assignee_id": "ann"}),
        ({"assignee_id": None}, {"assignee_id": None}),
        ({"assignee_id": ""}, {"assignee_id": None}),
        ({"tags": ["a", "b"]}, {"tags": ("a", "b")}),
        ({"tags": []}, {"tags": ()}),
    ],
)
def test_issue_changes_from_data_sets_the_given_fields(data, given):
    changes = IssueChanges.from_data(data)
    assert changes.given() == given
    for value in given.values():
        assert value is not UNSET
    assert all(
        type(value) is type(given[name]) for name, value in changes.given().items()
    )


def test_issue_filters_from_no_data_filter_nothing():
    assert IssueFilters.from_data({}, me="dev@quantory.app") == IssueFilters()
    blanks: dict[str, object] = {
        "status": "",
        "priority": "",
        "type": "",
        "assignee": "",
        "tag": "",
    }
    blanks |= {"reporter": "", "q": "", "sort": "", "cursor": "", "limit": 25}
    assert IssueFilters.from_data(blanks, me="dev@quantory.app") == IssueFilters()


@pytest.mark.parametrize(
    ("given", "assignee_id", "reporter_id"),
    [
        ({"assignee": "me"}, "dev@quantory.app", None),
        ({"reporter": "me"}, None, "dev@quantory.app"),
        ({"assignee": "ME", "reporter": "Me"}, "dev@quantory.app", "dev@quantory.app"),
        ({"assignee": "ann", "reporter": "svc"}, "ann", "svc"),
        ({"assignee": "meg"}, "meg", None),
    ],
)
def test_issue_filters_resolve_me_for_assignee_and_reporter(
    given, assignee_id, reporter_id
):
    filters = IssueFilters.from_data(given, me="dev@quantory.app")
    assert filters.assignee_id == assignee_id
    assert filters.reporter_id == reporter_id


def test_issue_filters_from_full_data():
    after = datetime(2025, 1, 1, tzinfo=UTC)
    data = {
        "status": "resolved",
        "priority": "low",
        "type": "bug",
        "tag": "ws",
        "q": "Café reconnect x",
        "created_after": after,
        "sort": "oldest",
        "limit": 10,
        "cursor": "abc",
    }
    assert IssueFilters.from_data(data, me="dev") == IssueFilters(
        status=RESOLVED,
        priority=Priority.LOW,
        type=IssueType.BUG,
        tag="ws",
        words=("cafe", "reconnect"),
        created_after=after,
        sort=Sort.OLDEST,
    )


def test_issue_filters_refuse_too_many_search_words():
    with pytest.raises(InvalidInput) as error:
        IssueFilters.from_data({"q": "one two three four five six"}, me="dev")
    assert "q" in error.value.errors
