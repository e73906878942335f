"""Issues, comments and activities in Firestore: the only module that touches it.

Document field names live here and nowhere else. Documents the Flask app wrote
read back: snake_case fallbacks (`reporter_id`, `assignee_id`, `author_id`,
`user_id`), ISO-string timestamps and missing optional fields. A document that
cannot be read is logged and skipped in lists, and reported as such by `get`.

Every call passes `call_options()`, so none waits on the library's defaults, and
transient store failures become `StoreUnavailable` (503).
"""

import base64
import binascii
import contextlib
import hashlib
import json
import logging
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Protocol, TypeAlias, TypeVar

from google.api_core import exceptions as google_exceptions
from google.auth import exceptions as google_auth_exceptions
from google.cloud import firestore
from google.cloud.firestore_v1.base_document import DocumentSnapshot
from google.cloud.firestore_v1.base_query import FieldFilter
from google.cloud.firestore_v1.batch import WriteBatch
from google.cloud.firestore_v1.document import DocumentReference
from google.cloud.firestore_v1.query import Query
from google.cloud.firestore_v1.transaction import Transaction

from issues.domain import (
    PAGE_MAX,
    Activity,
    ActivityType,
    Comment,
    CreateResult,
    FieldChange,
    Issue,
    IssueCounts,
    IssueFilters,
    IssueType,
    Page,
    Priority,
    Sort,
    Status,
    UpdateResult,
)
from issuetracker.errors import (
    ApplicationError,
    InvalidInput,
    NotFound,
    StoreUnavailable,
)
from issuetracker.firestore import call_options, get_client

logger = logging.getLogger(__name__)

Snapshot: TypeAlias = DocumentSnapshot[Any]
T = TypeVar("T")

ISSUES: Final = "issues"
COMMENTS: Final = "comments"
ACTIVITIES: Final = "activities"

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

# The issue counters: COUNTER_SHARDS documents `stats/issueCounts/shards/{n}` whose
# fields, summed over the shards, say how many issues are stored in all (`total`),
# by stored status (`byStatus.<status>`) and by stored priority
# (`byPriority.<priority>`). Every write of an issue adds its moves to one shard
# picked at random, in the same batch or transaction and with `Increment`, so a
# burst of creates spreads over the shards (Firestore sustains about one write a
# second per document). `rebuild_counts` recomputes them from aggregation counts.
STATS: Final = "stats"
ISSUE_COUNTS: Final = "issueCounts"
SHARDS: Final = "shards"
COUNTER_SHARDS: Final = 10
COUNT_TOTAL, COUNT_BY_STATUS, COUNT_BY_PRIORITY = "total", "byStatus", "byPriority"

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
    "updated_at": UPDATED,
    "resolved_at": RESOLVED,
    "version": VERSION,
}

# How each sort orders the collection; the document id breaks ties.
SORT_ORDERS: Final[Mapping[Sort, tuple[tuple[str, str], ...]]] = {
    Sort.NEWEST: ((CREATED, Query.DESCENDING),),
    Sort.OLDEST: ((CREATED, Query.ASCENDING),),
    Sort.UPDATED: ((UPDATED, Query.DESCENDING),),
    Sort.PRIORITY: ((PRIORITY_RANK, Query.DESCENDING), (CREATED, Query.DESCENDING)),
}
# A list page with a filter the query cannot express reads at most this many rows.
SCAN_MAX: Final = 500
SCAN_FACTOR: Final = 5
# Deletes go in batches of this many writes (Firestore allows 500).
DELETE_BATCH: Final = 400
TRANSACTION_ATTEMPTS: Final = 5
# Before attempt n + 1 of a transaction that lost to another, a random pause of up
# to RETRY_PAUSE * 2**n seconds (at most RETRY_PAUSE_MAX).
RETRY_PAUSE: Final = 0.05
RETRY_PAUSE_MAX: Final = 1.0

_TRANSIENT = (
    google_exceptions.ServiceUnavailable,
    google_exceptions.DeadlineExceeded,
    google_exceptions.GatewayTimeout,
    google_exceptions.RetryError,
    google_exceptions.InternalServerError,
    google_exceptions.Unknown,
    google_exceptions.TooManyRequests,
    google_exceptions.Cancelled,
    google_exceptions.Aborted,
    google_auth_exceptions.TransportError,
)


class MalformedDocument(ApplicationError):
    """A stored document this code cannot read (logged; never a client's fault)."""

    status, code, title = 500, "malformed_document", "Stored document unreadable"


@contextlib.contextmanager
def store_errors(what: str) -> Iterator[None]:
    """Turn transient Firestore failures into StoreUnavailable, logged once."""
    try:
        yield
    except _TRANSIENT as error:
        logger.warning(
            "Firestore unavailable while %s: %s: %s", what, type(error).__name__, error
        )
        raise StoreUnavailable(
            "The issue store did not answer in time; try again shortly."
        ) from error


