"""Input and output shapes of the issues API (validate and shape; never write).

Bodies accept the Flask app's snake_case keys and camelCase alike; unknown keys
are refused. Output uses the Flask app's camelCase keys.
"""

import threading
from collections.abc import Mapping
from typing import Any, ClassVar, TypeVar

from rest_framework import serializers

from issues.domain import (
    ACTOR_ID_MAX,
    CLIENT_ID_PATTERN,
    COMMENT_MAX,
    COMPONENT_MAX,
    DESCRIPTION_MAX,
    FINGERPRINT_MAX,
    PAGE_DEFAULT,
    PAGE_MAX,
    TAG_MAX,
    TAGS_MAX,
    TITLE_MAX,
    IssueChanges,
    IssueFilters,
    IssueType,
    Priority,
    Resolution,
    Sort,
    Status,
)

# A merged report stands for at most this many occurrences.
OCCURRENCES_MAX = 1_000_000


S = TypeVar("S", bound=serializers.BaseSerializer[Any])

_per_thread = threading.local()


def reusable(kind: type[S]) -> S:
    """This thread's one instance of serializer `kind`, for `run_validation` and
    `to_representation` of value after value. DRF deep-copies a serializer's
    fields for every instance it makes: per request, that copying was most of a
    create's own CPU. For serializers that need no context and keep nothing
    between values."""
    made: dict[type[Any], Any] = _per_thread.__dict__.setdefault("made", {})
    if kind not in made:
        made[kind] = kind()
    found: S = made[kind]
    return found


def choice(enum: Any, **kwargs: Any) -> serializers.ChoiceField:
    """A choice field whose error names every allowed value."""
    values = [str(member) for member in enum]
    return serializers.ChoiceField(
        choices=values,
        error_messages={
            "invalid_choice": f'"{{input}}" is not allowed; use one of: '
            f"{', '.join(values)}."
        },
        **kwargs,
    )


class StrictInput(serializers.Serializer[Any]):
    """A body or query serializer that maps aliases and refuses unknown keys."""

    aliases: ClassVar[Mapping[str, str]] = {}
    ignored: ClassVar[frozenset[str]] = frozenset()

    def to_internal_value(self, data: Any) -> Any:
        """Rename camelCase aliases, then refuse keys no field or alias names."""
        if not isinstance(data, Mapping):
            raise serializers.ValidationError(
                {"non_field_errors": ["Send a JSON object."]}
            )
        if hasattr(data, "lists"):  # a QueryDict: one value per key
            data = {key: data.get(key) for key in data}
        renamed: dict[str, Any] = {}
        errors: dict[str, list[str]] = {}
        for key, value in data.items():
            if key in self.ignored:
                continue
            name = self.aliases.get(key, key)
            if name not in self.fields:
                errors[key] = ["Unknown field."]
            elif name in renamed:
                errors[key] = [f"Given twice (as {name} and {key})."]
            else:
                renamed[name] = value
        if errors:
            raise serializers.ValidationError(errors)
        return super().to_internal_value(renamed)


def _component(**kwargs: Any) -> serializers.CharField:
    return serializers.CharField(
        min_length=1,
        max_length=COMPONENT_MAX,
        required=False,
        help_text="The part of the system concerned (trimmed).",
        **kwargs,
    )


def _tags(**kwargs: Any) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.CharField(min_length=1, max_length=TAG_MAX),
        max_length=TAGS_MAX,
        **kwargs,
    )


