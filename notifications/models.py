"""Each person's notification settings (relational: read per delivery, edited
in the portal)."""

from django.conf import settings
from django.db import models

from notifications.domain import DEFAULT_EMAIL, EmailMode, Kind

_MODES = [(mode.value, mode.value.title()) for mode in EmailMode]


def _field(kind: Kind) -> models.CharField[str, str]:
    return models.CharField(
        max_length=10, choices=_MODES, default=DEFAULT_EMAIL[kind].value
    )


class NotificationSettings(models.Model):
    """How one person is told: e-mail per kind, and critical-issue alerts."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="notification_settings",
    )
    email_assigned = _field(Kind.ASSIGNED)
    email_mentioned = _field(Kind.MENTIONED)
    email_status_changed = _field(Kind.STATUS_CHANGED)
    email_commented = _field(Kind.COMMENTED)
    email_critical = _field(Kind.CRITICAL)
    email_occurred = _field(Kind.OCCURRED)
    # Told of every new critical issue (in the app, and by e-mail per
    # email_critical); off by default.
    critical_issues = models.BooleanField(default=False)

    class Meta:
        verbose_name_plural = "notification settings"

    def __str__(self) -> str:
        return f"Notification settings of {self.user}"

    def email_mode(self, kind: Kind) -> EmailMode:
        """The e-mail mode this person chose for `kind`."""
        return EmailMode(getattr(self, email_field(kind)))


def email_field(kind: Kind) -> str:
    """The model field holding the e-mail mode of `kind`."""
    return "email_" + kind.value.replace("-", "_")
