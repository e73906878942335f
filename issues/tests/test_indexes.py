"""Every query the code can make has its composite index in firestore.indexes.json.

The emulator does not enforce indexes; production does, and answers
FAILED_PRECONDITION for a query whose index is missing. This test builds each
list query the repository can build (every filter combination and sort), records
the queries the other repository methods send to the emulator, derives the
indexes each needs and fails naming any that the file lacks.

Index rule (Firestore's, with index merging): a query with only one field in
filters and sorts, or with equality filters and no sort, needs no composite
index (single-field indexes serve it); otherwise each equality or
array-contains field needs an index (that field, then the query's sort fields),
and a query without such fields but with several sort fields needs an index of
those sort fields. Range filters must be on the first sort field.
"""

import io
import itertools
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from google.cloud.firestore_v1.aggregation import AggregationQuery
from google.cloud.firestore_v1.query import CollectionGroup, Query
from google.cloud.firestore_v1.types import StructuredQuery

from issues import services
from issues.domain import IssueFilters, IssueType, Priority, Sort, Status
from issues.store.dashboard import FirestoreDashboardStore, queue_query
from issues.store.firestore import FirestoreIssueRepository
from issues.store.queries import plan_issue_query
from issues.store.transfer import FirestoreIssueTransfer
from issues.store.trash import FirestoreIssueTrash

INDEX_FILE = Path(__file__).resolve().parents[2] / "firestore.indexes.json"
EQUALITY_OPS = {"EQUAL", "IN", "IS_NULL"}
ARRAY_OPS = {"ARRAY_CONTAINS", "ARRAY_CONTAINS_ANY"}
RANGE_OPS = {"LESS_THAN", "LESS_THAN_OR_EQUAL", "GREATER_THAN", "GREATER_THAN_OR_EQUAL"}

Index = tuple[str, str, tuple[tuple[str, str], ...]]  # group, scope, fields


def declared() -> set[Index]:
    data = json.loads(INDEX_FILE.read_text())
    return {
        (
            index["collectionGroup"],
            index["queryScope"],
            tuple(
                (field["fieldPath"], field.get("order") or field["arrayConfig"])
                for field in index["fields"]
            ),
        )
        for index in data["indexes"]
    }


def exempt() -> set[tuple[str, str]]:
    """(group, field) the file exempts from indexing: no query may use them."""
    data = json.loads(INDEX_FILE.read_text())
    return {
        (override["collectionGroup"], override["fieldPath"])
        for override in data["fieldOverrides"]
        if override["indexes"] == []
    }


def used(query: Any) -> set[tuple[str, str]]:
    """(group, field) of every field a query filters or sorts on."""
    proto: StructuredQuery = query._to_protobuf()
    names = {name for name, _ in _filters(proto.where)} if "where" in proto else set()
    names |= {order.field.field_path for order in proto.order_by}
    return {(proto.from_[0].collection_id, name) for name in names}


def _filters(where: Any) -> Iterator[tuple[str, str]]:
    if "composite_filter" in where:
        for inner in where.composite_filter.filters:
            yield from _filters(inner)
    elif "field_filter" in where:
        yield where.field_filter.field.field_path, where.field_filter.op.name
    elif "unary_filter" in where:
        yield where.unary_filter.field.field_path, where.unary_filter.op.name


def required(query: Any) -> set[Index]:
    """The composite indexes Firestore needs for one query."""
    proto: StructuredQuery = query._to_protobuf()
    source = proto.from_[0]
    scope = "COLLECTION_GROUP" if source.all_descendants else "COLLECTION"
    filters = list(_filters(proto.where)) if "where" in proto else []
    orders = [
        (order.field.field_path, "ASCENDING" if order.direction == 1 else "DESCENDING")
        for order in proto.order_by
        if order.field.field_path != "__name__"
    ]
    ranges = {name for name, op in filters if op in RANGE_OPS}
    if not orders and ranges:
        orders = [(sorted(ranges)[0], "ASCENDING")]
    assert ranges <= {name for name, _ in orders[:1]}, (
        f"range filters {ranges} must be on the first sort field {orders}"
    )
    prefixes = [
        (name, "CONTAINS" if op in ARRAY_OPS else "ASCENDING")
        for name, op in filters
        if op in EQUALITY_OPS | ARRAY_OPS
    ]
    fields = {name for name, _ in prefixes} | {name for name, _ in orders}
    if scope == "COLLECTION" and (len(fields) <= 1 or not orders):
        return set()  # single-field indexes, merged for equality-only filters
    group = source.collection_id
    if not prefixes:
        return (
            {(group, scope, tuple(orders))}
            if len(orders) > 1 or scope != "COLLECTION"
            else set()
        )
    return {(group, scope, (prefix, *orders)) for prefix in prefixes}


