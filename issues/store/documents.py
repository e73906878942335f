"""Issue, comment and activity documents <-> domain objects: field names live here.

Documents the Flask app wrote read back: snake_case fallbacks (`reporter_id`,
`assignee_id`, `author_id`, `user_id`), ISO-string timestamps and missing optional
fields. A document that cannot be read raises ValueError here; the store logs it
and skips it in lists, or reports it as MalformedDocument.
"""

import hashlib
import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final, TypeAlias

from google.cloud.firestore_v1.base_document import DocumentSnapshot
from google.cloud.firestore_v1.document import DocumentReference

from issues.domain import (
    Activity,
    ActivityType,
    Comment,
    FieldChange,
    Issue,
    IssueType,
    Priority,
    Resolution,
    Status,
)
from issues.hourly import as_hours, hour_key
from issuetracker.errors import ApplicationError

logger = logging.getLogger(__name__)

Snapshot: TypeAlias = DocumentSnapshot[Any]

ISSUES: Final = "issues"
COMMENTS: Final = "comments"
ACTIVITIES: Final = "activities"
# The 503 message of an issue transaction that lost to other writers.
BUSY: Final = "The issue is being changed by many callers; try again."

# Issue document fields.
TITLE, DESCRIPTION, STATUS, PRIORITY, TYPE = (
    "title",
    "description",
    "status",
    "priority",
    "type",
)
REPORTER, ASSIGNEE, TAGS, ATTACHMENTS = (
    "reporterId",
    "assigneeId",
    "tags",
    "attachments",
)
CREATED, UPDATED, RESOLVED = "createdAt", "updatedAt", "resolvedAt"
FINGERPRINT, OCCURRENCES = "fingerprint", "occurrenceCount"
FIRST_SEEN, LAST_SEEN = "firstSeenAt", "lastSeenAt"
COMMENT_COUNT, WATCHERS, VERSION = "commentCount", "watcherIds", "version"
REPORT_IDS = "reportIds"
RESOLUTION, DUPLICATE_OF, COMPONENT = "resolution", "duplicateOf", "component"
HOURLY = "hourlyOccurrences"
CREATED_ENTRY_DERIVED = "createdEntryDerived"
# Added for queries: the normalized search words and a sortable priority.
SEARCH_WORDS, PRIORITY_RANK = "searchWords", "priorityRank"
# Comment and activity document fields.
ISSUE_ID, AUTHOR, CONTENT = "issueId", "authorId", "content"
USER, CHANGES = "userId", "changes"
DOCUMENT_ID: Final = "__name__"

# Fingerprint locks: `fingerprints/{fingerprint_key(reporter, fingerprint)}` names
# (`issueId`) the issue that absorbs that reporter's reports with that fingerprint.
# Firestore has no unique constraint; a deterministic id read and written in the
# report's transaction serializes concurrent reports of the same failure. A lock
# naming an issue that is resolved, closed or deleted is moved to the new issue.
FINGERPRINTS: Final = "fingerprints"

# The Flask app's snake_case spellings, read when the camelCase field is absent.
LEGACY_NAMES: Final[Mapping[str, str]] = {
    REPORTER: "reporter_id",
    ASSIGNEE: "assignee_id",
    AUTHOR: "author_id",
    USER: "user_id",
    ISSUE_ID: "issue_id",
    CREATED: "created_at",
    UPDATED: "updated_at",
    RESOLVED: "resolved_at",
}

# Domain field -> issue document field, for partial writes.
ISSUE_FIELDS: Final[Mapping[str, str]] = {
    "title": TITLE,
    "description": DESCRIPTION,
    "status": STATUS,
    "priority": PRIORITY,
    "type": TYPE,
    "assignee_id": ASSIGNEE,
    "tags": TAGS,
    "resolution": RESOLUTION,
    "duplicate_of": DUPLICATE_OF,
    "component": COMPONENT,
    "updated_at": UPDATED,
    "resolved_at": RESOLVED,
    "watcher_ids": WATCHERS,
    "version": VERSION,
}


class MalformedDocument(ApplicationError):
    """A stored document this code cannot read (logged; never a client's fault)."""

    status, code, title = 500, "malformed_document", "Stored document unreadable"


