"""The portal's forms: they validate and shape input into domain values, never write.

Choices come from the domain's enums; limits from `issues.domain`, so a form
refuses what the service would refuse, next to the field, before any call.
"""

from collections.abc import Sequence
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from issues.domain import (
    COMMENT_MAX,
    COMPONENT_MAX,
    DESCRIPTION_MAX,
    DONE_STATUSES,
    EDITABLE_FIELDS,
    TAG_MAX,
    TAGS_MAX,
    TITLE_MAX,
    IssueChanges,
    IssueFilters,
    IssueType,
    NewIssue,
    Priority,
    Resolution,
    Sort,
    Status,
    normalize_tags,
)
from issues.search import QUERY_WORDS_MAX, query_words
from issues.workflow import RESOLUTION_FIELDS
from issuetracker.errors import InvalidInput


def _choices(enum: Any) -> list[tuple[str, str]]:
    return [
        (member.value, member.value.replace("-", " ").capitalize()) for member in enum
    ]


def _any(enum: Any, label: str) -> list[tuple[str, str]]:
    return [("", label), *_choices(enum)]


SORT_LABELS = {
    Sort.NEWEST: "Newest first",
    Sort.OLDEST: "Oldest first",
    Sort.UPDATED: "Recently updated",
    Sort.PRIORITY: "Priority, critical first",
}


class TextField(forms.CharField):
    """Text whose line ends are `\\n`: browsers send textareas with `\\r\\n`."""

    def to_python(self, value: Any) -> str:
        """The text with `\\r\\n` and `\\r` turned into `\\n`."""
        text = super().to_python(value)
        return str(text).replace("\r\n", "\n").replace("\r", "\n")


