"""Forms of the triage queue, bulk actions and saved views: validate, never write."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.http import url_has_allowed_host_and_scheme

from issues.bulk import BULK_MAX, BulkAction, BulkChange
from issues.converters import is_issue_id
from issues.domain import TAG_MAX, Priority, Resolution, Status
from issues.models import SavedView

ACTION_LABELS = {
    BulkAction.TAKE: "Take (assign to me, in progress)",
    BulkAction.ASSIGN: "Assign to…",
    BulkAction.PRIORITY: "Set urgency (priority)",
    BulkAction.RAISE: "Raise urgency",
    BulkAction.LOWER: "Lower urgency",
    BulkAction.STATUS: "Move to a status",
    BulkAction.DUPLICATE: "Close as duplicate of…",
    BulkAction.WONT_FIX: "Close as won't fix",
    BulkAction.TAG_ADD: "Add tag",
    BulkAction.TAG_REMOVE: "Remove tag",
}


def _choices(enum: Any, blank: str) -> list[tuple[str, str]]:
    return [("", blank)] + [
        (m.value, m.value.replace("-", " ").capitalize()) for m in enum
    ]


class BulkForm(forms.Form):
    """One action on the selected issues (`ids`: "<id>@<version seen>")."""

    action = forms.ChoiceField(choices=list(ACTION_LABELS.items()))
    assignee = forms.CharField(
        required=False,
        max_length=100,
        strip=True,
        widget=forms.TextInput(attrs={"list": "people", "autocomplete": "off"}),
    )
    priority = forms.ChoiceField(choices=_choices(Priority, "—"), required=False)
    status = forms.ChoiceField(choices=_choices(Status, "—"), required=False)
    resolution = forms.ChoiceField(choices=_choices(Resolution, "—"), required=False)
    duplicate_of = forms.CharField(required=False, max_length=128, strip=True)
    tag = forms.CharField(required=False, max_length=TAG_MAX, strip=True)
    next = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)

    def __init__(self, data: Any = None, **kwargs: Any) -> None:
        # Its own ids: the list page also has the filter form's `id_priority`.
        kwargs.setdefault("auto_id", "bulk-%s")
        super().__init__(data, **kwargs)
        self.targets: list[tuple[str, int | None]] = []
        if data is not None:
            self.targets = _targets(data.getlist("ids"))

    def clean(self) -> dict[str, Any]:
        """Each action with the value it needs; at least one issue selected."""
        cleaned = super().clean() or {}
        if not self.targets:
            raise ValidationError("Select at least one issue.")
        if len(self.targets) > BULK_MAX:
            raise ValidationError(f"Select at most {BULK_MAX} issues at once.")
        action = cleaned.get("action")
        needs = {
            BulkAction.PRIORITY: "priority",
            BulkAction.STATUS: "status",
            BulkAction.TAG_ADD: "tag",
            BulkAction.TAG_REMOVE: "tag",
        }.get(BulkAction(action) if action else BulkAction.TAKE)
        if needs and not cleaned.get(needs):
            self.add_error(needs, "This action needs a value.")
        duplicate = action == BulkAction.DUPLICATE or (
            action == BulkAction.STATUS
            and cleaned.get("resolution") == Resolution.DUPLICATE
        )
        if duplicate and not is_issue_id(cleaned.get("duplicate_of") or ""):
            self.add_error("duplicate_of", "Name the issue they duplicate (its id).")
        return cleaned

    def change(self) -> BulkChange:
        """The validated action as a BulkChange (call after is_valid)."""
        data = self.cleaned_data
        return BulkChange(
            action=BulkAction(data["action"]),
            assignee=data["assignee"] or None,
            priority=Priority(data["priority"]) if data["priority"] else None,
            status=Status(data["status"]) if data["status"] else None,
            resolution=Resolution(data["resolution"]) if data["resolution"] else None,
            duplicate_of=data["duplicate_of"],
            tag=data["tag"],
        )

    def next_url(self, default: str) -> str:
        """Where to go back to: the posted `next` when it is a path of this
        site (read valid or not), else `default`."""
        url = str(self.data.get("next") or "")
        if url.startswith("/") and url_has_allowed_host_and_scheme(
            url, allowed_hosts=None
        ):
            return url
        return default


def _targets(values: list[str]) -> list[tuple[str, int | None]]:
    """ "<id>@<version>" (or a bare id) -> (id, version); junk is dropped."""
    found: dict[str, int | None] = {}
    for value in values:
        issue_id, _, version = value.partition("@")
        if is_issue_id(issue_id):
            found[issue_id] = int(version) if version.isdigit() else None
    return list(found.items())


class SavedViewForm(forms.ModelForm):  # type: ignore[type-arg]
    """Name the list's current query string; optionally share it."""

    class Meta:
        model = SavedView
        fields = ["name", "query", "shared"]
        widgets = {"query": forms.HiddenInput}

    def clean_query(self) -> str:
        """The query string without a leading "?" or a page cursor."""
        query = str(self.cleaned_data["query"]).lstrip("?")
        kept = [p for p in query.split("&") if p and not p.startswith("cursor=")]
        return "&".join(kept)