def _timestamp(value: Any, name: str) -> datetime | None:
    """A stored timestamp (Firestore timestamp or the old app's ISO text) in UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as error:
            raise ValueError(f"{name} is not a timestamp: {value!r}") from error
    else:
        raise ValueError(f"{name} is not a timestamp: {value!r}")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return datetime.fromtimestamp(parsed.timestamp(), UTC).replace(
        microsecond=parsed.microsecond
    )


def _get(data: Mapping[str, Any], name: str) -> Any:
    value = data.get(name)
    if value is None and name in LEGACY_NAMES:
        value = data.get(LEGACY_NAMES[name])
    return value


def _text(data: Mapping[str, Any], name: str, default: str = "") -> str:
    value = _get(data, name)
    if value is None:
        return default
    if not isinstance(value, str):
        raise ValueError(f"{name} is not text: {value!r}")
    return value


def _optional_text(data: Mapping[str, Any], name: str) -> str | None:
    return _text(data, name) or None


def _int(data: Mapping[str, Any], name: str, default: int) -> int:
    value = data.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} is not a number: {value!r}")
    return value


def _texts(data: Mapping[str, Any], name: str) -> tuple[str, ...]:
    value = data.get(name)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{name} is not a list of text: {value!r}")
    return tuple(value)


def _json_safe(value: Any) -> Any:
    """A stored value as plain JSON-able Python (timestamps as ISO text)."""
    if isinstance(value, datetime):
        stamp = _timestamp(value, "value")
        return stamp.isoformat() if stamp else None
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, DocumentReference):
        return value.path
    return value


def issue_from_document(issue_id: str, data: Mapping[str, Any]) -> Issue:
    """Read an issue document, old formats included; ValueError when unreadable."""
    attachments = data.get(ATTACHMENTS) or []
    if not isinstance(attachments, list) or not all(
        isinstance(item, Mapping) for item in attachments
    ):
        raise ValueError(f"attachments is not a list of maps: {attachments!r}")
    created = _timestamp(_get(data, CREATED), CREATED)
    resolution = _optional_text(data, RESOLUTION)
    return Issue(
        id=issue_id,
        title=_text(data, TITLE),
        description=_text(data, DESCRIPTION),
        status=Status(_text(data, STATUS, Status.OPEN)),
        priority=Priority(_text(data, PRIORITY, Priority.MEDIUM)),
        type=IssueType(_text(data, TYPE, IssueType.TASK)),
        reporter_id=_text(data, REPORTER),
        assignee_id=_optional_text(data, ASSIGNEE),
        tags=_texts(data, TAGS),
        attachments=tuple(_json_safe(item) for item in attachments),
        created_at=created,
        updated_at=_timestamp(_get(data, UPDATED), UPDATED) or created,
        resolved_at=_timestamp(_get(data, RESOLVED), RESOLVED),
        fingerprint=_optional_text(data, FINGERPRINT),
        occurrence_count=_int(data, OCCURRENCES, 1),
        first_seen_at=_timestamp(data.get(FIRST_SEEN), FIRST_SEEN) or created,
        last_seen_at=_timestamp(data.get(LAST_SEEN), LAST_SEEN) or created,
        comment_count=_int(data, COMMENT_COUNT, 0),
        watcher_ids=_texts(data, WATCHERS),
        version=_int(data, VERSION, 0),
        report_ids=_texts(data, REPORT_IDS),
        resolution=Resolution(resolution) if resolution else None,
        duplicate_of=_optional_text(data, DUPLICATE_OF),
        component=_optional_text(data, COMPONENT),
        hourly_occurrences=as_hours(data.get(HOURLY)),
        created_entry_derived=data.get(CREATED_ENTRY_DERIVED) is True,
    )


def issue_to_document(issue: Issue) -> dict[str, Any]:
    """The full document of a new issue, with the fields queries need."""
    return {
        TITLE: issue.title,
        DESCRIPTION: issue.description,
        STATUS: str(issue.status),
        PRIORITY: str(issue.priority),
        TYPE: str(issue.type),
        REPORTER: issue.reporter_id,
        ASSIGNEE: issue.assignee_id,
        TAGS: list(issue.tags),
        ATTACHMENTS: [dict(item) for item in issue.attachments],
        CREATED: issue.created_at,
        UPDATED: issue.updated_at,
        RESOLVED: issue.resolved_at,
        FINGERPRINT: issue.fingerprint,
        OCCURRENCES: issue.occurrence_count,
        FIRST_SEEN: issue.first_seen_at,
        LAST_SEEN: issue.last_seen_at,
        COMMENT_COUNT: issue.comment_count,
        WATCHERS: list(issue.watcher_ids),
        VERSION: issue.version,
        RESOLUTION: stored_field(issue.resolution),
        DUPLICATE_OF: issue.duplicate_of,
        COMPONENT: issue.component,
        SEARCH_WORDS: issue.search_words,
        PRIORITY_RANK: issue.priority.rank,
        HOURLY: _first_hours(issue),
        CREATED_ENTRY_DERIVED: issue.created_entry_derived,
    }


def _first_hours(issue: Issue) -> dict[str, int]:
    """A new issue's hourly occurrences: its own, or all in its first hour."""
    if issue.hourly_occurrences or issue.first_seen_at is None:
        return dict(issue.hourly_occurrences)
    return {hour_key(issue.first_seen_at): issue.occurrence_count}


