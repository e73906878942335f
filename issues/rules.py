"""Who may change what on an issue: pure rules over a role and an issue.

The role matrix lives in `accounts.roles`; these functions apply it to one issue
and one set of changes, taking the caller's role and whether the issue is the
caller's own (its reporter). Nothing here reads a store or a user, so the rules
are table-tested without Firestore or a database; the services call them.
"""

from collections.abc import Iterable, Mapping
from typing import Any

from accounts.roles import OLD_CONTRACT, Action, Role, allows, editable_field_limit
from issues.domain import EDITABLE_FIELDS, STATUS_MOVES, Issue, Status
from issues.workflow import is_close_or_reopen
from issuetracker.errors import Forbidden


def check_edit(
    role: Role | str, issue: Issue, moved: Mapping[str, Any], *, own: bool
) -> None:
    """Raise Forbidden unless `role` may make the changes `moved` (domain field
    name -> new value) to `issue`; `own` when the caller reported it.

    Closing or reopening a resolved issue needs CLOSE_OR_REOPEN over it whatever
    EDIT allows: a service edits the status of its own issues but may not close
    or reopen them (DESIGN.md, "Roles"), alone or along with other fields.
    """
    closes_or_reopens = "status" in moved and is_close_or_reopen(
        issue, {"status": moved["status"]}
    )
    if closes_or_reopens and not allows(role, Action.CLOSE_OR_REOPEN, own=own):
        raise Forbidden(
            "Your role may not close or reopen a resolved issue.",
            errors={"status": ["Your role may not close or reopen this issue."]},
        )
    if allows(role, Action.EDIT, own=own):
        allowed = editable_field_limit(role)
        refused = sorted(set(moved) - allowed) if allowed is not None else []
        if allowed is not None and refused:
            raise Forbidden(
                f"Your role may change only {', '.join(sorted(allowed))} of "
                f"{'any' if allows(role, Action.EDIT) else 'its own'} issues, "
                f"not {', '.join(refused)}.",
                errors={name: ["Not editable by your role."] for name in refused},
            )
        return
    if is_close_or_reopen(issue, moved):  # and CLOSE_OR_REOPEN allows it (above)
        return
    raise Forbidden("Your role does not allow this change.")


# Fields a report may set beyond what CREATE covers: setting one at create needs
# what changing it later needs, EDIT over one's own issue within the role's field
# limit (DESIGN.md, "Roles": assigning is editing).
FIELDS_NEEDING_EDIT_AT_CREATE = frozenset({"assignee_id"})


def check_create(role: Role | str, given: Iterable[str]) -> None:
    """Raise Forbidden, naming each field, unless `role` may set every field of
    `given` (domain names) on an issue it creates.

    The old contract is the Flask app's, unchanged: its anonymous callers name
    an assignee on create (DESIGN.md, "Compatibility mode").
    """
    if role == OLD_CONTRACT:
        return
    limit = editable_field_limit(role)
    refused = sorted(
        name
        for name in set(given) & FIELDS_NEEDING_EDIT_AT_CREATE
        if not allows(role, Action.EDIT, own=True)
        or (limit is not None and name not in limit)
    )
    if refused:
        raise Forbidden(
            f"Your role may not set {', '.join(refused)} on a new issue: "
            "assigning is editing, which your role may not do.",
            errors={name: ["Not settable by your role."] for name in refused},
        )


def may_edit(
    role: Role | str, issue: Issue, moved: Mapping[str, Any], *, own: bool
) -> bool:
    """Whether `check_edit` lets these changes through."""
    try:
        check_edit(role, issue, moved, own=own)
    except Forbidden:
        return False
    return True


def status_moves(role: Role | str, issue: Issue, *, own: bool) -> list[Status]:
    """The statuses `role` may move `issue` to now: the allowed moves that
    `check_edit` lets through (none closing or reopening a service's resolved
    issue)."""
    return [
        status
        for status in Status  # in the order of an issue's life
        if status in STATUS_MOVES[issue.status]
        and may_edit(role, issue, {"status": status}, own=own)
    ]


def editable_fields(role: Role | str, issue: Issue, *, own: bool) -> frozenset[str]:
    """The fields (domain names) `role` may change on `issue`, status aside."""
    return frozenset(
        name
        for name in EDITABLE_FIELDS
        if name != "status" and may_edit(role, issue, {name: object()}, own=own)
    )
