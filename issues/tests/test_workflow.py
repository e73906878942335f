"""Table tests of resolutions and duplicate links: pure rules, no emulator.

What `resolution_given` derives for each status move and input, what it refuses,
the history it writes, and who may make each move with a resolution riding
along (the role matrix of DESIGN.md, "Roles").
"""

from itertools import product

import pytest

from accounts.roles import Role
from issues import rules
from issues.domain import FieldChange, IssueChanges, Resolution, Status
from issues.tests.test_domain import MOVES, NOW, ROLES, issue, status_moves_allowed
from issues.workflow import apply_changes, changed_fields, resolution_given
from issuetracker.errors import InvalidInput

OPEN, IN_PROGRESS, RESOLVED, CLOSED = (
    Status.OPEN,
    Status.IN_PROGRESS,
    Status.RESOLVED,
    Status.CLOSED,
)
FIXED, DUPLICATE, WONT_FIX = Resolution.FIXED, Resolution.DUPLICATE, Resolution.WONT_FIX


@pytest.mark.parametrize(
    ("before", "changes", "resolution", "duplicate_of"),
    [
        # Resolving or closing an open or in-progress issue: `fixed` by default.
        (issue(OPEN), IssueChanges(status=RESOLVED), FIXED, None),
        (issue(IN_PROGRESS), IssueChanges(status=CLOSED), FIXED, None),
        (issue(OPEN), IssueChanges(status=CLOSED, resolution=WONT_FIX), WONT_FIX, None),
        (
            issue(IN_PROGRESS),
            IssueChanges(status=RESOLVED, resolution=DUPLICATE, duplicate_of="i0"),
            DUPLICATE,
            "i0",
        ),
        # Closing a resolved issue keeps its resolution unless one is given.
        (
            issue(RESOLVED, resolution=WONT_FIX),
            IssueChanges(status=CLOSED),
            WONT_FIX,
            None,
        ),
        (
            issue(RESOLVED, resolution=DUPLICATE, duplicate_of="i0"),
            IssueChanges(status=CLOSED),
            DUPLICATE,
            "i0",
        ),
        (
            issue(RESOLVED, resolution=DUPLICATE, duplicate_of="i0"),
            IssueChanges(status=CLOSED, resolution=FIXED),
            FIXED,
            None,
        ),
        # An old resolved document without one keeps having none.
        (issue(RESOLVED, resolution=None), IssueChanges(status=CLOSED), None, None),
        # A resolved issue's resolution can change without a move.
        (issue(RESOLVED), IssueChanges(resolution=WONT_FIX), WONT_FIX, None),
        (
            issue(CLOSED, resolution=DUPLICATE, duplicate_of="i0"),
            IssueChanges(duplicate_of="i9"),
            DUPLICATE,
            "i9",
        ),
        # Reopening clears both; open <-> in-progress has neither.
        (
            issue(CLOSED, resolution=DUPLICATE, duplicate_of="i0"),
            IssueChanges(status=OPEN),
            None,
            None,
        ),
        (issue(RESOLVED), IssueChanges(status=OPEN), None, None),
        (issue(OPEN), IssueChanges(status=IN_PROGRESS), None, None),
    ],
)
def test_resolution_given(before, changes, resolution, duplicate_of):
    assert resolution_given(before, changes) == {
        "resolution": resolution,
        "duplicate_of": duplicate_of,
    }


@pytest.mark.parametrize(
    ("before", "changes", "field"),
    [
        (issue(OPEN), IssueChanges(resolution=FIXED), "resolution"),
        (issue(OPEN), IssueChanges(status=IN_PROGRESS, resolution=FIXED), "resolution"),
        (issue(RESOLVED), IssueChanges(status=OPEN, resolution=FIXED), "resolution"),
        (issue(CLOSED), IssueChanges(status=OPEN, duplicate_of="i0"), "duplicate_of"),
        (
            issue(OPEN),
            IssueChanges(status=RESOLVED, resolution=DUPLICATE),
            "duplicate_of",
        ),
        (
            issue(OPEN),
            IssueChanges(status=RESOLVED, resolution=DUPLICATE, duplicate_of="i1"),
            "duplicate_of",  # i1 is the issue itself
        ),
        (issue(OPEN), IssueChanges(status=RESOLVED, duplicate_of="i0"), "duplicate_of"),
        (
            issue(OPEN),
            IssueChanges(status=CLOSED, resolution=WONT_FIX, duplicate_of="i0"),
            "duplicate_of",
        ),
        (issue(RESOLVED), IssueChanges(resolution=DUPLICATE), "duplicate_of"),
    ],
)
def test_resolution_given_refuses(before, changes, field):
    with pytest.raises(InvalidInput) as refused:
        apply_changes(before, changes, actor_id="dev", now=NOW)
    assert set(refused.value.errors) == {field}


