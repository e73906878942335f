"""Roles and what each may do: the one place the rules of DESIGN.md live.

The API's permission classes, the portal's helper and the admin all read these
tables; nothing else decides who may do what.
"""

from enum import StrEnum


class Role(StrEnum):
    """A user's role; stored on `accounts.User.role`."""

    ADMIN = "admin"
    DEVELOPER = "developer"
    TESTER = "tester"
    VIEWER = "viewer"
    SERVICE = "service"


class Action(StrEnum):
    """Something a caller may try to do."""

    READ = "read"  # issues, comments, history
    CREATE = "create"  # issues, comments
    EDIT = "edit"  # any field, the assignee, any allowed status move
    CLOSE_OR_REOPEN = "close_or_reopen"  # close or reopen a resolved issue
    DELETE = "delete"  # issues
    MANAGE = "manage"  # users, roles, keys


class Scope(StrEnum):
    """Over which issues a role may do an action."""

    ALL = "all"
    OWN = "own"  # issues the caller reported
    NONE = "none"


_A, _O, _N = Scope.ALL, Scope.OWN, Scope.NONE

# The table of DESIGN.md, "Roles": action -> role -> scope.
PERMISSIONS: dict[Action, dict[Role, Scope]] = {
    Action.READ: {
        Role.ADMIN: _A, Role.DEVELOPER: _A, Role.TESTER: _A, Role.VIEWER: _A,
        Role.SERVICE: _O,
    },
    Action.CREATE: {
        Role.ADMIN: _A, Role.DEVELOPER: _A, Role.TESTER: _A, Role.VIEWER: _N,
        Role.SERVICE: _A,
    },
    Action.EDIT: {
        Role.ADMIN: _A, Role.DEVELOPER: _A, Role.TESTER: _N, Role.VIEWER: _N,
        Role.SERVICE: _O,
    },
    Action.CLOSE_OR_REOPEN: {
        Role.ADMIN: _A, Role.DEVELOPER: _A, Role.TESTER: _A, Role.VIEWER: _N,
        Role.SERVICE: _N,
    },
    Action.DELETE: {
        Role.ADMIN: _A, Role.DEVELOPER: _N, Role.TESTER: _N, Role.VIEWER: _N,
        Role.SERVICE: _N,
    },
    Action.MANAGE: {
        Role.ADMIN: _A, Role.DEVELOPER: _N, Role.TESTER: _N, Role.VIEWER: _N,
        Role.SERVICE: _N,
    },
}  # fmt: skip

# With EDIT over its OWN issues, a service may change only these fields (the
# resolution and the issue it duplicates go with the status).
OWN_EDITABLE_FIELDS: dict[Role, frozenset[str]] = {
    Role.SERVICE: frozenset({"status", "resolution", "duplicate_of", "priority"}),
}


def scope(role: Role | str, action: Action) -> Scope:
    """How far `role` may do `action`; unknown roles may do nothing."""
    try:
        return PERMISSIONS[action][Role(role)]
    except ValueError:
        return Scope.NONE


def allows(role: Role | str, action: Action, *, own: bool = False) -> bool:
    """Whether `role` may do `action` on an issue (its own one when `own`)."""
    granted = scope(role, action)
    return granted is Scope.ALL or (granted is Scope.OWN and own)
