"""The local setup's admin and password login; off in production and without DEBUG."""

import secrets
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from accounts.models import User
from accounts.roles import Role
from issuetracker.errors import Conflict, Forbidden

DEV_ADMIN_USERNAME = "admin"


def dev_login_enabled() -> bool:
    """The password login for local users: DEBUG only, never in production."""
    return bool(
        settings.DEBUG and settings.DEV_LOGIN_ENABLED and not settings.IS_PRODUCTION
    )


@dataclass(frozen=True)
class DevAdmin:
    """The local admin and the password to sign in with."""

    user: User
    password: str
    created: bool


def dev_admin_ensure(*, password_file: Path) -> DevAdmin:
    """Create the local admin once; keep its password in `password_file` (0600).

    Later runs read the password back, or set a fresh one when the file is gone.
    """
    if not dev_login_enabled():
        raise Forbidden("The development login is off (production, or DEBUG off).")
    user = User.objects.filter(username=DEV_ADMIN_USERNAME).first()
    password = password_file.read_text().strip() if password_file.exists() else ""
    created = False
    if user is None:
        password = password or secrets.token_urlsafe(12)
        user = User(
            username=DEV_ADMIN_USERNAME,
            role=Role.ADMIN,
            display_name="Local Admin",
            is_staff=True,
            is_superuser=True,
        )
        user.set_password(password)
        user.save()
        created = True
    elif user.role != Role.ADMIN:
        raise Conflict(f"A user {DEV_ADMIN_USERNAME!r} exists and is not an admin.")
    elif not password or not user.check_password(password):
        password = secrets.token_urlsafe(12)
        user.set_password(password)
        user.save(update_fields=["password"])
    password_file.parent.mkdir(parents=True, exist_ok=True)
    password_file.touch(mode=0o600)
    password_file.write_text(password + "\n")
    return DevAdmin(user=user, password=password, created=created)