class BoundedTransaction(Transaction):
    """A transaction whose begin, commit and rollback calls have deadlines too.

    The library sends those three without a timeout, so an unreachable store would
    hold a worker for its default minute; these overrides pass `call_options()`.
    Commit is not retried: a conflict (Aborted) reruns the whole function instead,
    after a random pause: transactions that aborted each other (several reports
    of one failure) would otherwise collide again in step, and the emulator can
    abort all of them every time.
    """

    _retries = 0

    def _begin(self, retry_id: bytes | None = None) -> None:
        if self.in_progress:
            raise ValueError("Transaction already begun.")
        if retry_id is None:
            self._retries = 0
        else:
            self._retries += 1
            ceiling = min(RETRY_PAUSE * 2**self._retries, RETRY_PAUSE_MAX)
            time.sleep(random.uniform(0, ceiling))  # noqa: S311 - jitter only
        response = self._client._firestore_api.begin_transaction(
            request={
                "database": self._client._database_string,
                "options": self._options_protobuf(retry_id),
            },
            metadata=self._client._rpc_metadata,
            **call_options(),
        )
        self._id = response.transaction

    def _commit(self) -> list[Any]:
        if not self.in_progress:
            raise ValueError("No transaction in progress.")
        options = call_options()
        response = self._client._firestore_api.commit(
            request={
                "database": self._client._database_string,
                "writes": self._write_pbs,
                "transaction": self._id,
            },
            metadata=self._client._rpc_metadata,
            timeout=options["timeout"],
            retry=None,
        )
        self._clean_up()
        self.write_results = list(response.write_results)
        self.commit_time = response.commit_time
        return self.write_results

    def _rollback(self) -> None:
        if not self.in_progress:  # begin itself failed: nothing to roll back
            self._clean_up()
            return
        try:
            self._client._firestore_api.rollback(
                request={
                    "database": self._client._database_string,
                    "transaction": self._id,
                },
                metadata=self._client._rpc_metadata,
                timeout=call_options()["timeout"],
                retry=None,
            )
        except _TRANSIENT:
            logger.warning("Could not roll back a transaction; it will expire.")
        finally:
            self._clean_up()


# --- values -----------------------------------------------------------------------


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
        SEARCH_WORDS: issue.search_words,
        PRIORITY_RANK: issue.priority.rank,
    }


def fingerprint_key(reporter_id: str, fingerprint: str) -> str:
    """The lock document id of a reporter's fingerprint: a SHA-256 of the pair
    encoded unambiguously (no separator a fingerprint could contain)."""
    pair = json.dumps([reporter_id, fingerprint])
    return hashlib.sha256(pair.encode()).hexdigest()


def _repairs(data: Mapping[str, Any], issue: Issue) -> dict[str, Any]:
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


# --- counters ---------------------------------------------------------------------

# A counter field's path in a shard: (`total`,) or (`byStatus`, "open"), ...
CounterKey: TypeAlias = tuple[str, ...]

_STATUS_VALUES: Final = frozenset(str(status) for status in Status)
_PRIORITY_VALUES: Final = frozenset(str(priority) for priority in Priority)


def counted_as(data: Mapping[str, Any] | None) -> list[CounterKey]:
    """The counter fields a stored issue document adds one to (none when absent).

    Read from the stored values, as the aggregation queries see them: a missing
    or unknown status or priority counts only in the total.
    """
    if data is None:
        return []
    keys: list[CounterKey] = [(COUNT_TOTAL,)]
    status, priority = data.get(STATUS), data.get(PRIORITY)
    if isinstance(status, str) and status in _STATUS_VALUES:
        keys.append((COUNT_BY_STATUS, status))
    if isinstance(priority, str) and priority in _PRIORITY_VALUES:
        keys.append((COUNT_BY_PRIORITY, priority))
    return keys


