"""Issues, comments and their history as plain data.

Field values are the ones stored in Firestore (DESIGN.md, "Firestore layout").
Nothing here imports Django, DRF or Google; the repository converts documents to
these objects and back, the services apply the rules.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import Enum, StrEnum
from typing import Any, Final, Generic, TypeVar

from issues.search import query_words, search_words


class Status(StrEnum):
    """Where an issue is in its life."""

    OPEN = "open"
    IN_PROGRESS = "in-progress"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Priority(StrEnum):
    """How urgent an issue is; `rank` orders them (critical first when sorting)."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """1 for low up to 4 for critical; stored as `priorityRank` for sorting."""
        return list(Priority).index(self) + 1


class IssueType(StrEnum):
    """What kind of work an issue is."""

    BUG = "bug"
    FEATURE = "feature"
    TASK = "task"
    ENHANCEMENT = "enhancement"


class Resolution(StrEnum):
    """Why an issue was resolved or closed; none while it is open or in progress."""

    FIXED = "fixed"
    DUPLICATE = "duplicate"  # of the issue `duplicate_of` names
    WONT_FIX = "wont-fix"
    CANNOT_REPRODUCE = "cannot-reproduce"


class ActivityType(StrEnum):
    """What an activity records."""

    CREATED = "created"
    UPDATED = "updated"
    STATUS_CHANGED = "status-changed"
    ASSIGNED = "assigned"
    COMMENTED = "commented"


class Sort(StrEnum):
    """Orders an issue list can have."""

    NEWEST = "newest"  # createdAt, newest first (the default)
    OLDEST = "oldest"  # createdAt, oldest first
    UPDATED = "updated"  # updatedAt, most recently updated first
    PRIORITY = "priority"  # critical first, then newest first


# Not yet resolved: an issue in one of these absorbs new reports with its fingerprint.
ACTIVE_STATUSES: Final = frozenset({Status.OPEN, Status.IN_PROGRESS})

# Resolved or closed: an issue in one of these has a resolution.
DONE_STATUSES: Final = frozenset({Status.RESOLVED, Status.CLOSED})

# open <-> in-progress; open or in-progress -> resolved; open, in-progress or
# resolved -> closed; resolved or closed -> open (reopen).
STATUS_MOVES: Final[Mapping[Status, frozenset[Status]]] = {
    Status.OPEN: frozenset({Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED}),
    Status.IN_PROGRESS: frozenset({Status.OPEN, Status.RESOLVED, Status.CLOSED}),
    Status.RESOLVED: frozenset({Status.CLOSED, Status.OPEN}),
    Status.CLOSED: frozenset({Status.OPEN}),
}

TITLE_MAX = 200
DESCRIPTION_MAX = 10_000
ACTOR_ID_MAX = 100
TAG_MAX = 50
TAGS_MAX = 20
COMMENT_MAX = 5_000
FINGERPRINT_MAX = 200
# An issue id a caller may choose: 20-40 URL-safe characters (a Firestore
# auto-id has 20); `__...__` ids are Firestore's own and refused.
CLIENT_ID_PATTERN: Final = r"^(?!__.*__$)[A-Za-z0-9_-]{20,40}$"
COMPONENT_MAX = 100
PAGE_DEFAULT = 25
PAGE_MAX = 100

# The fields a person may change on an issue (domain names), in the order the
# portal's edit form shows them; every other place that lists them derives from
# this. Which of them a role may change is `issues.rules`' business.
EDITABLE_FIELDS: Final[tuple[str, ...]] = (
    "status",
    "resolution",
    "duplicate_of",
    "assignee_id",
    "priority",
    "type",
    "component",
    "tags",
    "title",
    "description",
)
# The word that stands for the caller in person fields of list filters.
ME: Final = "me"


@dataclass(frozen=True)
class FieldChange:
    """One field's move, as an activity stores it (tags as lists, not reprs)."""

    field: str
    old_value: Any
    new_value: Any


@dataclass(frozen=True)
class Activity:
    """One entry of an issue's history: who changed what, when."""

    type: ActivityType
    user_id: str
    changes: tuple[FieldChange, ...] = ()
    created_at: datetime | None = None
    id: str = ""


