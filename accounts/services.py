"""Account use cases: who the caller is, roles, service users and API keys.

Views, the API, the admin and management commands call these; none of them holds
an account rule of its own.
"""

import hmac
import logging
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts import keys
from accounts.models import ApiKey, User
from accounts.repository import LegacyUser
from accounts.roles import Role
from issuetracker.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotAuthenticated,
    NotFound,
)

logger = logging.getLogger(__name__)

SERVICE_ID_MAX_LENGTH = 100
_SERVICE_ID = re.compile(r"^[\w.@+-]+\Z")
# last_used_at is written at most this often per key, not on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)

AnyUser = AbstractBaseUser | AnonymousUser


# --- e-mail domains -----------------------------------------------------------


def email_domain(email: str) -> str:
    """The lower-cased part after the last `@`, or "" when there is none."""
    local, at, domain = email.strip().rpartition("@")
    return domain.lower() if at and local else ""


def email_is_allowed(email: str) -> bool:
    """Whether the address is on one of ALLOWED_EMAIL_DOMAINS, exactly."""
    return email_domain(email) in settings.ALLOWED_EMAIL_DOMAINS


def _email_is_on_allowed_domain_or_below(email: str) -> bool:
    domain = email_domain(email)
    return any(
        domain == allowed or domain.endswith(f".{allowed}")
        for allowed in settings.ALLOWED_EMAIL_DOMAINS
    )


class LoginRefused(Forbidden):
    """A Google account that may not sign in here."""

    code, title = "login_refused", "Sign-in refused"


def google_login_check(*, email: str | None, verified: bool) -> str:
    """The lower-cased e-mail of an admissible Google login; LoginRefused else.

    Admissible: an address Google marks verified whose domain, lower-cased, is one
    of ALLOWED_EMAIL_DOMAINS exactly (no subdomains, no suffix tricks).
    """
    if not email:
        raise LoginRefused("Google did not share an e-mail address.")
    if not verified:
        raise LoginRefused("Google has not verified this e-mail address.")
    if not email_is_allowed(email):
        raise LoginRefused("Only accounts on the company's domain may sign in.")
    return email.strip().lower()


def staff_user_for_email(*, email: str) -> User | None:
    """The existing non-service user a first Google login should attach to.

    Users added before their first login (by `assign_role --create` or the
    Firestore import) are named by their e-mail.
    """
    return (
        User.objects.filter(Q(username__iexact=email) | Q(email__iexact=email))
        .exclude(role=Role.SERVICE)
        .order_by("pk")
        .first()
    )


def staff_profile_refresh(*, user: User, display_name: str, avatar_url: str) -> None:
    """Keep the name and picture Google reports, when they changed."""
    changed = []
    if display_name and user.display_name != display_name:
        user.display_name = display_name[:150]
        changed.append("display_name")
    if avatar_url and user.avatar_url != avatar_url:
        user.avatar_url = avatar_url[:500]
        changed.append("avatar_url")
    if changed:
        user.save(update_fields=changed)


# --- services (the API's compatibility mode) ------------------------------------


def service_display_name(service_id: str) -> str:
    """`workflow-consumer` -> `Workflow Consumer`; other capitals are kept."""
    words = [word for word in re.split(r"[-_.\s]+", service_id) if word]
    return " ".join(word[:1].upper() + word[1:] for word in words) or service_id


def _service_id_check(service_id: str) -> None:
    """InvalidInput for a malformed id; Forbidden for one that could be staff's."""
    if not service_id or len(service_id) > SERVICE_ID_MAX_LENGTH:
        raise InvalidInput(
            f"A service id has 1 to {SERVICE_ID_MAX_LENGTH} characters.",
            errors={"reporter_id": ["Give 1 to 100 characters."]},
        )
    if not _SERVICE_ID.match(service_id):
        raise InvalidInput(
            "A service id has letters, digits and @ . + - _ only.",
            errors={"reporter_id": ["Letters, digits and @ . + - _ only."]},
        )
    if _email_is_on_allowed_domain_or_below(service_id):
        raise Forbidden("Staff members must sign in; their id cannot name a service.")
    others = User.objects.filter(
        Q(username__iexact=service_id) | Q(email__iexact=service_id)
    ).exclude(role=Role.SERVICE)
    if others.exists():
        raise Forbidden("This id belongs to a staff member, not a service.")


def _usable_service(user: User) -> User:
    if user.role != Role.SERVICE:
        raise Forbidden("This id belongs to a staff member, not a service.")
    if not user.is_active:
        raise Forbidden("This service has been deactivated.")
    return user


