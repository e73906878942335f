"""The portal dashboard's queries, behind their own small Protocol.

Read-only; counts are aggregation queries and lists are single queries.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Final, Protocol

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
    CREATED,
    ISSUES,
    REPORTER,
    STATUS,
    read_issue_or_skip,
)
from issues.store.queries import aggregate_count
from issuetracker.firestore import call_options, get_client, store_errors

# The history entry every resolution writes: the only move into `resolved`.
RESOLVED_CHANGE: Final = {
    "field": STATUS,
    "oldValue": str(Status.IN_PROGRESS),
    "newValue": str(Status.RESOLVED),
}


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


def get_dashboard_store() -> DashboardStore:
    """The dashboard's store: an instance of the `DASHBOARD_STORE` class."""
    factory = import_string(settings.DASHBOARD_STORE)
    store: DashboardStore = factory()
    return store
