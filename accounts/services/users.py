"""Users and roles: look-ups, role changes with the last-admin guard, listings."""

import logging
import random
import time
from collections.abc import Callable, Iterable

from django.conf import settings
from django.db import OperationalError, transaction
from django.db.models import Q

from accounts.models import AuditAction, User
from accounts.policy import Actor
from accounts.roles import Role
from accounts.services.audit import SYSTEM, actor_label, audit_record
from accounts.services.compat import service_display_name, service_user_for
from accounts.services.domains import email_is_allowed
from issuetracker.errors import Conflict, InvalidInput, NotFound

logger = logging.getLogger(__name__)


def user_get(*, identifier: str) -> User:
    """The user with this username, or else this e-mail (any letter case)."""
    identifier = identifier.strip()
    for lookup in (
        Q(username=identifier),
        Q(username__iexact=identifier),
        Q(email__iexact=identifier),
    ):
        matches = list(User.objects.filter(lookup)[:2])
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise InvalidInput(f"{identifier!r} matches several users; use a username.")
    raise NotFound(f"No user {identifier!r}.")


def role_parse(value: str) -> Role:
    """The Role spelled `value` (any case), or InvalidInput naming the choices."""
    try:
        return Role(value.strip().lower())
    except ValueError:
        choices = ", ".join(role.value for role in Role)
        message = f"Unknown role {value!r}; choose one of {choices}."
        raise InvalidInput(message) from None


# A concurrent change holding the database's write lock (SQLite) makes the
# other fail at once with "database is locked"; it is tried again this often.
LOCK_ATTEMPTS = 5
LOCK_PAUSE = 0.05


def _locked_admin_change(user: User, change: Callable[[], None]) -> None:
    """Run `change` (which would take `user` out of the active admins) in one
    transaction holding the active admins' rows, unless `user` is the last.

    `select_for_update` makes a concurrent demotion wait for this one's commit
    (PostgreSQL), then see the admins as they are then, so two demotions of the
    last two admins leave one. SQLite locks the whole database instead, and
    refuses the second writer at once: that attempt is rolled back and tried
    again after a pause.
    """
    for attempt in range(LOCK_ATTEMPTS):
        try:
            with transaction.atomic():
                admins = list(
                    User.objects.select_for_update()
                    .filter(role=Role.ADMIN, is_active=True)
                    .order_by("pk")
                    .values_list("pk", flat=True)
                )
                if admins == [user.pk]:
                    raise Conflict(
                        f"{user.username} is the last active admin; appoint another."
                    )
                change()
            return
        except OperationalError as error:
            if "locked" not in str(error) or attempt == LOCK_ATTEMPTS - 1:
                raise
            time.sleep(random.uniform(0, LOCK_PAUSE * 2**attempt))  # noqa: S311


def user_set_role(
    *, user: User, role: Role, actor: Actor | str | None = None, source: str = SYSTEM
) -> User:
    """Give `user` a role (audited). Admins (and only admins) reach the Django
    admin.

    The last active admin keeps the role, so nobody is locked out of managing
    users; the check and the change are one locked transaction.
    """
    previous = user.role

    def change() -> None:
        user.role = role
        user.is_staff = user.is_superuser = role == Role.ADMIN
        user.save(update_fields=["role", "is_staff", "is_superuser"])
        audit_record(
            action=AuditAction.ROLE_CHANGED,
            actor=actor,
            target=user.username,
            source=source,
            details={"from": str(previous), "to": role.value},
        )

    try:
        if role != Role.ADMIN:
            _locked_admin_change(user, change)
        else:
            with transaction.atomic():
                change()
    except BaseException:
        user.role = previous
        user.is_staff = user.is_superuser = previous == Role.ADMIN
        raise
    logger.info("Role of %s set to %s", user.username, role.value)
    return user


def user_set_active(
    *, actor: Actor | str | None, user: User, active: bool, source: str = SYSTEM
) -> User:
    """Activate or deactivate `user` (audited); it takes effect on their next
    request.

    The last active admin stays active, so nobody is locked out of managing
    users; the check and the change are one locked transaction.
    """
    previous = user.is_active

    def change() -> None:
        user.is_active = active
        user.save(update_fields=["is_active"])
        audit_record(
            action=AuditAction.ACTIVE_CHANGED,
            actor=actor,
            target=user.username,
            source=source,
            details={"from": previous, "to": active},
        )

    try:
        if not active:
            _locked_admin_change(user, change)
        else:
            with transaction.atomic():
                change()
    except BaseException:
        user.is_active = previous
        raise
    logger.info(
        "%s %s by %s",
        user.username,
        "activated" if active else "deactivated",
        actor_label(actor),
    )
    return user


