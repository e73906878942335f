"""The notification settings form."""

from typing import Any

from django import forms

from notifications.domain import EmailMode, Kind
from notifications.models import NotificationSettings, email_field

LABELS = {
    Kind.ASSIGNED: "Assigned to you",
    Kind.MENTIONED: "You are @mentioned",
    Kind.STATUS_CHANGED: "Status changes on issues you watch",
    Kind.COMMENTED: "Comments on issues you watch",
    Kind.CRITICAL: "New critical issues",
    Kind.OCCURRED: "Issues you watch occur again",
}
CHOICES = [
    (EmailMode.OFF.value, "Off"),
    (EmailMode.IMMEDIATE.value, "Right away"),
    (EmailMode.DIGEST.value, "Daily digest"),
]


class SettingsForm(forms.Form):
    """E-mail per kind and whether to hear of every new critical issue."""

    critical_issues = forms.BooleanField(
        required=False, label="Tell me about every new critical issue"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for kind in Kind:
            self.fields[email_field(kind)] = forms.ChoiceField(
                choices=CHOICES, label=LABELS[kind], widget=forms.RadioSelect
            )

    @staticmethod
    def initial_for(found: NotificationSettings) -> dict[str, Any]:
        """The form's values from saved settings."""
        values: dict[str, Any] = {
            email_field(kind): found.email_mode(kind).value for kind in Kind
        }
        values["critical_issues"] = found.critical_issues
        return values

    def email(self) -> dict[Kind, EmailMode]:
        """The chosen e-mail mode per kind."""
        return {kind: EmailMode(self.cleaned_data[email_field(kind)]) for kind in Kind}
