"""The tracker's user: a Django user with a role, a display name and an avatar."""

from typing import Any

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone

from accounts.roles import Role


class User(AbstractUser):
    """A staff member (Google login) or a service that reports issues."""

    role = models.CharField(
        max_length=16,
        choices=[(role.value, role.name.title()) for role in Role],
        default=Role.DEVELOPER.value,
        db_index=True,
    )
    display_name = models.CharField(max_length=150, blank=True)
    avatar_url = models.URLField(max_length=500, blank=True)

    # Not stored: set by `accounts.services.compat` on the service an anonymous
    # request names in compatibility mode, which then acts under the old app's
    # contract (`accounts.roles.OLD_CONTRACT`) instead of its role.
    acts_under_old_contract: bool = False

    @property
    def actor_id(self) -> str:
        """The id stored in Firestore as `reporterId`, `authorId`, `userId`.

        Staff log in with Google and get their lower-cased e-mail as username;
        services are named by their id (`workflow-consumer`).
        """
        return self.username

    def __str__(self) -> str:
        return self.display_name or self.email or self.username


class ApiKey(models.Model):
    """A bearer key for scripts and services; only its hash is stored.

    The key reads `itk_<prefix>_<secret>`. The prefix finds the row and names the key
    in lists and commands; the SHA-256 of the whole key proves it.
    """

    owner = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "API key"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        label = f"itk_{self.prefix}…"
        return f"{label} ({self.name})" if self.name else label


class AuditAction(models.TextChoices):
    """What an audit entry records."""

    ISSUE_DELETED = "issue.deleted", "Issue moved to the trash"
    ISSUE_RESTORED = "issue.restored", "Issue restored from the trash"
    ISSUE_PURGED = "issue.purged", "Issue purged from the trash"
    ROLE_CHANGED = "user.role", "Role changed"
    ACTIVE_CHANGED = "user.active", "Active flag changed"
    KEY_CREATED = "apikey.created", "API key created"
    KEY_REVOKED = "apikey.revoked", "API key revoked"
    SIGN_IN_REFUSED = "signin.refused", "Sign-in refused"


class AppendOnly(Exception):
    """An attempt to change or remove an audit entry."""


class AuditEntryQuerySet(models.QuerySet["AuditEntry"]):
    """Audit entries in bulk: read and add only."""

    def update(self, **kwargs: Any) -> int:
        """Refused: the audit log is append-only."""
        raise AppendOnly("Audit entries cannot be changed.")

    def bulk_update(self, *args: Any, **kwargs: Any) -> int:
        """Refused: the audit log is append-only."""
        raise AppendOnly("Audit entries cannot be changed.")

    def delete(self) -> tuple[int, dict[str, int]]:
        """Refused: the audit log is append-only."""
        raise AppendOnly("Audit entries cannot be removed.")


class AuditEntry(models.Model):
    """Who did what to what, when and from where; written once, never changed.

    `actor` is the actor id (username) or, for management commands, the system
    user who ran them; `source` is the client IP of a request or `command`.
    """

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=32, choices=AuditAction.choices)
    target = models.CharField(max_length=254, blank=True)
    source = models.CharField(max_length=64)
    details = models.JSONField(default=dict, blank=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        verbose_name = "audit entry"
        verbose_name_plural = "audit log"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Insert only: an entry that exists cannot be saved again."""
        if not self._state.adding:
            raise AppendOnly("Audit entries cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        """Refused: the audit log is append-only."""
        raise AppendOnly("Audit entries cannot be removed.")