def counter_moves(
    before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> dict[CounterKey, int]:
    """What the counters move by when a stored issue goes from `before` to `after`
    (None: no document); empty when neither status, priority nor existence moves."""
    moves: Counter[CounterKey] = Counter(counted_as(after))
    moves.subtract(counted_as(before))
    return {key: n for key, n in moves.items() if n}


def counter_increments(moves: Mapping[CounterKey, int]) -> dict[str, Any]:
    """`moves` as a shard's merge-set of `Increment`s (nested maps for the enums)."""
    document: dict[str, Any] = {}
    for key, n in moves.items():
        *parents, name = key
        target = document
        for parent in parents:
            target = target.setdefault(parent, {})
        target[name] = firestore.Increment(n)
    return document


def counts_from_shards(shards: Sequence[Mapping[str, Any]]) -> IssueCounts:
    """The counters summed over the shards' documents; ValueError when a field is
    not a whole number (an edit in the console: rebuild the counters)."""

    def number(value: Any, name: str) -> int:
        if value is None:
            return 0
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"counter {name} is not a number: {value!r}")
        return value

    def counted(data: Mapping[str, Any], group: str, value: str) -> int:
        values = data.get(group) or {}
        if not isinstance(values, Mapping):
            raise ValueError(f"counter {group} is not a map: {values!r}")
        return number(values.get(value), f"{group}.{value}")

    return IssueCounts(
        total=sum(number(data.get(COUNT_TOTAL), COUNT_TOTAL) for data in shards),
        by_status={
            status: sum(counted(data, COUNT_BY_STATUS, status) for data in shards)
            for status in Status
        },
        by_priority={
            priority: sum(counted(data, COUNT_BY_PRIORITY, priority) for data in shards)
            for priority in Priority
        },
    )


def counts_to_shard(counts: IssueCounts) -> dict[str, Any]:
    """A whole shard document holding `counts` (zeros for an empty shard)."""
    return {
        COUNT_TOTAL: counts.total,
        COUNT_BY_STATUS: {str(s): counts.by_status.get(s, 0) for s in Status},
        COUNT_BY_PRIORITY: {str(p): counts.by_priority.get(p, 0) for p in Priority},
    }


NO_ISSUES: Final = IssueCounts(total=0, by_status={}, by_priority={})


# --- cursors ----------------------------------------------------------------------


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"t": value.astimezone(UTC).isoformat()}
    return value


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"t"}:
        return datetime.fromisoformat(value["t"])
    return value


def _query_key(parts: Any) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:12]


def encode_cursor(key: str, values: Sequence[Any]) -> str:
    """An opaque cursor: the last row's sort values, bound to its query."""
    raw = json.dumps({"k": key, "v": [_encode_value(v) for v in values]})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, key: str, size: int) -> list[Any]:
    """The sort values in `cursor`; 400 naming `cursor` when it is not ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = json.loads(raw)
        values = [_decode_value(v) for v in payload["v"]]
        valid = payload["k"] == key and len(values) == size
    except (binascii.Error, ValueError, KeyError, TypeError):
        valid = False
    if not valid:
        raise InvalidInput(
            "The cursor is not valid for this list; start again without it.",
            errors={"cursor": ["Use the `next` link of the same list."]},
        )
    return values


def _row_values(snapshot: Snapshot, orders: Sequence[tuple[str, str]]) -> list[Any]:
    data = snapshot.to_dict() or {}
    return [data.get(name) for name, _ in orders] + [snapshot.id]


# --- queries ----------------------------------------------------------------------


@dataclass(frozen=True)
class IssueQueryPlan:
    """The Firestore query of a list page and what it must check row by row.

    Firestore allows one array-contains per query, so with a tag and search
    words (or several search words) the query holds one of them and `residual`
    holds the rest, checked on each row read.
    """

    query: Query
    orders: tuple[tuple[str, str], ...]
    residual_words: tuple[str, ...]
    key: str

    @property
    def has_residual(self) -> bool:
        """Whether rows read may still be left out of the page."""
        return bool(self.residual_words)

    def keeps(self, data: Mapping[str, Any]) -> bool:
        """Whether a row read passes the conditions the query could not hold."""
        words = set(data.get(SEARCH_WORDS) or ())
        return all(word in words for word in self.residual_words)


def where_equal(query: Any, filters: IssueFilters) -> Query:
    """`query` restricted by the equality filters (status, priority, type,
    assignee, reporter): what list pages and counts share."""
    equals = (
        (STATUS, filters.status),
        (PRIORITY, filters.priority),
        (TYPE, filters.type),
        (ASSIGNEE, filters.assignee_id),
        (REPORTER, filters.reporter_id),
    )
    for name, value in equals:
        if value is not None:
            query = query.where(filter=FieldFilter(name, "==", str(value)))
    restricted: Query = query
    return restricted


def aggregate_count(query: Any, **options: Any) -> int:
    """Run a count aggregation over `query` (no documents read) and return it;
    `options` go to `get` (a transaction)."""
    result = query.count(alias="n").get(**options, **call_options())
    return int(result[0][0].value)


def _ordered(
    query: Query, orders: Sequence[tuple[str, str]], key: str, cursor: str | None
) -> Query:
    """`query` in `orders`, ties broken by document id, after `cursor`'s row."""
    for name, direction in orders:
        query = query.order_by(name, direction=direction)
    query = query.order_by(DOCUMENT_ID, direction=orders[-1][1])
    if cursor:
        query = query.start_after(decode_cursor(cursor, key, len(orders) + 1))
    return query


