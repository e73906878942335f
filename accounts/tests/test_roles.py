"""The role matrix of DESIGN.md, typed out again so a change to roles.py shows."""

import pytest

from accounts.roles import (
    OWN_EDITABLE_FIELDS,
    PERMISSIONS,
    Action,
    Role,
    Scope,
    allows,
    scope,
)

A, D, T, V, S = Role.ADMIN, Role.DEVELOPER, Role.TESTER, Role.VIEWER, Role.SERVICE
# DESIGN.md, "Roles": who may do what ("own" = only issues they reported).
DESIGN = {
    Action.READ: {A: "yes", D: "yes", T: "yes", V: "yes", S: "own"},
    Action.CREATE: {A: "yes", D: "yes", T: "yes", V: "no", S: "yes"},
    Action.EDIT: {A: "yes", D: "yes", T: "no", V: "no", S: "own"},
    Action.CLOSE_OR_REOPEN: {A: "yes", D: "yes", T: "yes", V: "no", S: "no"},
    Action.DELETE: {A: "yes", D: "no", T: "no", V: "no", S: "no"},
    Action.MANAGE: {A: "yes", D: "no", T: "no", V: "no", S: "no"},
}
CELLS = [(action, role, DESIGN[action][role]) for action in Action for role in Role]
DENIED = [(action, role) for action, role, cell in CELLS if cell == "no"]
OWN_ONLY = [(action, role) for action, role, cell in CELLS if cell == "own"]
GRANTED = [(action, role) for action, role, cell in CELLS if cell == "yes"]


def test_the_table_covers_every_action_and_role():
    assert set(PERMISSIONS) == set(Action)
    for action in Action:
        assert set(PERMISSIONS[action]) == set(Role)


@pytest.mark.parametrize(("action", "role"), DENIED)
def test_denied_even_on_own_issues(action, role):
    assert scope(role, action) is Scope.NONE
    assert not allows(role, action)
    assert not allows(role, action, own=True)


@pytest.mark.parametrize(("action", "role"), OWN_ONLY)
def test_own_only_is_denied_on_other_issues(action, role):
    assert scope(role, action) is Scope.OWN
    assert not allows(role, action)
    assert allows(role, action, own=True)


@pytest.mark.parametrize(("action", "role"), GRANTED)
def test_granted_on_any_issue(action, role):
    assert scope(role, action) is Scope.ALL
    assert allows(role, action)
    assert allows(role, action, own=True)


@pytest.mark.parametrize("action", list(Action))
def test_unknown_roles_may_do_nothing(action):
    assert scope("superuser", action) is Scope.NONE
    assert not allows("superuser", action, own=True)
    assert not allows("", action, own=True)


def test_roles_accept_their_stored_strings():
    assert allows("admin", Action.DELETE)
    assert not allows("developer", Action.DELETE)


def test_a_service_edits_only_status_and_priority_of_its_issues():
    expected = {
        Role.SERVICE: frozenset({"status", "resolution", "duplicate_of", "priority"})
    }
    assert expected == OWN_EDITABLE_FIELDS