def service_user_for(*, service_id: str) -> User:
    """The active `service` user named `service_id`, created on first use.

    Refuses ids that could be a staff member: an e-mail on an allowed domain, or
    the name of any user whose role is not `service`.
    """
    _service_id_check(service_id)
    try:
        user, created = User.objects.get_or_create(
            username=service_id,
            defaults={
                "role": Role.SERVICE,
                "display_name": service_display_name(service_id),
                "password": "!",  # unusable: services never log in with a password
            },
        )
    except IntegrityError:  # created by a concurrent request with other casing
        raise Forbidden("This id belongs to another user.") from None
    _usable_service(user)
    if created:
        logger.info("Created service user %s on first anonymous call", service_id)
    return user


def service_user_find(*, service_id: str) -> User:
    """As `service_user_for`, for reads: looks the service up, never creates it.

    Reads are not rate-limited, so they must not add a row per made-up id. A
    service with no row yet (it has not written since the move from the old app)
    acts as an unsaved `service` user: like any service it sees only the issues
    reported under its id, a 404 for every other one.
    """
    _service_id_check(service_id)
    user = User.objects.filter(username__iexact=service_id).first()
    if user is None:
        return User(
            username=service_id,
            role=Role.SERVICE,
            display_name=service_display_name(service_id),
        )
    if user.username != service_id:
        raise Forbidden("This id belongs to another user.")
    return _usable_service(user)


def actor_for_request(
    *, user: AnyUser | None, claimed_id: str | None, create: bool = True
) -> User:
    """The user a request acts as.

    An authenticated caller acts as itself, whatever id the body names. An
    anonymous caller acts as the service it names, only while
    ALLOW_ANONYMOUS_SERVICES is on; the service's user is created on first use
    only with `create` (writes), and only looked up otherwise (reads).
    """
    if user is not None and user.is_authenticated:
        if not isinstance(user, User) or not user.is_active:
            raise NotAuthenticated("This account is deactivated.")
        return user
    if settings.ALLOW_ANONYMOUS_SERVICES and claimed_id:
        if create:
            return service_user_for(service_id=claimed_id)
        return service_user_find(service_id=claimed_id)
    raise NotAuthenticated(
        "Authentication required: send `Authorization: Bearer <key>` or sign in."
    )


# --- users and roles --------------------------------------------------------------


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


def _is_last_active_admin(user: User) -> bool:
    if user.role != Role.ADMIN or not user.is_active:
        return False
    others = User.objects.filter(role=Role.ADMIN, is_active=True).exclude(pk=user.pk)
    return not others.exists()


def user_set_role(*, user: User, role: Role) -> User:
    """Give `user` a role. Admins (and only admins) reach the Django admin.

    The last active admin keeps the role, so nobody is locked out of managing
    users.
    """
    if role != Role.ADMIN and _is_last_active_admin(user):
        raise Conflict(f"{user.username} is the last active admin; appoint another.")
    user.role = role
    user.is_staff = user.is_superuser = role == Role.ADMIN
    user.save(update_fields=["role", "is_staff", "is_superuser"])
    logger.info("Role of %s set to %s", user.username, role.value)
    return user