def test_the_history_records_resolution_and_duplicate_changes():
    before = issue(IN_PROGRESS)
    changes = IssueChanges(status=RESOLVED, resolution=DUPLICATE, duplicate_of="i0")
    resolved = apply_changes(before, changes, actor_id="dev", now=NOW)
    assert list(resolved.changes) == [
        FieldChange("status", "in-progress", "resolved"),
        FieldChange("resolution", None, "duplicate"),
        FieldChange("duplicateOf", None, "i0"),
    ]
    reopened = apply_changes(
        resolved.issue, IssueChanges(status=OPEN), actor_id="dev", now=NOW
    )
    assert reopened.issue.resolution is None
    assert reopened.issue.duplicate_of is None
    assert list(reopened.changes) == [
        FieldChange("status", "resolved", "open"),
        FieldChange("resolution", "duplicate", None),
        FieldChange("duplicateOf", "i0", None),
    ]


def test_closing_with_the_resolution_it_has_moves_only_the_status():
    before = issue(RESOLVED, resolution=WONT_FIX)
    changes = IssueChanges(status=CLOSED, resolution=WONT_FIX)
    assert changed_fields(before, changes) == {"status": CLOSED}


# --- who may make each move, with a resolution riding along ---------------------


def _with_resolution(old: Status, new: Status) -> IssueChanges:
    if new in {RESOLVED, CLOSED}:
        return IssueChanges(status=new, resolution=DUPLICATE, duplicate_of="i0")
    return IssueChanges(status=new)


@pytest.mark.parametrize(
    ("role", "own", "old", "new"),
    [
        (role, own, old, new)
        for role, own in product(ROLES, [True, False])
        for old, new in sorted(MOVES)
    ],
)
def test_each_role_makes_the_same_moves_with_a_resolution(role, own, old, new):
    subject = issue(old, resolution=WONT_FIX if old in {RESOLVED, CLOSED} else None)
    moved = changed_fields(subject, _with_resolution(old, new))
    assert set(moved) - {"status"} <= {"resolution", "duplicate_of"}
    if {old, new} & {RESOLVED, CLOSED}:
        assert "resolution" in moved
    allowed = new in status_moves_allowed(role, own=own, status=old)
    assert rules.may_edit(role, subject, moved, own=own) is allowed


@pytest.mark.parametrize(
    ("role", "own", "status", "changes", "allowed"),
    [
        # Testers close a resolved issue with a resolution, nothing more.
        (
            Role.TESTER,
            False,
            RESOLVED,
            IssueChanges(status=CLOSED, resolution=WONT_FIX),
            True,
        ),
        (Role.TESTER, False, RESOLVED, IssueChanges(resolution=WONT_FIX), False),
        (
            Role.TESTER,
            False,
            RESOLVED,
            IssueChanges(status=CLOSED, resolution=WONT_FIX, title="t"),
            False,
        ),
        # A service resolves or closes its own open issue with a resolution...
        (
            Role.SERVICE,
            True,
            OPEN,
            IssueChanges(status=RESOLVED, resolution=DUPLICATE, duplicate_of="i0"),
            True,
        ),
        (Role.SERVICE, True, IN_PROGRESS, IssueChanges(status=CLOSED), True),
        # ...but not another's, and never closes its own resolved one.
        (Role.SERVICE, False, OPEN, IssueChanges(status=CLOSED), False),
        (Role.SERVICE, True, RESOLVED, IssueChanges(status=CLOSED), False),
        (
            Role.SERVICE,
            True,
            RESOLVED,
            IssueChanges(status=CLOSED, resolution=WONT_FIX),
            False,
        ),
        (Role.VIEWER, True, OPEN, IssueChanges(status=RESOLVED), False),
    ],
)
def test_resolutions_follow_the_role_rules(role, own, status, changes, allowed):
    subject = issue(status)
    moved = changed_fields(subject, changes)
    assert rules.may_edit(role, subject, moved, own=own) is allowed