def staff_user_create(*, email: str, role: Role = Role.DEVELOPER) -> User:
    """A staff member who will sign in with Google; username is the e-mail."""
    email = email.strip().lower()
    if not email_is_allowed(email):
        domains = ", ".join(settings.ALLOWED_EMAIL_DOMAINS)
        raise InvalidInput(f"{email!r} is not an e-mail on {domains}.")
    if User.objects.filter(Q(username__iexact=email) | Q(email__iexact=email)).exists():
        raise InvalidInput(f"A user {email!r} already exists.")
    user = User(username=email, email=email, role=role)
    user.is_staff = user.is_superuser = role == Role.ADMIN
    user.set_unusable_password()
    user.save()
    return user


def user_assign_role(
    *,
    identifier: str,
    role: Role,
    create: bool = False,
    actor: Actor | str | None = None,
    source: str = SYSTEM,
) -> User:
    """Set the role of an existing user; with `create`, add a missing one first.

    A created user is a staff member named by an allowed e-mail, or a service
    when the role is `service`.
    """
    try:
        user = user_get(identifier=identifier)
    except NotFound:
        if not create:
            raise
        if role == Role.SERVICE:
            user = service_user_for(service_id=identifier.strip())
        else:
            user = staff_user_create(email=identifier, role=role)
    return user_set_role(user=user, role=role, actor=actor, source=source)


def users_list(*, role: Role | None = None) -> list[User]:
    """All users, optionally of one role, by username."""
    users = User.objects.order_by("username")
    if role is not None:
        users = users.filter(role=role)
    return list(users)


def staff_usernames_active() -> list[str]:
    """Usernames (actor ids) of active staff, by username; no services.

    One column from one query, for the portal's assignee and reporter suggestions.
    """
    usernames = (
        User.objects.filter(is_active=True)
        .exclude(role=Role.SERVICE)
        .order_by("username")
        .values_list("username", flat=True)
    )
    return list(usernames)


# --- people as others see them --------------------------------------------------------


def person_name(user: User) -> str:
    """How a person is named to people: the display name; else a staff member's
    full name or e-mail, a service's id made readable (`workflow-consumer` ->
    `Workflow Consumer`)."""
    if user.display_name:
        return user.display_name
    if user.role == Role.SERVICE:
        return service_display_name(user.username)
    return user.get_full_name() or user.email or user.username


def _unknown_name(user_id: str) -> str:
    """The name of an id no user holds (one the old app stored): made readable
    like a service's, unless it is an e-mail."""
    return user_id if "@" in user_id else service_display_name(user_id)


def display_names(*, ids: Iterable[str]) -> dict[str, str]:
    """Actor id -> name (`person_name`) for every non-empty id, in one query."""
    wanted = {user_id for user_id in ids if user_id}
    if not wanted:
        return {}
    users = User.objects.filter(username__in=wanted).only(
        "username", "display_name", "first_name", "last_name", "email", "role"
    )
    names = {user.username: person_name(user) for user in users}
    return {user_id: names.get(user_id) or _unknown_name(user_id) for user_id in wanted}


def assignable_id(*, user_id: str) -> str | None:
    """The actor id of who `user_id` names as an assignee, or None for no one
    assignable: an active staff member (username or e-mail, any letter case) or
    an active service user (any letter case, as `compat` looks services up)."""
    user_id = user_id.strip()
    if not user_id:
        return None
    found = list(
        User.objects.filter(
            Q(username__iexact=user_id) | Q(email__iexact=user_id), is_active=True
        ).order_by("pk")[:10]
    )
    exact = [user for user in found if user.username == user_id]
    chosen = exact or found
    staff = [user for user in chosen if user.role != Role.SERVICE]
    if len(staff) == 1:
        return staff[0].actor_id
    services = [
        user
        for user in chosen
        if user.role == Role.SERVICE and user.username.lower() == user_id.lower()
    ]
    return services[0].actor_id if len(staff) == 0 and services else None


def staff_choices_active() -> list[tuple[str, str]]:
    """(actor id, name) of active staff, by name: who the portal offers as
    assignees. One query."""
    users = (
        User.objects.filter(is_active=True)
        .exclude(role=Role.SERVICE)
        .only("username", "display_name", "first_name", "last_name", "email", "role")
    )
    people = [(user.actor_id, person_name(user)) for user in users]
    return sorted(people, key=lambda person: (person[1].lower(), person[0]))