def plan_issue_query(
    collection: Any, filters: IssueFilters, cursor: str | None
) -> IssueQueryPlan:
    """Build the one query a list page runs (without its limit)."""
    if (filters.created_after or filters.created_before) and filters.sort not in {
        Sort.NEWEST,
        Sort.OLDEST,
    }:
        raise InvalidInput(
            "created_after and created_before work with sort=newest or oldest.",
            errors={"sort": ["Use newest or oldest with a created range."]},
        )
    query = where_equal(collection, filters)
    residual_words: tuple[str, ...] = ()
    if filters.tag is not None:
        query = query.where(filter=FieldFilter(TAGS, "array_contains", filters.tag))
        residual_words = filters.words
    elif filters.words:
        # The longest word is likely the rarest: it narrows the scan the most.
        key_word = max(filters.words, key=len)
        query = query.where(
            filter=FieldFilter(SEARCH_WORDS, "array_contains", key_word)
        )
        residual_words = tuple(w for w in filters.words if w != key_word)
    if filters.created_after is not None:
        query = query.where(filter=FieldFilter(CREATED, ">=", filters.created_after))
    if filters.created_before is not None:
        query = query.where(filter=FieldFilter(CREATED, "<", filters.created_before))
    orders = SORT_ORDERS[filters.sort]
    key = _query_key(("issues", filters))
    return IssueQueryPlan(
        query=_ordered(query, orders, key, cursor),
        orders=orders,
        residual_words=residual_words,
        key=key,
    )


def _run_page(
    query: Query,
    *,
    orders: tuple[tuple[str, str], ...],
    key: str,
    limit: int,
    read: Callable[[Snapshot], Any],
    keeps: Callable[[Mapping[str, Any]], bool] | None,
    what: str,
) -> Page[Any]:
    fetch = (
        limit + 1
        if keeps is None
        else min(max(limit * SCAN_FACTOR, limit + 1), SCAN_MAX)
    )
    with store_errors(what):
        rows = list(query.limit(fetch).stream(**call_options()))
    items: list[Any] = []
    consumed = 0
    for row in rows:
        if len(items) == limit:
            break
        consumed += 1
        if keeps is not None and not keeps(row.to_dict() or {}):
            continue
        item = read(row)
        if item is not None:
            items.append(item)
    more = consumed < len(rows) or len(rows) == fetch
    next_cursor = (
        encode_cursor(key, _row_values(rows[consumed - 1], orders))
        if more and consumed
        else None
    )
    return Page(items=items, next_cursor=next_cursor)


# --- the repository ----------------------------------------------------------------


Mutation = Callable[[Issue], UpdateResult]
# Given the issue a fingerprint lock names, the issue after absorbing one more
# report, or None when it does not absorb it (a new issue is created instead).
Absorption = Callable[[Issue], Issue | None]


class IssueRepository(Protocol):
    """The issue store, as the services see it."""

    def new_id(self) -> str:
        """A fresh issue id."""

    def add(self, *, issue: Issue, activity: Activity) -> Issue:
        """Store a new issue and its `created` activity together."""

    def add_or_absorb(
        self, *, issue: Issue, activity: Activity, absorb: Absorption
    ) -> CreateResult:
        """Atomically: let the issue holding `issue`'s reporter and fingerprint
        absorb it (by the pure `absorb`), or store `issue` as `add` does and make
        it the one holding them."""

    def get(self, issue_id: str) -> Issue | None:
        """The issue, or None when there is none."""

    def update(self, *, issue_id: str, mutate: Mutation) -> UpdateResult:
        """Read, change (by the pure `mutate`) and write one issue atomically."""

    def delete(self, *, issue_id: str) -> bool:
        """Remove the issue with its comments and activities; False if absent."""

    def list_page(
        self, *, filters: IssueFilters, limit: int, cursor: str | None
    ) -> Page[Issue]:
        """One page of issues matching `filters`, in their sort order."""

    def count(self, *, filters: IssueFilters) -> int:
        """How many issues match the equality filters (an aggregation query)."""

    def counts(self) -> IssueCounts:
        """All issues by status and priority, from the counters (one read call)."""

    def rebuild_counts(self) -> IssueCounts:
        """Recount the issues with aggregation queries and rewrite the counters."""

    def add_comment(self, *, comment: Comment, activity: Activity) -> Comment:
        """Store a comment, its activity and the issue's new comment count."""

    def comments_page(
        self, *, issue_id: str, limit: int, cursor: str | None
    ) -> Page[Comment]:
        """One page of an issue's comments, oldest first."""

    def activities_page(
        self, *, issue_id: str, limit: int, cursor: str | None
    ) -> Page[Activity]:
        """One page of an issue's history, oldest first."""

    def backfill(self, *, page_size: int = 300) -> "BackfillReport":
        """Add the fields queries need to documents the Flask app wrote."""


