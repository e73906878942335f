"""People as the notifications see them: who a name means, how to call them,
who may be told anything (active staff; service users get no notifications)."""

from collections.abc import Iterable

from django.db.models import Q

from accounts.models import User
from accounts.roles import Role
from accounts.services import users


def staff_named(names: Iterable[str]) -> list[User]:
    """Active staff whose username, or e-mail local part, is one of `names`
    (lower-cased), in no particular order."""
    wanted = sorted({name.lower() for name in names if name})
    if not wanted:
        return []
    match = Q(username__in=wanted)
    for name in wanted:
        match |= Q(email__iexact=name) | Q(email__istartswith=f"{name}@")
    users = User.objects.filter(match, is_active=True).exclude(role=Role.SERVICE)
    return [
        user
        for user in users
        if user.username.lower() in wanted
        or user.email.lower() in wanted
        or user.email.lower().split("@")[0] in wanted
    ]


def notifiable(ids: Iterable[str]) -> dict[str, User]:
    """The active staff among these actor ids, by id."""
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    users = User.objects.filter(username__in=wanted, is_active=True).exclude(
        role=Role.SERVICE
    )
    return {user.actor_id: user for user in users}


def display_name(user_id: str) -> str:
    """How a person is named to people (`accounts.services.users.person_name`:
    a service's id made readable, `workflow-consumer` -> `Workflow Consumer`)."""
    if not user_id:
        return "Someone"
    return users.display_names(ids=[user_id])[user_id]
