"""The queries of list pages: query plans, opaque cursors and the page runner.

Lists page with cursors bound to their query, never offsets; counts are
aggregation queries, never reads.
"""

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from google.cloud.firestore_v1.base_query import FieldFilter
from google.cloud.firestore_v1.query import Query

from issues.domain import IssueFilters, Page, Sort
from issues.store.documents import (
    ASSIGNEE,
    COMPONENT,
    CREATED,
    DOCUMENT_ID,
    DUPLICATE_OF,
    PRIORITY,
    PRIORITY_RANK,
    REPORTER,
    SEARCH_WORDS,
    STATUS,
    TAGS,
    TYPE,
    UPDATED,
    Snapshot,
)
from issuetracker.errors import InvalidInput
from issuetracker.firestore import call_options, store_errors

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


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"t": value.astimezone(UTC).isoformat()}
    return value


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"t"}:
        return datetime.fromisoformat(value["t"])
    return value


def query_key(parts: Any) -> str:
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
        raise invalid_cursor()
    return values


def invalid_cursor() -> InvalidInput:
    """The 400 for a cursor this list did not make."""
    return InvalidInput(
        "The cursor is not valid for this list; start again without it.",
        errors={"cursor": ["Use the `next` link of the same list."]},
    )


def row_values(snapshot: Snapshot, orders: Sequence[tuple[str, str]]) -> list[Any]:
    """The values of `snapshot` a query in `orders` sorts on, its id last."""
    data = snapshot.to_dict() or {}
    return [data.get(name) for name, _ in orders] + [snapshot.id]


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
    assignee, reporter, component): what list pages and counts share."""
    equals = (
        (STATUS, filters.status),
        (PRIORITY, filters.priority),
        (TYPE, filters.type),
        (ASSIGNEE, filters.assignee_id),
        (REPORTER, filters.reporter_id),
        (COMPONENT, filters.component),
    )
    for name, value in equals:
        if value is not None:
            query = query.where(filter=FieldFilter(name, "==", str(value)))
    restricted: Query = query
    return restricted


def duplicates_query(
    collection: Any, issue_id: str, reporter_id: str | None = None
) -> Query:
    """The issues marked as duplicates of `issue_id` (of `reporter_id`'s only,
    when given), ids only: equality filters without a sort need no composite
    index."""
    query = collection.where(filter=FieldFilter(DUPLICATE_OF, "==", issue_id))
    if reporter_id is not None:
        query = query.where(filter=FieldFilter(REPORTER, "==", reporter_id))
    selected: Query = query.select([])
    return selected


def aggregate_count(query: Any, **options: Any) -> int:
    """Run a count aggregation over `query` (no documents read) and return it;
    `options` go to `get` (a transaction)."""
    result = query.count(alias="n").get(**options, **call_options())
    return int(result[0][0].value)


def ordered(
    query: Query, orders: Sequence[tuple[str, str]], key: str, cursor: str | None
) -> Query:
    """`query` in `orders`, ties broken by document id, after `cursor`'s row."""
    after = decode_cursor(cursor, key, len(orders) + 1) if cursor else None
    return ordered_after(query, orders, after)


def ordered_after(
    query: Query, orders: Sequence[tuple[str, str]], after: Sequence[Any] | None
) -> Query:
    """`query` in `orders`, ties broken by document id, after the row whose
    `row_values` are `after` (from the start when None)."""
    for name, direction in orders:
        query = query.order_by(name, direction=direction)
    query = query.order_by(DOCUMENT_ID, direction=orders[-1][1])
    if after is not None:
        query = query.start_after(list(after))
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
    key = query_key(("issues", filters))
    return IssueQueryPlan(
        query=ordered(query, orders, key, cursor),
        orders=orders,
        residual_words=residual_words,
        key=key,
    )


def run_page(
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
        encode_cursor(key, row_values(rows[consumed - 1], orders))
        if more and consumed
        else None
    )
    return Page(items=items, next_cursor=next_cursor)
