"""The API's compatibility mode: anonymous callers act as the service they name.

The Flask app's contract (DESIGN.md, "Compatibility mode"): while
ALLOW_ANONYMOUS_SERVICES is on, an anonymous request names its actor in the body
or a header, and that service's user is created on first write. Everything that
decides who such a request acts as lives here, so it can be read, audited or
removed on its own.
"""

import logging
import re
import time

from django.conf import settings
from django.db import IntegrityError
from django.db.models import Q
from django.db.models.signals import post_save
from django.dispatch import receiver

from accounts.models import User
from accounts.policy import Actor
from accounts.roles import Role
from accounts.services.domains import email_is_on_allowed_domain_or_below
from issuetracker.errors import Forbidden, InvalidInput, NotAuthenticated

logger = logging.getLogger(__name__)

SERVICE_ID_MAX_LENGTH = 100
# ASCII only, so no look-alike (a Cyrillic or fullwidth "a") passes for another id;
# no `@`, so no id reads as an e-mail, staff's or anyone's.
_SERVICE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
SERVICE_ID_RULE = (
    f"A service id is 1 to {SERVICE_ID_MAX_LENGTH} ASCII letters, digits, "
    "'.', '_' or '-', starting with a letter or digit; not an e-mail."
)
# Service users found for anonymous writes, kept in the process this many seconds
# so a service's reports need no database reads each (a user saved in this
# process clears them; one deactivated in another takes effect within this time).
SERVICE_CACHE_SECONDS = 10.0
_services: dict[str, tuple[User, float]] = {}


@receiver(post_save, sender=User, dispatch_uid="compat-service-cache-user-saved")
def service_cache_clear(**kwargs: object) -> None:
    """Forget every service user found: a user changed in this process."""
    _services.clear()


def service_display_name(service_id: str) -> str:
    """`workflow-consumer` -> `Workflow Consumer`; other capitals are kept."""
    words = [word for word in re.split(r"[-_.\s]+", service_id) if word]
    return " ".join(word[:1].upper() + word[1:] for word in words) or service_id


def service_id_normalized(service_id: str, *, field: str = "reporter_id") -> str:
    """The one spelling of a service id: lower-cased, so `SVC-A` is `svc-a`.

    InvalidInput naming `field` (the input the id came from) for an id outside
    SERVICE_ID_RULE; Forbidden for one that could be staff's: an e-mail on an
    allowed domain (checked first, for its clearer answer) or the name of a user
    whose role is not `service`.
    """
    if email_is_on_allowed_domain_or_below(service_id):
        raise Forbidden("Staff members must sign in; their id cannot name a service.")
    if not _SERVICE_ID.fullmatch(service_id):
        raise InvalidInput(
            f"{field}: {SERVICE_ID_RULE}", errors={field: [SERVICE_ID_RULE]}
        )
    others = User.objects.filter(
        Q(username__iexact=service_id) | Q(email__iexact=service_id)
    ).exclude(role=Role.SERVICE)
    if others.exists():
        raise Forbidden("This id belongs to a staff member, not a service.")
    return service_id.lower()


def _service_named(service_id: str) -> User | None:
    """The service user an id names, whatever the letter case.

    Services are stored lower-cased; one created before that rule keeps its
    stored spelling, because the issues it reported name it so, and answers to
    any casing. Should two such rows differ only in case, the exact spelling
    wins, then the lower-cased one, then the oldest.
    """
    found = list(
        User.objects.filter(username__iexact=service_id, role=Role.SERVICE).order_by(
            "pk"
        )[:10]
    )
    for wanted in (service_id, service_id.lower()):
        for user in found:
            if user.username == wanted:
                return user
    return found[0] if found else None


def _usable_service(user: User) -> User:
    if user.role != Role.SERVICE:
        raise Forbidden("This id belongs to a staff member, not a service.")
    if not user.is_active:
        raise Forbidden("This service has been deactivated.")
    return user


def service_user_for(*, service_id: str, field: str = "reporter_id") -> User:
    """The active `service` user named `service_id` (any letter case), created
    lower-cased on first use.

    Refuses malformed ids (400 naming `field`) and ids that could be a staff
    member (403): see `service_id_normalized`.
    """
    cached = _services.get(service_id)
    if cached is not None and time.monotonic() - cached[1] < SERVICE_CACHE_SECONDS:
        return cached[0]
    normalized = service_id_normalized(service_id, field=field)
    user = _service_named(service_id)
    if user is None:
        try:
            user, created = User.objects.get_or_create(
                username=normalized,
                defaults={
                    "role": Role.SERVICE,
                    "display_name": service_display_name(normalized),
                    "password": "!",  # unusable: services never log in with one
                },
            )
        except IntegrityError:  # a user with this name but another role, just made
            raise Forbidden("This id belongs to another user.") from None
        if created:
            logger.info("Created service user %s on first anonymous call", normalized)
    _usable_service(user)
    _services[service_id] = (user, time.monotonic())
    return user


def service_user_find(*, service_id: str, field: str = "X-User-Id") -> User:
    """As `service_user_for`, for reads: looks the service up, never creates it.

    Reads are not rate-limited, so they must not add a row per made-up id. A
    service with no row yet (it has not written since the move from the old app)
    acts as an unsaved `service` user: like any service it sees only the issues
    reported under its id, a 404 for every other one.
    """
    normalized = service_id_normalized(service_id, field=field)
    user = _service_named(service_id)
    if user is None:
        return User(
            username=normalized,
            role=Role.SERVICE,
            display_name=service_display_name(normalized),
        )
    return _usable_service(user)


def _old_contract(user: User) -> User:
    user.acts_under_old_contract = True
    return user


def actor_for_request(
    *,
    user: Actor | None,
    claimed_id: str | None,
    create: bool = True,
    field: str = "reporter_id",
) -> User:
    """The user a request acts as.

    An authenticated caller acts as itself, whatever id the body names, under its
    role. An anonymous caller, only while ALLOW_ANONYMOUS_SERVICES is on, acts
    under the old app's contract (`accounts.roles.OLD_CONTRACT`) as the service
    it names; the service's user is created on first use only with `create`
    (writes), and only looked up otherwise (reads). An anonymous read that names
    no one reads as an unnamed caller; a write must name its actor. `field`
    names the input the claimed id came from in a 400.
    """
    if user is not None and user.is_authenticated:
        if not isinstance(user, User) or not user.is_active:
            raise NotAuthenticated("This account is deactivated.")
        return user
    if settings.ALLOW_ANONYMOUS_SERVICES:
        if claimed_id and create:
            return _old_contract(service_user_for(service_id=claimed_id, field=field))
        if claimed_id:
            return _old_contract(service_user_find(service_id=claimed_id, field=field))
        if not create:
            return _old_contract(User(username="", role=Role.SERVICE))
    raise NotAuthenticated(
        "Authentication required: send `Authorization: Bearer <key>` or sign in."
    )


def old_contract_assignee(*, assignee_id: str) -> str:
    """The assignee an anonymous caller names, made sure to exist as the old app
    did: a user with this exact id, or else the `service` user for it (created
    on first use; ids that could be staff's refused). Returns the id to store:
    the service's own spelling (`SVC-A` is stored as `svc-a`)."""
    if User.objects.filter(username=assignee_id).exists():
        return assignee_id
    return service_user_for(service_id=assignee_id, field="assignee_id").actor_id
