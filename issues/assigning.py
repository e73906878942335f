"""Who may be an assignee, and who may name one: the checks a create and an edit
run before they write.

An authenticated caller sets a field at create only where its role may (see
`rules.check_create`), and names as assignee an active staff member or an
existing active service user (`accounts.services.users.assignable_id`); the id
stored is that person's own spelling. Anonymous callers under the old contract
name any assignee on create; the API makes sure it exists first
(`compat.old_contract_assignee`), as the Flask app did.
"""

from collections.abc import Mapping
from dataclasses import fields, replace
from typing import Any

from accounts.policy import Actor, rules_role
from accounts.roles import OLD_CONTRACT
from accounts.services import users
from issues import rules
from issues.domain import IssueChanges, NewIssue
from issuetracker.errors import Forbidden, InvalidInput

ASSIGNEE_RULE = "Name an active staff member or an existing service."


def _no_assignee(assignee_id: str) -> InvalidInput:
    return InvalidInput(
        f"assignee_id: {assignee_id[:100]!r} is nobody who can be assigned. "
        f"{ASSIGNEE_RULE}",
        errors={"assignee_id": [f"No one to assign named {assignee_id[:100]!r}."]},
    )


def assignee_required(assignee_id: str) -> str:
    """The stored id of the person `assignee_id` names; InvalidInput naming
    `assignee_id` when it names no one assignable."""
    found = users.assignable_id(user_id=assignee_id)
    if found is None:
        raise _no_assignee(assignee_id)
    return found


def report_checked(actor: Actor, data: NewIssue) -> NewIssue:
    """`data` as `actor` may report it: 403 for a field its role may not set,
    400 for an assignee who is no one assignable; the assignee as stored."""
    role = rules_role(actor)
    defaults = NewIssue(title="", description="")
    given = [
        field.name
        for field in fields(NewIssue)
        if getattr(data, field.name) != getattr(defaults, field.name)
    ]
    rules.check_create(role, given)
    if data.assignee_id is None or role == OLD_CONTRACT:
        return data
    return replace(data, assignee_id=assignee_required(data.assignee_id))


def changes_prepared(changes: IssueChanges) -> tuple[IssueChanges, str | None]:
    """Before an edit's transaction (which may run again): `changes` with the
    assignee spelled as stored, and the given assignee id when it names no one
    assignable (refused by `check_moved` only if the edit moves it: an issue
    keeps an assignee it has, whoever that is)."""
    assignee = changes.assignee_id
    if not isinstance(assignee, str) or not assignee:
        return changes, None
    found = users.assignable_id(user_id=assignee)
    if found is None:
        return changes, assignee
    return replace(changes, assignee_id=found), None


def check_moved(moved: Mapping[str, Any], unknown_assignee: str | None) -> None:
    """InvalidInput naming `assignee_id` when the edit moves the assignee to
    the id `changes_prepared` found no one for."""
    if unknown_assignee is not None and "assignee_id" in moved:
        raise _no_assignee(unknown_assignee)


def assignee_choices(*, actor: Actor) -> list[tuple[str, str]] | None:
    """(actor id, name) of the active staff the portal offers `actor` as the
    assignee of a new issue; None when its role may not set one."""
    try:
        rules.check_create(rules_role(actor), ["assignee_id"])
    except Forbidden:
        return None
    return users.staff_choices_active()


def edit_choices(*, current: str | None) -> list[tuple[str, str]]:
    """The active staff the portal offers as an issue's assignee, with the
    assignee it has (`current`), whoever that is, so keeping it is no change."""
    offered = users.staff_choices_active()
    if current and current not in {user_id for user_id, _ in offered}:
        name = users.display_names(ids=[current])[current]
        offered.insert(0, (current, f"{name} (now)"))
    return offered