class IssueCreateInput(StrictInput):
    """`POST /issues`: the Flask app's fields; `reporter_id` only for anonymous
    callers in compatibility mode (an authenticated caller is the reporter)."""

    aliases = {
        "reporterId": "reporter_id",
        "assigneeId": "assignee_id",
    }

    title = serializers.CharField(min_length=1, max_length=TITLE_MAX)
    description = serializers.CharField(min_length=1, max_length=DESCRIPTION_MAX)
    type = choice(IssueType, default=IssueType.TASK.value)
    priority = choice(Priority, default=Priority.MEDIUM.value)
    reporter_id = serializers.CharField(
        min_length=1, max_length=ACTOR_ID_MAX, required=False
    )
    assignee_id = serializers.CharField(
        min_length=1, max_length=ACTOR_ID_MAX, required=False, allow_null=True
    )
    tags = _tags(default=list)
    fingerprint = serializers.CharField(
        min_length=1,
        max_length=FINGERPRINT_MAX,
        required=False,
        allow_null=True,
        help_text=(
            "A stable id of the failure (e.g. exception type and location). While "
            "the reporter has an open or in-progress issue with it, reports count "
            "as occurrences of that issue (200) instead of creating one (201)."
        ),
    )
    component = _component(allow_null=True)
    status = choice(
        [Status.OPEN],
        required=False,
        help_text="Only `open`, as the old client sends it: a new issue is open.",
    )

    id = serializers.RegexField(
        CLIENT_ID_PATTERN,
        required=False,
        error_messages={
            "invalid": "Give 20 to 40 letters, digits, _ or - (not __...__)."
        },
        help_text=(
            "An id the caller chooses (20-40 of A-Z a-z 0-9 _ -), so a retry is "
            "safe: the same id again from the same caller, with the same title, "
            "answers 200 with the stored issue and writes nothing; from another "
            "caller or with another title it is 409."
        ),
    )

    occurrences = serializers.IntegerField(
        min_value=1,
        max_value=OCCURRENCES_MAX,
        default=1,
        help_text=(
            "How many times this failure happened: a client that merged repeats "
            "of one fingerprint into one report says how many (default 1)."
        ),
    )


class IssueUpdateInput(StrictInput):
    """`PATCH /issues/{id}`: any subset; `assignee_id: null` unassigns,
    `component: null` clears; `resolution` and `duplicate_of` go with resolving
    or closing."""

    aliases = {"assigneeId": "assignee_id", "duplicateOf": "duplicate_of"}

    title = serializers.CharField(min_length=1, max_length=TITLE_MAX, required=False)
    description = serializers.CharField(
        min_length=1, max_length=DESCRIPTION_MAX, required=False
    )
    status = choice(Status, required=False)
    resolution = choice(
        Resolution,
        required=False,
        help_text=(
            "When resolving or closing (default `fixed`; closing a resolved issue "
            "keeps its own). Reopening clears it."
        ),
    )
    duplicate_of = serializers.CharField(
        min_length=1,
        max_length=128,
        required=False,
        help_text="The id of the issue this one duplicates (resolution `duplicate`).",
    )
    priority = choice(Priority, required=False)
    type = choice(IssueType, required=False)
    assignee_id = serializers.CharField(
        min_length=1, max_length=ACTOR_ID_MAX, required=False, allow_null=True
    )
    component = _component(allow_null=True)
    tags = _tags(required=False)

    def changes(self) -> IssueChanges:
        """The validated body as IssueChanges (call after is_valid)."""
        return IssueChanges.from_data(self.validated_data)


class CommentCreateInput(StrictInput):
    """`POST /issues/{id}/comments`; `author_id` only for anonymous callers."""

    aliases = {"authorId": "author_id"}

    content = serializers.CharField(min_length=1, max_length=COMMENT_MAX)
    author_id = serializers.CharField(
        min_length=1, max_length=ACTOR_ID_MAX, required=False
    )


class PageQuery(StrictInput):
    """`limit` and `cursor` of any list."""

    ignored = frozenset({"format"})

    limit = serializers.IntegerField(
        min_value=1, max_value=PAGE_MAX, default=PAGE_MAX, help_text="Page size."
    )
    cursor = serializers.CharField(
        required=False, help_text="The `next` link's cursor; opaque."
    )


class IssueListQuery(PageQuery):
    """`GET /issues` query parameters; every filter combines with AND."""

    aliases = {"assignee_id": "assignee", "reporter_id": "reporter"}

    status = choice(Status, required=False)
    priority = choice(Priority, required=False)
    type = choice(IssueType, required=False)
    assignee = serializers.CharField(
        required=False,
        max_length=ACTOR_ID_MAX,
        help_text="An actor id, or `me` for the caller.",
    )
    reporter = serializers.CharField(
        required=False,
        max_length=ACTOR_ID_MAX,
        help_text="An actor id, or `me` for the caller.",
    )
    tag = serializers.CharField(required=False, max_length=TAG_MAX)
    component = serializers.CharField(required=False, max_length=COMPONENT_MAX)
    q = serializers.CharField(
        required=False,
        max_length=200,
        help_text=(
            "Search words (at most 5). An issue matches when its title and "
            "description together contain every word, whole, ignoring case "
            "and accents; words of one character are ignored."
        ),
    )
    created_after = serializers.DateTimeField(
        required=False, help_text="Created at or after (ISO 8601)."
    )
    created_before = serializers.DateTimeField(
        required=False, help_text="Created before (ISO 8601)."
    )
    sort = choice(Sort, default=Sort.NEWEST.value)
    limit = serializers.IntegerField(
        min_value=1, max_value=PAGE_MAX, default=PAGE_DEFAULT, help_text="Page size."
    )

    def filters(self, *, me: str) -> IssueFilters:
        """The validated query as IssueFilters; `me` is the caller's actor id,
        for which `assignee=me` and `reporter=me` stand (call after is_valid)."""
        return IssueFilters.from_data(self.validated_data, me=me)