@dataclass(frozen=True)
class Comment:
    """A comment on an issue."""

    issue_id: str
    author_id: str
    content: str
    created_at: datetime | None = None
    updated_at: datetime | None = None
    id: str = ""


@dataclass(frozen=True)
class Issue:
    """An issue as stored; optional fields are absent in the old app's documents."""

    id: str
    title: str
    description: str
    status: Status = Status.OPEN
    priority: Priority = Priority.MEDIUM
    type: IssueType = IssueType.TASK
    reporter_id: str = ""
    assignee_id: str | None = None
    tags: tuple[str, ...] = ()
    attachments: tuple[Mapping[str, Any], ...] = ()
    created_at: datetime | None = None
    updated_at: datetime | None = None
    resolved_at: datetime | None = None
    fingerprint: str | None = None
    occurrence_count: int = 1
    first_seen_at: datetime | None = None
    last_seen_at: datetime | None = None
    comment_count: int = 0
    watcher_ids: tuple[str, ...] = ()
    version: int = 0
    # The caller-chosen ids of the latest reports this issue absorbed, so a retry
    # of one of them is recognised as a replay (`workflow.REPORT_IDS_KEPT`).
    report_ids: tuple[str, ...] = ()
    resolution: Resolution | None = None
    duplicate_of: str | None = None
    component: str | None = None
    # Occurrences per UTC hour, last two days: (("2026-12-01T13", 4), ...).
    # A statistic the store keeps, like a cache: not part of an issue's identity,
    # so it takes no part in comparisons (a new issue's is filled in on storing).
    hourly_occurrences: tuple[tuple[str, int], ...] = field(default=(), compare=False)
    # Whether the `created` entry of its history is derived from the issue
    # (`workflow.created_entry`) rather than stored: true of issues created
    # since creates write one document; older ones have it stored, and the
    # Flask app's may have none, so their history reads as it always did.
    created_entry_derived: bool = False

    @property
    def search_words(self) -> list[str]:
        """The normalized words of title and description that search matches."""
        return search_words(self.title, self.description)


@dataclass(frozen=True)
class NewIssue:
    """What a caller gives to create an issue (the reporter is the actor)."""

    title: str
    description: str
    type: IssueType = IssueType.TASK
    priority: Priority = Priority.MEDIUM
    assignee_id: str | None = None
    tags: tuple[str, ...] = ()
    fingerprint: str | None = None
    # Chosen by the caller (CLIENT_ID pattern) so a retried create is a replay.
    id: str | None = None
    component: str | None = None

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> "NewIssue":
        """The NewIssue of validated input: `title`, `description`, optional
        `type`, `priority`, `assignee_id`, `tags`, `fingerprint`, `component`,
        `id` (other keys, such as the API's `reporter_id` or `status`, are not
        the issue's and are ignored).

        Blank assignee, fingerprint and component mean none; tags are normalized.
        """
        return cls(
            title=data["title"],
            description=data["description"],
            type=IssueType(data.get("type") or IssueType.TASK),
            priority=Priority(data.get("priority") or Priority.MEDIUM),
            assignee_id=data.get("assignee_id") or None,
            tags=normalize_tags(data.get("tags") or ()),
            fingerprint=data.get("fingerprint") or None,
            id=data.get("id") or None,
            component=optional_text(data.get("component")),
        )


def optional_text(value: str | None) -> str | None:
    """Trimmed text, or None for none or blanks."""
    return (value or "").strip() or None


def _same(value: Any) -> Any:
    return value


class _Unset(Enum):
    UNSET = "unset"

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = _Unset.UNSET