def same_text(a: str | None, b: str | None) -> bool:
    """Whether two texts differ only in line ends or surrounding blanks."""

    def plain(text: str | None) -> str:
        return (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()

    return plain(a) == plain(b)


class TagsField(forms.CharField):
    """Tags typed as `a, b, c`: trimmed, without repeats, each 1-50 characters."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", "Comma-separated, for example: payments, api")
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        """Show a list or tuple of tags as the text a person types."""
        if isinstance(value, list | tuple):
            return ", ".join(value)
        return value

    def to_python(self, value: Any) -> tuple[str, ...]:  # type: ignore[override]
        """Split on commas; the domain's rule trims and drops repeats."""
        text = super().to_python(value)
        return normalize_tags(text.split(",")) if text else ()

    def validate(self, value: Any) -> None:
        """At most TAGS_MAX tags, each at most TAG_MAX characters."""
        if self.required and not value:
            raise ValidationError(self.error_messages["required"], code="required")
        if len(value) > TAGS_MAX:
            raise ValidationError(f"At most {TAGS_MAX} tags.", code="too_many")
        long = [tag for tag in value if len(tag) > TAG_MAX]
        if long:
            raise ValidationError(
                f"Each tag is at most {TAG_MAX} characters: {long[0][:60]}…",
                code="too_long",
            )


def _person_field(
    label: str, help_text: str = "", placeholder: str = ""
) -> forms.CharField:
    attrs = {"list": "people", "autocomplete": "off", "spellcheck": "false"}
    if placeholder:
        attrs["placeholder"] = placeholder
    return forms.CharField(
        label=label,
        required=False,
        max_length=100,
        strip=True,
        help_text=help_text,
        widget=forms.TextInput(attrs=attrs),
    )


NOBODY = ("", "Nobody")


class AssigneeField(forms.ChoiceField):
    """The assignee: a select of active staff (actor id, name), "Nobody" first.

    Anyone else is refused beside the field; the service checks again.
    """

    default_error_messages = {
        "invalid_choice": "Choose an active staff member from the list, or Nobody."
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", "Assignee")
        kwargs.setdefault("required", False)
        kwargs.setdefault("choices", [NOBODY])
        super().__init__(**kwargs)


def _component_field() -> forms.CharField:
    return forms.CharField(
        label="Component",
        required=False,
        max_length=COMPONENT_MAX,
        strip=True,
        help_text="Optional: the part of the system concerned.",
    )


class IssueForm(forms.Form):
    """A new issue; the reporter is whoever is signed in."""

    title = forms.CharField(max_length=TITLE_MAX, strip=True)
    description = TextField(
        max_length=DESCRIPTION_MAX,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text="Markdown: **bold**, `code`, lists, links, fenced code blocks.",
    )
    type = forms.ChoiceField(choices=_choices(IssueType), initial=IssueType.TASK)
    priority = forms.ChoiceField(choices=_choices(Priority), initial=Priority.MEDIUM)
    assignee_id = AssigneeField(help_text="Optional: who works on it.")
    component = _component_field()
    tags = TagsField()

    def __init__(
        self, *args: Any, assignees: Sequence[tuple[str, str]] | None, **kwargs: Any
    ) -> None:
        """`assignees`: the active staff to offer; None when the viewer's role may
        not assign (the field is then neither shown nor read)."""
        super().__init__(*args, **kwargs)
        field = self.fields["assignee_id"]
        if assignees is None:
            del self.fields["assignee_id"]
        elif isinstance(field, forms.ChoiceField):
            field.choices = [NOBODY, *assignees]

    def new_issue(self) -> NewIssue:
        """The validated input as the domain's NewIssue (call after is_valid)."""
        return NewIssue.from_data(self.cleaned_data)


class IssueEditForm(forms.Form):
    """Changes to an issue, offering only what the viewer's role may change.

    `fields_allowed` (domain names) and `status_moves` come from the services; a
    field left out is neither shown nor read from the POST. The resolution and
    the duplicate link are offered with a status field that can be resolved or
    closed, and read only when the chosen status is one of those.
    """

    # The everyday changes first; title and description last.
    status = forms.ChoiceField(choices=())
    resolution = forms.ChoiceField(
        choices=[("", "Fixed, or the one it has"), *_choices(Resolution)],
        required=False,
        help_text="When resolving or closing.",
    )
    duplicate_of = forms.CharField(
        label="Duplicate of",
        required=False,
        max_length=128,
        strip=True,
        help_text="With the resolution Duplicate: the other issue's id.",
    )
    assignee_id = AssigneeField()
    priority = forms.ChoiceField(choices=_choices(Priority))
    type = forms.ChoiceField(choices=_choices(IssueType))
    component = _component_field()
    tags = TagsField()
    title = forms.CharField(max_length=TITLE_MAX, strip=True)
    description = TextField(
        max_length=DESCRIPTION_MAX,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 8}),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    def __init__(
        self,
        *args: Any,
        fields_allowed: frozenset[str],
        status_now: Status,
        status_moves: list[Status],
        assignees: Sequence[tuple[str, str]] = (),
        **kwargs: Any,
    ) -> None:
        """`assignees`: the active staff to offer (with the assignee the issue
        has, whoever that is, so keeping it is no change)."""
        super().__init__(*args, **kwargs)
        assignee_field = self.fields["assignee_id"]
        if isinstance(assignee_field, forms.ChoiceField):
            assignee_field.choices = [NOBODY, *assignees]
        status_field = self.fields["status"]
        if status_moves and isinstance(status_field, forms.ChoiceField):
            status_field.choices = [
                (status_now.value, f"{_label(status_now)} (now)"),
                *((s.value, _label(s)) for s in status_moves),
            ]
        else:
            del self.fields["status"]
        reachable = {status_now, *status_moves} if status_moves else set()
        for name in EDITABLE_FIELDS:
            if name in RESOLUTION_FIELDS:
                if not reachable & DONE_STATUSES:
                    del self.fields[name]
            elif name != "status" and name not in fields_allowed:
                del self.fields[name]

    def clean(self) -> dict[str, Any]:
        """Drop the resolution and duplicate link unless the chosen status is
        resolved or closed (reopening clears them), and the link unless the
        resolution is Duplicate; that one needs it."""
        cleaned = super().clean() or {}
        if "resolution" not in self.fields:
            return cleaned
        if cleaned.get("status") not in DONE_STATUSES:
            cleaned["resolution"] = cleaned["duplicate_of"] = ""
        elif cleaned.get("resolution") != Resolution.DUPLICATE:
            cleaned["duplicate_of"] = ""
        elif not cleaned.get("duplicate_of"):
            self.add_error("duplicate_of", "Name the issue this one duplicates.")
        return cleaned

    @property
    def is_empty(self) -> bool:
        """Whether the role may change nothing here (the form is then not shown)."""
        return set(self.fields) == {"version"}

    def changes(self) -> IssueChanges:
        """The validated input as IssueChanges (fields not offered stay UNSET)."""
        data = {
            name: self.cleaned_data[name]
            for name in EDITABLE_FIELDS
            if name in self.fields
            # A blank resolution or link: the default, or the one it has.
            and not (name in RESOLUTION_FIELDS and not self.cleaned_data[name])
            # Stored text may differ only in line ends; that is no change.
            and not (
                name in {"title", "description"}
                and same_text(self.cleaned_data[name], self.initial.get(name))
            )
        }
        return IssueChanges.from_data(data)


class CommentForm(forms.Form):
    """A comment, in Markdown."""

    content = TextField(
        label="Comment",
        max_length=COMMENT_MAX,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Markdown welcome.",
    )


class IssueFilterForm(forms.Form):
    """The issue list's filters, search and sort, all read from the query string."""

    q = forms.CharField(
        label="Search",
        required=False,
        max_length=200,
        strip=True,
        help_text="Words of the title or description; every word must appear.",
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    status = forms.ChoiceField(choices=_any(Status, "Any status"), required=False)
    priority = forms.ChoiceField(choices=_any(Priority, "Any priority"), required=False)
    type = forms.ChoiceField(choices=_any(IssueType, "Any type"), required=False)
    assignee = _person_field("Assignee", placeholder="e-mail or me")
    reporter = _person_field("Reporter", placeholder="e-mail or me")
    tag = forms.CharField(label="Tag", required=False, max_length=TAG_MAX, strip=True)
    component = forms.CharField(
        label="Component", required=False, max_length=COMPONENT_MAX, strip=True
    )
    sort = forms.ChoiceField(
        choices=[(sort.value, SORT_LABELS[sort]) for sort in Sort], required=False
    )
    cursor = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)

    def clean_q(self) -> str:
        """The search text, refused with more than QUERY_WORDS_MAX words."""
        q = str(self.cleaned_data["q"])
        try:
            query_words(q)
        except InvalidInput:
            raise ValidationError(
                f"Search for at most {QUERY_WORDS_MAX} words at once.",
                code="too_many_words",
            ) from None
        return q

    def filters(self, *, me: str) -> IssueFilters:
        """The validated filters as IssueFilters; `me` is the viewer's actor id,
        for which `me` as assignee or reporter stands (call after is_valid)."""
        return IssueFilters.from_data(self.cleaned_data, me=me)

    @property
    def is_filtered(self) -> bool:
        """Whether any filter or search narrows the list (for the empty state)."""
        data = getattr(self, "cleaned_data", {})
        return bool(query_words(data.get("q") or "")) or any(
            data.get(name)
            for name in (
                "status",
                "priority",
                "type",
                "assignee",
                "reporter",
                "tag",
                "component",
            )
        )


def _label(status: Status) -> str:
    return status.value.replace("-", " ").capitalize()