class IssueOutput(serializers.Serializer[Any]):
    """An issue as the Flask app returned it, plus the added fields."""

    id = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()
    status = choice(Status)
    priority = choice(Priority)
    type = choice(IssueType)
    reporterId = serializers.CharField(source="reporter_id")
    assigneeId = serializers.CharField(source="assignee_id", allow_null=True)
    tags = serializers.ListField(child=serializers.CharField())
    attachments = serializers.ListField(child=serializers.DictField())
    createdAt = serializers.DateTimeField(source="created_at", allow_null=True)
    updatedAt = serializers.DateTimeField(source="updated_at", allow_null=True)
    resolvedAt = serializers.DateTimeField(source="resolved_at", allow_null=True)
    fingerprint = serializers.CharField(allow_null=True)
    occurrenceCount = serializers.IntegerField(
        source="occurrence_count",
        help_text="Reports with this issue's fingerprint it has absorbed, plus one.",
    )
    firstSeenAt = serializers.DateTimeField(
        source="first_seen_at", allow_null=True, help_text="The first report."
    )
    lastSeenAt = serializers.DateTimeField(
        source="last_seen_at", allow_null=True, help_text="The latest report."
    )
    commentCount = serializers.IntegerField(source="comment_count")
    watcherIds = serializers.ListField(
        source="watcher_ids", child=serializers.CharField()
    )
    version = serializers.IntegerField(
        help_text="Counts edits; sent as the ETag, expected back in If-Match."
    )
    resolution = choice(
        Resolution, allow_null=True, help_text="Null while open or in progress."
    )
    duplicateOf = serializers.CharField(
        source="duplicate_of",
        allow_null=True,
        help_text="The issue this one duplicates (resolution `duplicate`).",
    )
    component = serializers.CharField(allow_null=True)


class IssueDetailOutput(IssueOutput):
    """One issue, with the ids of the issues marked as its duplicates (the
    `duplicates` given in the serializer's context)."""

    duplicates = serializers.SerializerMethodField(
        help_text="Ids of issues whose duplicateOf is this one (at most 100)."
    )

    def get_duplicates(self, issue: Any) -> list[str]:
        """The ids the view read."""
        return list(self.context.get("duplicates", []))


class CommentOutput(serializers.Serializer[Any]):
    """A comment."""

    id = serializers.CharField()
    issueId = serializers.CharField(source="issue_id")
    authorId = serializers.CharField(source="author_id")
    content = serializers.CharField()
    createdAt = serializers.DateTimeField(source="created_at", allow_null=True)
    updatedAt = serializers.DateTimeField(source="updated_at", allow_null=True)


class ChangeOutput(serializers.Serializer[Any]):
    """One field's move: values as stored (tags as lists, null when unset)."""

    field = serializers.CharField()
    oldValue = serializers.JSONField(source="old_value", allow_null=True)
    newValue = serializers.JSONField(source="new_value", allow_null=True)


class ActivityOutput(serializers.Serializer[Any]):
    """One entry of an issue's history."""

    id = serializers.CharField()
    type = serializers.CharField(
        help_text="created, updated, status-changed, assigned or commented."
    )
    userId = serializers.CharField(source="user_id")
    changes = ChangeOutput(many=True)
    createdAt = serializers.DateTimeField(source="created_at", allow_null=True)


class IssuePageOutput(serializers.Serializer[Any]):
    """A page of issues and the URL of the next (null on the last)."""

    issues = IssueOutput(many=True)
    next = serializers.URLField(allow_null=True)


class CommentPageOutput(serializers.Serializer[Any]):
    """A page of comments, oldest first, as the Flask app's `{"comments": [...]}`."""

    comments = CommentOutput(many=True)
    next = serializers.URLField(allow_null=True)


class ActivityPageOutput(serializers.Serializer[Any]):
    """A page of an issue's history, oldest first."""

    activities = ActivityOutput(many=True)
    next = serializers.URLField(allow_null=True)