@dataclass(frozen=True)
class IssueChanges:
    """A partial update: fields left UNSET stay as they are.

    `assignee_id=None` unassigns and `component=None` clears the component;
    `resolution` and `duplicate_of` go with a status (see `issues.workflow`).
    """

    title: str | _Unset = UNSET
    description: str | _Unset = UNSET
    status: Status | _Unset = UNSET
    resolution: Resolution | _Unset = UNSET
    duplicate_of: str | _Unset = UNSET
    priority: Priority | _Unset = UNSET
    type: IssueType | _Unset = UNSET
    assignee_id: str | _Unset | None = UNSET
    component: str | _Unset | None = UNSET
    tags: tuple[str, ...] | _Unset = UNSET

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> "IssueChanges":
        """The IssueChanges of validated input: each key of EDITABLE_FIELDS present
        sets that field, absent ones stay UNSET (other keys are ignored).

        A blank or null `assignee_id` unassigns; `component` likewise clears.
        """
        converters: Mapping[str, Any] = {
            "status": Status,
            "resolution": Resolution,
            "duplicate_of": str.strip,
            "component": optional_text,
            "priority": Priority,
            "type": IssueType,
            "assignee_id": lambda value: value or None,
            "tags": tuple,
        }
        return cls(
            **{
                name: converters.get(name, _same)(data[name])
                for name in EDITABLE_FIELDS
                if name in data
            }
        )

    def given(self) -> dict[str, Any]:
        """The fields the caller set, by domain field name."""
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if getattr(self, f.name) is not UNSET
        }


@dataclass(frozen=True)
class IssueFilters:
    """Which issues a list shows and in which order (all filters combine with AND).

    `words` are normalized search words (see `query_words`); an issue matches when
    its title and description together contain every one of them.
    """

    status: Status | None = None
    priority: Priority | None = None
    type: IssueType | None = None
    assignee_id: str | None = None
    reporter_id: str | None = None
    tag: str | None = None
    component: str | None = None
    words: tuple[str, ...] = ()
    created_after: datetime | None = None
    created_before: datetime | None = None
    sort: Sort = Sort.NEWEST

    @classmethod
    def from_data(cls, data: Mapping[str, Any], *, me: str) -> "IssueFilters":
        """The IssueFilters of validated input: `status`, `priority`, `type`,
        `assignee`, `reporter`, `tag`, `component`, `q` (search text), `created_after`,
        `created_before`, `sort`; absent or blank ones filter nothing, other keys
        (`limit`, `cursor`) are ignored.

        `me` (any case) as assignee or reporter stands for the caller, whose
        actor id is `me`. Raises InvalidInput for a query of too many words.
        """

        def person(value: str | None) -> str | None:
            if not value:
                return None
            return me if value.lower() == ME else value

        def choice(enum: Any, name: str) -> Any:
            value = data.get(name)
            return enum(value) if value else None

        return cls(
            status=choice(Status, "status"),
            priority=choice(Priority, "priority"),
            type=choice(IssueType, "type"),
            assignee_id=person(data.get("assignee")),
            reporter_id=person(data.get("reporter")),
            tag=data.get("tag") or None,
            component=optional_text(data.get("component")),
            words=query_words(data.get("q") or ""),
            created_after=data.get("created_after"),
            created_before=data.get("created_before"),
            sort=choice(Sort, "sort") or Sort.NEWEST,
        )


T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list and the opaque cursor of the next (None on the last)."""

    items: list[T]
    next_cursor: str | None = None


@dataclass(frozen=True)
class IssueCounts:
    """How many issues are stored: in all, by status and by priority.

    Every status and priority is present (0 when none). An issue whose stored
    status or priority is missing or unknown counts only in `total`.
    """

    total: int
    by_status: Mapping[Status, int]
    by_priority: Mapping[Priority, int]


@dataclass(frozen=True)
class CreateResult:
    """What a report did: the issue it created, or (`created` False) the reporter's
    unresolved issue with the same fingerprint that absorbed it as an occurrence.

    `replayed`: the report repeated an id already handled, so nothing was written
    and `issue` is what that first report made or joined.
    """

    issue: Issue
    created: bool
    replayed: bool = False


@dataclass(frozen=True)
class TrashedIssue:
    """An issue in the trash: as it was stored, who moved it there and when."""

    issue: Issue
    deleted_at: datetime
    deleted_by: str


@dataclass(frozen=True)
class UpdateResult:
    """An issue after an update and the activity recording it (None: no change)."""

    issue: Issue
    activity: Activity | None
    changes: tuple[FieldChange, ...] = field(default=())


# --- rules ----------------------------------------------------------------------


def normalize_tags(tags: Iterable[str]) -> tuple[str, ...]:
    """Trimmed, without blanks or repeats, in the order given (case is kept)."""
    seen: dict[str, None] = {}
    for tag in tags:
        cleaned = tag.strip()
        if cleaned:
            seen.setdefault(cleaned, None)
    return tuple(seen)