def fingerprint_key(reporter_id: str, fingerprint: str) -> str:
    """The lock document id of a reporter's fingerprint: a SHA-256 of the pair
    encoded unambiguously (no separator a fingerprint could contain)."""
    pair = json.dumps([reporter_id, fingerprint])
    return hashlib.sha256(pair.encode()).hexdigest()


def repairs(data: Mapping[str, Any], issue: Issue) -> dict[str, Any]:
    """What an old document lacks for queries; written along with any update."""
    fixes: dict[str, Any] = {}
    if data.get(REPORTER) is None and issue.reporter_id:
        fixes[REPORTER] = issue.reporter_id
    if data.get(ASSIGNEE) is None and issue.assignee_id:
        fixes[ASSIGNEE] = issue.assignee_id
    for name, value in (
        (CREATED, issue.created_at),
        (UPDATED, issue.updated_at),
        (RESOLVED, issue.resolved_at),
    ):
        if value is not None and not isinstance(data.get(name), datetime):
            fixes[name] = value
    return fixes


def comment_from_document(
    comment_id: str, issue_id: str, data: Mapping[str, Any]
) -> Comment:
    """Read a comment document, old formats included."""
    return Comment(
        id=comment_id,
        issue_id=_text(data, ISSUE_ID) or issue_id,
        author_id=_text(data, AUTHOR),
        content=_text(data, CONTENT),
        created_at=_timestamp(_get(data, CREATED), CREATED),
        updated_at=_timestamp(_get(data, UPDATED), UPDATED),
    )


def activity_from_document(activity_id: str, data: Mapping[str, Any]) -> Activity:
    """Read an activity document, old formats (text old/new values) included."""
    raw_changes = data.get(CHANGES) or []
    if not isinstance(raw_changes, list):
        raise ValueError(f"changes is not a list: {raw_changes!r}")
    changes = tuple(
        FieldChange(
            field=str(item.get("field", "")),
            old_value=_json_safe(item.get("oldValue")),
            new_value=_json_safe(item.get("newValue")),
        )
        for item in raw_changes
        if isinstance(item, Mapping)
    )
    return Activity(
        id=activity_id,
        type=ActivityType(_text(data, TYPE, ActivityType.UPDATED)),
        user_id=_text(data, USER),
        changes=changes,
        created_at=_timestamp(_get(data, CREATED), CREATED),
    )


def activity_to_document(activity: Activity) -> dict[str, Any]:
    """An activity as stored."""
    return {
        TYPE: str(activity.type),
        USER: activity.user_id,
        CHANGES: [
            {"field": c.field, "oldValue": c.old_value, "newValue": c.new_value}
            for c in activity.changes
        ],
        CREATED: activity.created_at,
    }


def stored_field(value: Any) -> Any:
    """A domain value as a partial write stores it (lists, enum values as text)."""
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, StrEnum):
        return str(value)
    return value


def read_issue(snapshot: Snapshot) -> Issue:
    """The issue in `snapshot`; MalformedDocument (logged) when unreadable."""
    try:
        return issue_from_document(snapshot.id, snapshot.to_dict() or {})
    except ValueError as error:
        logger.error("Issue %s cannot be read: %s", snapshot.id, error)
        raise MalformedDocument(
            f"Issue {snapshot.id} is stored in a form this tracker cannot read."
        ) from error


def read_issue_or_skip(snapshot: Snapshot) -> Issue | None:
    """The issue in `snapshot`, or None (logged) when a list must skip it."""
    try:
        return issue_from_document(snapshot.id, snapshot.to_dict() or {})
    except ValueError as error:
        logger.error("Issue %s skipped in a list: %s", snapshot.id, error)
        return None