def user_set_active(*, actor: AnyUser | None, user: User, active: bool) -> User:
    """Activate or deactivate `user`; it takes effect on their next request.

    The last active admin stays active, so nobody is locked out of managing users.
    """
    if not active and _is_last_active_admin(user):
        raise Conflict(f"{user.username} is the last active admin; appoint another.")
    user.is_active = active
    user.save(update_fields=["is_active"])
    by = getattr(actor, "username", None) or "system"
    logger.info(
        "%s %s by %s", user.username, "activated" if active else "deactivated", by
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


def user_assign_role(*, identifier: str, role: Role, create: bool = False) -> User:
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
    return user_set_role(user=user, role=role)


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


# --- API keys ---------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedKey:
    """A new key's record and the key itself, which is never shown again."""

    api_key: ApiKey
    key: str


def api_key_create(
    *, owner: User, name: str = "", expires_at: datetime | None = None
) -> IssuedKey:
    """Issue a key for `owner`; only its hash is stored."""
    if expires_at is not None and expires_at <= timezone.now():
        raise InvalidInput("The expiry date must lie in the future.")
    for _attempt in range(3):
        prefix, key = keys.key_new()
        try:
            with transaction.atomic():
                api_key = ApiKey.objects.create(
                    owner=owner,
                    name=name.strip(),
                    prefix=prefix,
                    key_hash=keys.key_hash(key),
                    expires_at=expires_at,
                )
        except IntegrityError:  # prefix clash: draw again
            continue
        logger.info("API key itk_%s created for %s", prefix, owner.username)
        return IssuedKey(api_key=api_key, key=key)
    raise RuntimeError("Could not draw a unique API key prefix.")


def api_key_expiry(*, days: int | None) -> datetime | None:
    """The expiry `days` from now, or None for a key that does not expire."""
    if days is None:
        return None
    if days < 1:
        raise InvalidInput("A key lasts at least one day.")
    return timezone.now() + timedelta(days=days)


def api_key_authenticate(*, key: str) -> User:
    """The active owner of a valid, unexpired, unrevoked key; NotAuthenticated else.

    Records when the key was used, at most once per LAST_USED_RESOLUTION.
    """
    prefix = keys.key_prefix(key)
    api_key = (
        ApiKey.objects.select_related("owner").filter(prefix=prefix).first()
        if prefix
        else None
    )
    # Compare the hashes even for an unknown prefix so timing tells nothing.
    expected = api_key.key_hash if api_key else keys.key_hash("")
    if not hmac.compare_digest(expected, keys.key_hash(key)) or api_key is None:
        raise NotAuthenticated("Invalid API key.")
    now = timezone.now()
    if api_key.revoked_at is not None:
        raise NotAuthenticated("This API key has been revoked.")
    if api_key.expires_at is not None and api_key.expires_at <= now:
        raise NotAuthenticated("This API key has expired.")
    if not api_key.owner.is_active:
        raise NotAuthenticated("The owner of this API key is deactivated.")
    last_used = api_key.last_used_at
    if last_used is None or now - last_used >= LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
    return api_key.owner


def api_key_get(*, prefix: str) -> ApiKey:
    """The key named by its prefix, with or without `itk_`, or by the whole key."""
    value = prefix.strip()
    parsed = keys.key_prefix(value)
    if parsed is not None:
        value = parsed
    value = value.removeprefix(keys.KEY_MARK).rstrip("_…")
    api_key = ApiKey.objects.select_related("owner").filter(prefix=value).first()
    if api_key is None:
        raise NotFound(f"No API key with prefix {prefix!r}.")
    return api_key


def api_key_revoke(*, api_key: ApiKey) -> bool:
    """Revoke a key from the next request on; False when it was already revoked."""
    if api_key.revoked_at is not None:
        return False
    api_key.revoked_at = timezone.now()
    api_key.save(update_fields=["revoked_at"])
    logger.info("API key itk_%s revoked", api_key.prefix)
    return True


# --- development login ------------------------------------------------------------

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


# --- import from the old app -------------------------------------------------------


@dataclass
class ImportReport:
    """What an import did; `skipped` holds one reason per skipped document."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[str] = field(default_factory=list)


def _legacy_user_apply(record: LegacyUser, report: ImportReport) -> None:
    email = record.email.strip().lower()
    if not email:
        report.skipped.append(f"{record.doc_id}: no e-mail")
        return
    if not email_is_allowed(email):
        report.skipped.append(f"{record.doc_id}: {email} is not on an allowed domain")
        return
    try:
        role = role_parse(record.role) if record.role.strip() else Role.DEVELOPER
    except InvalidInput:
        report.skipped.append(f"{record.doc_id}: unknown role {record.role!r}")
        return
    avatar_url = record.photo_url if record.photo_url.startswith("https://") else ""
    user = staff_user_for_email(email=email)
    if user is None:
        user = staff_user_create(email=email, role=role)
        user.display_name = record.display_name[:150]
        user.avatar_url = avatar_url[:500]
        user.save(update_fields=["display_name", "avatar_url"])
        report.created += 1
        return
    before = (user.role, user.display_name, user.avatar_url, user.email)
    user.display_name = record.display_name[:150] or user.display_name
    user.avatar_url = avatar_url[:500] or user.avatar_url
    user.email = user.email or email
    user.save(update_fields=["display_name", "avatar_url", "email"])
    if user.role != role:
        try:
            user_set_role(user=user, role=role)
        except Conflict as error:
            report.skipped.append(f"{record.doc_id}: {error.message}")
            return
    if before == (user.role, user.display_name, user.avatar_url, user.email):
        report.unchanged += 1
    else:
        report.updated += 1


def users_import_legacy(*, records: Iterable[LegacyUser]) -> ImportReport:
    """Create or update users from the old app's `users` documents. Idempotent.

    Only addresses on the allowed domains are imported; the role defaults to
    developer when the document has none.
    """
    report = ImportReport()
    for record in records:
        with transaction.atomic():
            _legacy_user_apply(record, report)
    logger.info(
        "Imported users: %d created, %d updated, %d unchanged, %d skipped",
        report.created,
        report.updated,
        report.unchanged,
        len(report.skipped),
    )
    return report
