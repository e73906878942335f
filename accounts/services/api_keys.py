"""API keys: one per service, stored hashed, shown once, revocable."""

import hmac
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone

from accounts import keys
from accounts.models import ApiKey, AuditAction, User
from accounts.policy import Actor
from accounts.services.audit import SYSTEM, audit_record
from issuetracker.errors import InvalidInput, NotAuthenticated, NotFound

logger = logging.getLogger(__name__)

# last_used_at is written at most this often per key, not on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)
# A key found is kept in the process this many seconds, so a service's requests
# need no database read each. A revocation, expiry or owner's deactivation made
# in another process takes effect within this time (at once in this one).
KEY_CACHE_SECONDS = 10.0
_checked: dict[str, tuple[ApiKey, float]] = {}


@receiver(post_save, sender=ApiKey, dispatch_uid="api-key-cache-key-saved")
@receiver(post_save, sender=User, dispatch_uid="api-key-cache-user-saved")
def api_key_cache_clear(**kwargs: object) -> None:
    """Forget every key checked: a key or a user changed in this process."""
    _checked.clear()


@dataclass(frozen=True)
class IssuedKey:
    """A new key's record and the key itself, which is never shown again."""

    api_key: ApiKey
    key: str


def api_key_create(
    *,
    owner: User,
    name: str = "",
    expires_at: datetime | None = None,
    actor: Actor | str | None = None,
    source: str = SYSTEM,
) -> IssuedKey:
    """Issue a key for `owner` (audited with `actor` and `source`); only its
    hash is stored."""
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
                audit_record(
                    action=AuditAction.KEY_CREATED,
                    actor=actor,
                    target=f"itk_{prefix}",
                    source=source,
                    details={
                        "owner": owner.username,
                        "name": api_key.name,
                        "expiresAt": expires_at.isoformat() if expires_at else None,
                    },
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
    given_hash = keys.key_hash(key)
    cached = _checked.get(given_hash)
    if cached is not None and time.monotonic() - cached[1] < KEY_CACHE_SECONDS:
        api_key: ApiKey | None = cached[0]
    else:
        prefix = keys.key_prefix(key)
        api_key = (
            ApiKey.objects.select_related("owner").filter(prefix=prefix).first()
            if prefix
            else None
        )
    # Compare the hashes even for an unknown prefix so timing tells nothing.
    expected = api_key.key_hash if api_key else keys.key_hash("")
    if not hmac.compare_digest(expected, given_hash) or api_key is None:
        raise NotAuthenticated("Invalid API key.")
    if cached is None or cached[0] is not api_key:
        _checked[given_hash] = (api_key, time.monotonic())
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
        api_key.last_used_at = now
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


def api_key_revoke(
    *, api_key: ApiKey, actor: Actor | str | None = None, source: str = SYSTEM
) -> bool:
    """Revoke a key from the next request on (audited); False when it was
    already revoked (nothing recorded)."""
    now = timezone.now()
    with transaction.atomic():
        revoked = ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(
            revoked_at=now
        )
        if revoked:
            audit_record(
                action=AuditAction.KEY_REVOKED,
                actor=actor,
                target=f"itk_{api_key.prefix}",
                source=source,
                details={"owner": api_key.owner.username, "name": api_key.name},
            )
    if not revoked:
        api_key.refresh_from_db(fields=["revoked_at"])
        return False
    api_key.revoked_at = now
    _checked.pop(api_key.key_hash, None)
    logger.info("API key itk_%s revoked", api_key.prefix)
    return True