def every_list_filter() -> Iterator[IssueFilters]:
    """Each combination of filters and sort the list endpoint accepts."""
    equals: dict[str, Any] = {
        "status": Status.OPEN,
        "priority": Priority.HIGH,
        "type": IssueType.BUG,
        "assignee_id": "ann",
        "reporter_id": "bob",
        "component": "ledger",
    }
    texts: list[dict[str, Any]] = [
        {},
        {"tag": "auth"},
        {"words": ("login",)},
        {"words": ("login", "fails")},
        {"tag": "auth", "words": ("login",)},
    ]
    now = datetime.now(UTC)
    ranges: list[dict[str, Any]] = [
        {},
        {"created_after": now},
        {"created_before": now},
        {"created_after": now, "created_before": now},
    ]
    for count in range(len(equals) + 1):
        for names in itertools.combinations(equals, count):
            for text, created, sort in itertools.product(texts, ranges, Sort):
                if created and sort not in {Sort.NEWEST, Sort.OLDEST}:
                    continue
                yield IssueFilters(
                    **{name: equals[name] for name in names},
                    **text,
                    **created,
                    sort=sort,
                )


def test_every_list_query_has_its_indexes(firestore_emulator):
    collection = FirestoreIssueRepository().issues
    available = declared()
    missing: set[Index] = set()
    shapes = 0
    for filters in every_list_filter():
        plan = plan_issue_query(collection, filters, cursor=None)
        missing |= required(plan.query) - available
        shapes += 1
    assert shapes > 3000
    assert not missing, f"add to firestore.indexes.json: {sorted(missing)}"


@pytest.fixture
def sent(monkeypatch) -> list[Any]:
    """Every query the code sends to the emulator during the test, as built."""
    queries: list[Any] = []
    stream, get = Query.stream, AggregationQuery.get
    group_stream = CollectionGroup.stream

    def record_stream(self, *args, **kwargs):
        queries.append(self)
        return stream(self, *args, **kwargs)

    def record_group_stream(self, *args, **kwargs):
        queries.append(self)
        return group_stream(self, *args, **kwargs)

    def record_get(self, *args, **kwargs):
        queries.append(self._nested_query)
        return get(self, *args, **kwargs)

    monkeypatch.setattr(Query, "stream", record_stream)
    monkeypatch.setattr(CollectionGroup, "stream", record_group_stream)
    monkeypatch.setattr(AggregationQuery, "get", record_get)
    return queries


def test_queries_sent_by_the_other_repository_methods_have_their_indexes(
    store, developer, make_issue, sent
):
    issue = make_issue(developer)
    services.comment_add(actor=developer, issue_id=issue.id, content="c")
    repo = FirestoreIssueRepository()
    dashboard = FirestoreDashboardStore()
    repo.comments_page(issue_id=issue.id, limit=10, cursor=None)
    repo.activities_page(issue=issue, limit=10, cursor=None)
    repo.count(filters=IssueFilters(status=Status.OPEN, priority=Priority.HIGH))
    repo.count(filters=IssueFilters(component="ledger", type=IssueType.BUG))
    repo.duplicate_ids(issue_id=issue.id, limit=100)
    repo.duplicate_ids(issue_id=issue.id, reporter_id="svc", limit=100)
    now = datetime.now(UTC)
    dashboard.count_created_between(start=now - timedelta(days=1), end=now)
    dashboard.count_resolved_between(start=now - timedelta(days=1), end=now)
    dashboard.unassigned_open_by(reporter_ids=["a", "b"], limit=5)
    dashboard.unassigned_open_of(reporter_id="a", limit=5, after=None)
    dashboard.unassigned_open_of(reporter_id="a", limit=5, after=[None, now, "x"])
    repo.rebuild_counts()
    repo.counts()
    trash = FirestoreIssueTrash()
    repo.delete(issue_id=issue.id, deleted_by="admin", deleted_at=now)
    trash.page(limit=10, cursor=None)
    trash.expired_ids(before=now + timedelta(days=1), limit=10)
    trash.purge(issue_id=issue.id, before=now + timedelta(days=1))
    FirestoreIssueTransfer().export(io.StringIO())
    assert len(sent) >= 25
    missing = set().union(*(required(query) for query in sent)) - declared()
    assert not missing, f"add to firestore.indexes.json: {sorted(missing)}"
    assert exempt(), "fieldOverrides exempts the fields no query reads"
    assert not set().union(*(used(query) for query in sent)) & exempt()


def test_the_index_file_lists_no_index_nothing_needs(firestore_emulator):
    collection = FirestoreIssueRepository().issues
    needed: set[Index] = set()
    for filters in every_list_filter():
        query = plan_issue_query(collection, filters, cursor=None).query
        needed |= required(query)
        assert not used(query) & exempt(), filters  # fields kept out of indexes
    needed |= required(queue_query(collection, "svc", None))  # the triage queue
    # Other collections' indexes are checked by their apps' tests.
    unused = {
        i for i in declared() - needed if i[1] == "COLLECTION" and i[0] == "issues"
    }
    assert not unused, f"not needed by any list query: {sorted(unused)}"
