"""The portal dashboard's queries, behind their own small Protocol.

Read-only; counts are aggregation queries and lists are single queries.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final, NamedTuple, Protocol

from django.conf import settings
from django.utils.module_loading import import_string
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter
from google.cloud.firestore_v1.query import Query

from issues.domain import Issue, Status
from issues.store.documents import (
    ACTIVITIES,
    ASSIGNEE,
    CHANGES,
    COMPONENT,
    CREATED,
    ISSUES,
    REPORTER,
    STATUS,
    read_issue_or_skip,
)
from issues.store.queries import aggregate_count, ordered_after, row_values
from issuetracker.firestore import call_options, get_client, store_errors

# The history entry every resolution writes: the only move into `resolved`.
RESOLVED_CHANGE: Final = {
    "field": STATUS,
    "oldValue": str(Status.IN_PROGRESS),
    "newValue": str(Status.RESOLVED),
}
# The triage queue's order within a service: by component (none first), then
# newest first. A report keeps both while it waits (unless someone edits its
# component), so reports taken or arriving meanwhile move no page boundary.
QUEUE_ORDERS: Final = ((COMPONENT, Query.ASCENDING), (CREATED, Query.DESCENDING))


def queue_query(issues: Any, reporter_id: str, after: Sequence[Any] | None) -> Query:
    """The triage queue of one service (without its limit): equality filters
    only, so one composite index per filtered field serves it."""
    query = (
        issues.where(filter=FieldFilter(STATUS, "==", str(Status.OPEN)))
        .where(filter=FieldFilter(ASSIGNEE, "==", None))
        .where(filter=FieldFilter(REPORTER, "==", reporter_id))
    )
    return ordered_after(query, QUEUE_ORDERS, after)


class Positioned(NamedTuple):
    """An issue and where it sits in its query's order (its sort values)."""

    issue: Issue
    position: list[Any]


class DashboardStore(Protocol):
    """The read-only queries of the portal's dashboard, beside the issue store."""

    def count_created_between(self, *, start: datetime, end: datetime) -> int:
        """Issues created in [start, end)."""

    def count_resolved_between(self, *, start: datetime, end: datetime) -> int:
        """Moves into `resolved` recorded in [start, end), across all issues."""

    def unassigned_open_by(
        self, *, reporter_ids: Sequence[str], limit: int
    ) -> list[Issue]:
        """Open, unassigned issues reported by one of `reporter_ids`, newest first."""

    def unassigned_open_of(
        self, *, reporter_id: str, limit: int, after: Sequence[Any] | None
    ) -> list[Positioned]:
        """Open, unassigned issues reported by `reporter_id` in QUEUE_ORDERS,
        after the one at position `after` (from the start when None)."""


class FirestoreDashboardStore:
    """`DashboardStore` over the `issues` collection and its histories."""

    def __init__(self, client: firestore.Client | None = None) -> None:
        self.client = client or get_client()
        self.issues = self.client.collection(ISSUES)

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
        return [issue for row in rows if (issue := read_issue_or_skip(row))]

    def unassigned_open_of(
        self, *, reporter_id: str, limit: int, after: Sequence[Any] | None
    ) -> list[Positioned]:
        """Open issues nobody is assigned to, reported by `reporter_id`, by
        component then newest first, after position `after`; each with its
        position."""
        query = queue_query(self.issues, reporter_id, after).limit(limit)
        with store_errors("listing the triage queue"):
            rows = list(query.stream(**call_options()))
        return [
            Positioned(issue, row_values(row, QUEUE_ORDERS))
            for row in rows
            if (issue := read_issue_or_skip(row))
        ]


def get_dashboard_store() -> DashboardStore:
    """The dashboard's store: an instance of the `DASHBOARD_STORE` class."""
    factory = import_string(settings.DASHBOARD_STORE)
    store: DashboardStore = factory()
    return store