class FirestoreIssueRepository:
    """`IssueRepository` over the `issues` collection and its subcollections."""

    def __init__(self, client: firestore.Client | None = None) -> None:
        self.client = client or get_client()
        self.issues = self.client.collection(ISSUES)
        self.counter_shards = (
            self.client.collection(STATS).document(ISSUE_COUNTS).collection(SHARDS)
        )
        self.fingerprints = self.client.collection(FINGERPRINTS)

    def _shard(self) -> DocumentReference:
        """A counter shard picked at random, so concurrent writes spread out."""
        n = random.randrange(COUNTER_SHARDS)  # noqa: S311 - load spreading only
        shard: DocumentReference = self.counter_shards.document(str(n))
        return shard

    def _count(
        self,
        writes: WriteBatch | Transaction,
        shard: DocumentReference,
        moves: Mapping[CounterKey, int],
    ) -> None:
        """Add the counter `moves` to the same batch or transaction as the issue."""
        if moves:
            writes.set(shard, counter_increments(moves), merge=True)

    def _transact(self, run: Callable[[Transaction], T], what: str) -> T:
        """Run a `@firestore.transactional` function with bounded calls."""
        transaction = BoundedTransaction(self.client, max_attempts=TRANSACTION_ATTEMPTS)
        with store_errors(what):
            try:
                return run(transaction)
            except ValueError as error:
                if isinstance(error.__cause__, google_exceptions.Aborted):
                    raise StoreUnavailable(
                        "The issue is being changed by many callers; try again."
                    ) from error
                raise

    def new_id(self) -> str:
        """A fresh random document id (Firestore's own generator, no call)."""
        return str(self.issues.document().id)

    def add(self, *, issue: Issue, activity: Activity) -> Issue:
        """One batch: the issue (must not exist), its `created` activity and +1 on
        the counters of its status and priority and the total."""
        ref = self.issues.document(issue.id)
        document = issue_to_document(issue)
        batch = self.client.batch()
        batch.create(ref, document)
        batch.set(ref.collection(ACTIVITIES).document(), activity_to_document(activity))
        self._count(batch, self._shard(), counter_moves(None, document))
        with store_errors("creating an issue"):
            batch.commit(**call_options())
        return issue

    def add_or_absorb(
        self, *, issue: Issue, activity: Activity, absorb: Absorption
    ) -> CreateResult:
        """A transaction on the fingerprint lock of `issue`'s reporter and
        fingerprint: read the lock and the issue it names; if `absorb` takes the
        report, +1 `occurrenceCount` and the new `lastSeenAt` on that issue (no
        activity, no counter); otherwise what `add` writes, plus the lock naming
        the new issue.

        Two concurrent reports read the same lock, so one of them commits and
        the other runs again and finds the issue the first one made. `absorb`
        must be pure (Firestore may run it again on contention).
        """
        if not issue.fingerprint:
            raise ValueError("add_or_absorb needs an issue with a fingerprint.")
        lock_ref = self.fingerprints.document(
            fingerprint_key(issue.reporter_id, issue.fingerprint)
        )
        new_ref = self.issues.document(issue.id)
        document = issue_to_document(issue)
        lock = {
            ISSUE_ID: issue.id,
            REPORTER: issue.reporter_id,
            FINGERPRINT: issue.fingerprint,
            CREATED: issue.created_at,
        }
        shard = self._shard()

        @firestore.transactional
        def run(transaction: Transaction) -> CreateResult:
            held = lock_ref.get(transaction=transaction, **call_options())
            holder = self._lock_holder(transaction, held)
            absorbed = absorb(holder[1]) if holder is not None else None
            if holder is not None and absorbed is not None:
                snapshot, current = holder
                stored = (snapshot.to_dict() or {}).get(OCCURRENCES)
                step = absorbed.occurrence_count - current.occurrence_count
                transaction.update(
                    snapshot.reference,
                    {
                        # The transaction holds the read, so Increment adds to
                        # the count read; a document lacking it gets the whole.
                        OCCURRENCES: firestore.Increment(step)
                        if isinstance(stored, int)
                        else absorbed.occurrence_count,
                        LAST_SEEN: absorbed.last_seen_at,
                    },
                )
                return CreateResult(issue=absorbed, created=False)
            transaction.create(new_ref, document)
            transaction.set(
                new_ref.collection(ACTIVITIES).document(),
                activity_to_document(activity),
            )
            self._count(transaction, shard, counter_moves(None, document))
            if held.exists:
                transaction.set(lock_ref, lock)
            else:
                transaction.create(lock_ref, lock)
            return CreateResult(issue=issue, created=True)

        result: CreateResult = self._transact(run, "reporting an issue")
        return result

    def _lock_holder(
        self, transaction: Transaction, lock: Snapshot
    ) -> tuple[Snapshot, Issue] | None:
        """The issue a fingerprint lock names, read in `transaction`; None when
        there is no lock, or its issue is deleted or unreadable (logged)."""
        holder_id = (lock.to_dict() or {}).get(ISSUE_ID) if lock.exists else None
        if not isinstance(holder_id, str) or not holder_id:
            return None
        snapshot = self.issues.document(holder_id).get(
            transaction=transaction, **call_options()
        )
        if not snapshot.exists:
            return None
        try:
            issue = issue_from_document(snapshot.id, snapshot.to_dict() or {})
        except ValueError as error:
            logger.error(
                "Issue %s unreadable; a new issue takes its reports: %s",
                snapshot.id,
                error,
            )
            return None
        return snapshot, issue

    def _read(self, snapshot: Snapshot) -> Issue:
        try:
            return issue_from_document(snapshot.id, snapshot.to_dict() or {})
        except ValueError as error:
            logger.error("Issue %s cannot be read: %s", snapshot.id, error)
            raise MalformedDocument(
                f"Issue {snapshot.id} is stored in a form this tracker cannot read."
            ) from error

    def _read_or_skip(self, snapshot: Snapshot) -> Issue | None:
        try:
            return issue_from_document(snapshot.id, snapshot.to_dict() or {})
        except ValueError as error:
            logger.error("Issue %s skipped in a list: %s", snapshot.id, error)
            return None

    def get(self, issue_id: str) -> Issue | None:
        """One document read."""
        with store_errors("reading an issue"):
            snapshot = self.issues.document(issue_id).get(**call_options())
        return self._read(snapshot) if snapshot.exists else None

    def update(self, *, issue_id: str, mutate: Mutation) -> UpdateResult:
        """A transaction: read the issue, apply `mutate`, write it, its activity and
        the counter moves of a status or priority change (-1 old, +1 new).

        `mutate` must be pure (Firestore may run it again on contention); errors it
        raises leave nothing written, counters included.
        """
        ref = self.issues.document(issue_id)
        shard = self._shard()

        @firestore.transactional
        def run(transaction: Transaction) -> UpdateResult:
            snapshot = ref.get(transaction=transaction, **call_options())
            if not snapshot.exists:
                raise NotFound("No issue with this id.")
            data = snapshot.to_dict() or {}
            current = self._read(snapshot)
            result = mutate(current)
            if result.activity is None:
                return result
            before, after = current, result.issue
            writes = _repairs(data, current)
            writes.update(
                {
                    ISSUE_FIELDS[name]: _stored_field(getattr(after, name))
                    for name in ISSUE_FIELDS
                    if getattr(before, name) != getattr(after, name)
                }
            )
            writes[VERSION] = after.version
            writes[SEARCH_WORDS] = after.search_words
            writes[PRIORITY_RANK] = after.priority.rank
            transaction.update(ref, writes)
            transaction.set(
                ref.collection(ACTIVITIES).document(),
                activity_to_document(result.activity),
            )
            self._count(transaction, shard, counter_moves(data, {**data, **writes}))
            return result

        result: UpdateResult = self._transact(run, "updating an issue")
        return result

    def delete(self, *, issue_id: str) -> bool:
        """Delete comments and activities in batches, then the issue itself in a
        transaction that takes it off the counters as it is stored then. The
        transaction's read is the only read of the issue (False if absent)."""
        ref = self.issues.document(issue_id)
        shard = self._shard()

        @firestore.transactional
        def remove(transaction: Transaction) -> bool:
            snapshot = ref.get(transaction=transaction, **call_options())
            if not snapshot.exists:
                return False  # deleted meanwhile, and counted off by that delete
            transaction.delete(ref)
            self._count(transaction, shard, counter_moves(snapshot.to_dict(), None))
            return True

        with store_errors("deleting an issue"):
            for name in (COMMENTS, ACTIVITIES):
                sub = ref.collection(name)
                while True:
                    rows = list(
                        sub.select([]).limit(DELETE_BATCH).stream(**call_options())
                    )
                    if not rows:
                        break
                    batch = self.client.batch()
                    for row in rows:
                        batch.delete(row.reference)
                    batch.commit(**call_options())
        removed: bool = self._transact(remove, "deleting an issue")
        return removed

    def list_page(
        self, *, filters: IssueFilters, limit: int, cursor: str | None
    ) -> Page[Issue]:
        """One query, `limit` (+1 to see if there is more) rows, no offsets."""
        plan = plan_issue_query(self.issues, filters, cursor)
        return _run_page(
            plan.query,
            orders=plan.orders,
            key=plan.key,
            limit=min(limit, PAGE_MAX),
            read=self._read_or_skip,
            keeps=plan.keeps if plan.has_residual else None,
            what="listing issues",
        )

    def count(self, *, filters: IssueFilters) -> int:
        """An aggregation query over the equality filters; no documents read."""
        with store_errors("counting issues"):
            return aggregate_count(where_equal(self.issues, filters))

    def counts(self) -> IssueCounts:
        """The counters: every shard read in one call and summed."""
        with store_errors("reading the issue counters"):
            shards = list(
                self.client.get_all(
                    [
                        self.counter_shards.document(str(n))
                        for n in range(COUNTER_SHARDS)
                    ],
                    **call_options(),
                )
            )
        try:
            return counts_from_shards(
                [snapshot.to_dict() or {} for snapshot in shards if snapshot.exists]
            )
        except ValueError as error:
            logger.error("Issue counters cannot be read: %s", error)
            raise MalformedDocument(
                "The issue counters are unreadable; run manage.py backfill_issues "
                "--counters-only to rebuild them."
            ) from error

    def rebuild_counts(self) -> IssueCounts:
        """Recount with aggregation queries (the total, each status, each priority)
        and write the counts to shard 0, zeroing the others, in one transaction.

        The transaction reads every shard first, so an issue written meanwhile
        (which increments a shard) makes it run again rather than be lost.
        """
        refs = [self.counter_shards.document(str(n)) for n in range(COUNTER_SHARDS)]

        def count(transaction: Transaction, name: str | None, value: str) -> int:
            query: Query = self.issues  # type: ignore[assignment]
            if name is not None:
                query = query.where(filter=FieldFilter(name, "==", value))
            return aggregate_count(query, transaction=transaction)

        @firestore.transactional
        def run(transaction: Transaction) -> IssueCounts:
            list(transaction.get_all(refs, **call_options()))
            counts = IssueCounts(
                total=count(transaction, None, ""),
                by_status={s: count(transaction, STATUS, str(s)) for s in Status},
                by_priority={p: count(transaction, PRIORITY, str(p)) for p in Priority},
            )
            transaction.set(refs[0], counts_to_shard(counts))
            for ref in refs[1:]:
                transaction.set(ref, counts_to_shard(NO_ISSUES))
            return counts

        rebuilt: IssueCounts = self._transact(run, "rebuilding the issue counters")
        return rebuilt

    def add_comment(self, *, comment: Comment, activity: Activity) -> Comment:
        """One batch: comment, `commented` activity, counter and updatedAt."""
        ref = self.issues.document(comment.issue_id)
        comment_ref = ref.collection(COMMENTS).document()
        batch = self.client.batch()
        batch.create(
            comment_ref,
            {
                ISSUE_ID: comment.issue_id,
                AUTHOR: comment.author_id,
                CONTENT: comment.content,
                CREATED: comment.created_at,
                UPDATED: comment.updated_at,
            },
        )
        batch.set(ref.collection(ACTIVITIES).document(), activity_to_document(activity))
        batch.update(
            ref,
            {COMMENT_COUNT: firestore.Increment(1), UPDATED: comment.created_at},
        )
        with store_errors("adding a comment"):
            try:
                batch.commit(**call_options())
            except google_exceptions.NotFound as error:
                raise NotFound("No issue with this id.") from error
        return Comment(
            id=comment_ref.id,
            issue_id=comment.issue_id,
            author_id=comment.author_id,
            content=comment.content,
            created_at=comment.created_at,
            updated_at=comment.updated_at,
        )

    def backfill(self, *, page_size: int = 300) -> "BackfillReport":
        """Add what queries need to documents the Flask app wrote; idempotent.

        Writes `searchWords`, `priorityRank`, `version`, `assigneeId` and the
        camelCase ids and real timestamps of snake_case or ISO-text fields, without
        touching `updatedAt`. Pages through the collection by document id; a
        document changed meanwhile (update-time precondition) is read again.
        """
        scanned = repaired = unreadable = 0
        last: str | None = None
        while True:
            query = self.issues.order_by(DOCUMENT_ID).limit(page_size)
            if last is not None:
                query = query.start_after({DOCUMENT_ID: last})
            with store_errors("reading issues to backfill"):
                rows = list(query.stream(**call_options()))
            if not rows:
                return BackfillReport(scanned, repaired, unreadable)
            batch, pending = self.client.batch(), 0
            for row in rows:
                data = row.to_dict() or {}
                try:
                    issue = issue_from_document(row.id, data)
                except ValueError as error:
                    logger.error("Issue %s not backfilled: %s", row.id, error)
                    unreadable += 1
                    continue
                fixes = _repairs(data, issue)
                derived = {
                    SEARCH_WORDS: issue.search_words,
                    PRIORITY_RANK: issue.priority.rank,
                    VERSION: issue.version,
                    ASSIGNEE: issue.assignee_id,
                }
                fixes.update(
                    {
                        name: value
                        for name, value in derived.items()
                        if name not in data or data[name] != value
                    }
                )
                if fixes:
                    option = self.client.write_option(last_update_time=row.update_time)
                    batch.update(row.reference, fixes, option=option)
                    pending += 1
            with store_errors("backfilling issues"):
                try:
                    if pending:
                        batch.commit(**call_options())
                except google_exceptions.FailedPrecondition:
                    continue  # someone edited one of them: read the page again
            scanned += len(rows)
            repaired += pending
            last = rows[-1].id

    def _sub_page(
        self,
        issue_id: str,
        name: str,
        read: Callable[[Snapshot], Any],
        limit: int,
        cursor: str | None,
    ) -> Page[Any]:
        orders = ((CREATED, Query.ASCENDING),)
        key = _query_key((name, issue_id))
        collection = self.issues.document(issue_id).collection(name)
        return _run_page(
            _ordered(collection, orders, key, cursor),
            orders=orders,
            key=key,
            limit=min(limit, PAGE_MAX),
            read=read,
            keeps=None,
            what=f"listing {name}",
        )

    def comments_page(
        self, *, issue_id: str, limit: int, cursor: str | None
    ) -> Page[Comment]:
        """Oldest first; unreadable comments are logged and skipped."""

        def read(row: Snapshot) -> Comment | None:
            try:
                return comment_from_document(row.id, issue_id, row.to_dict() or {})
            except ValueError as error:
                logger.error("Comment %s/%s skipped: %s", issue_id, row.id, error)
                return None

        return self._sub_page(issue_id, COMMENTS, read, limit, cursor)

    def activities_page(
        self, *, issue_id: str, limit: int, cursor: str | None
    ) -> Page[Activity]:
        """Oldest first; unreadable activities are logged and skipped."""

        def read(row: Snapshot) -> Activity | None:
            try:
                return activity_from_document(row.id, row.to_dict() or {})
            except ValueError as error:
                logger.error("Activity %s/%s skipped: %s", issue_id, row.id, error)
                return None

        return self._sub_page(issue_id, ACTIVITIES, read, limit, cursor)


