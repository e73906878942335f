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

# The Flask app's contract, for anonymous callers in compatibility mode
# (ALLOW_ANONYMOUS_SERVICES): they read any issue, its comments and history,
# create issues and comments, and change status and priority of any issue. Not a
# role anyone holds: `accounts.policy.rules_role` gives it to such callers only.
OLD_CONTRACT = "old-contract"
OLD_CONTRACT_PERMISSIONS: dict[Action, Scope] = {
    Action.READ: _A,
    Action.CREATE: _A,
    Action.EDIT: _A,
    Action.CLOSE_OR_REOPEN: _A,
    Action.DELETE: _N,
    Action.MANAGE: _N,
}

# The fields a status change carries along with it.
STATUS_FIELDS = frozenset({"status", "resolution", "duplicate_of"})

# Roles whose EDIT grant covers only some fields: a service on its own issues,
# the old contract on any issue. Other roles with EDIT change every field.
EDITABLE_FIELD_LIMITS: dict[str, frozenset[str]] = {
    Role.SERVICE: STATUS_FIELDS | {"priority"},
    OLD_CONTRACT: STATUS_FIELDS | {"priority"},
}


def scope(role: Role | str, action: Action) -> Scope:
    """How far `role` may do `action`; unknown roles may do nothing."""
    if role == OLD_CONTRACT:
        return OLD_CONTRACT_PERMISSIONS[action]
    try:
        return PERMISSIONS[action][Role(role)]
    except ValueError:
        return Scope.NONE


def editable_field_limit(role: Role | str) -> frozenset[str] | None:
    """The only fields `role` may change where EDIT allows it; None for any."""
    return EDITABLE_FIELD_LIMITS.get(str(role))


def allows(role: Role | str, action: Action, *, own: bool = False) -> bool:
    """Whether `role` may do `action` on an issue (its own one when `own`)."""
    granted = scope(role, action)
    return granted is Scope.ALL or (granted is Scope.OWN and own)