@dataclass(frozen=True)
class BackfillReport:
    """What `backfill` did."""

    scanned: int
    repaired: int
    unreadable: int


def _stored_field(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, Status | Priority | IssueType):
        return str(value)
    return value


# --- the portal dashboard's queries (issues/dashboard.py) ----------------------------

# The history entry every resolution writes: the only move into `resolved`.
RESOLVED_CHANGE: Final = {
    "field": STATUS,
    "oldValue": str(Status.IN_PROGRESS),
    "newValue": str(Status.RESOLVED),
}


class FirestoreDashboardRepository(FirestoreIssueRepository):
    """The issue store plus the read-only queries of the portal's dashboard."""

    def count_created_between(self, *, start: datetime, end: datetime) -> int:
        """Issues created in [start, end): one aggregation query."""
        query = self.issues.where(filter=FieldFilter(CREATED, ">=", start)).where(
            filter=FieldFilter(CREATED, "<", end)
        )
        with store_errors("counting new issues"):
            return aggregate_count(query)

    def count_resolved_between(self, *, start: datetime, end: datetime) -> int:
        """Moves into `resolved` recorded in [start, end), across all issues' history
        (a collection-group aggregation). `resolvedAt` would miss closed issues."""
        query = (
            self.client.collection_group(ACTIVITIES)
            .where(filter=FieldFilter(CHANGES, "array_contains", RESOLVED_CHANGE))
            .where(filter=FieldFilter(CREATED, ">=", start))
            .where(filter=FieldFilter(CREATED, "<", end))
        )
        with store_errors("counting resolutions"):
            return aggregate_count(query)

    def unassigned_open_by(
        self, *, reporter_ids: Sequence[str], limit: int
    ) -> list[Issue]:
        """Open issues nobody is assigned to, reported by one of `reporter_ids`
        (at most 30, Firestore's `in` limit), newest first."""
        query = (
            self.issues.where(filter=FieldFilter(STATUS, "==", str(Status.OPEN)))
            .where(filter=FieldFilter(ASSIGNEE, "==", None))
            .where(filter=FieldFilter(REPORTER, "in", list(reporter_ids)))
            .order_by(CREATED, direction=Query.DESCENDING)
            .limit(limit)
        )
        with store_errors("listing unassigned service issues"):
            rows = list(query.stream(**call_options()))
        return [issue for row in rows if (issue := self._read_or_skip(row))]
