"""The issue store: the only code that touches Firestore for issues.

`IssueRepository` is what the services and selectors see; the class behind it is
named by the `ISSUE_REPOSITORY` setting (`get_issue_repository`), as Django's
session engines are. The modules:

- `documents`: documents <-> domain objects; every field name.
- `queries`: list query plans, cursors, aggregation counts.
- `counters`: the sharded issue counters.
- `firestore`: `FirestoreIssueRepository`.
- `dashboard`: the portal dashboard's queries (`DashboardStore`).
- `backfill`: the Flask documents' data migration and the counters' rebuild.
"""

from collections.abc import Callable
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from issues.domain import (
    Activity,
    Comment,
    CreateResult,
    Issue,
    IssueCounts,
    IssueFilters,
    Page,
    UpdateResult,
)
from issues.store.backfill import BackfillReport


class IssueExists(Exception):
    """A new issue's id is taken: `stored` is the issue that has it. Nothing of
    the new issue was written."""

    def __init__(self, stored: Issue) -> None:
        super().__init__(f"Issue {stored.id} exists.")
        self.stored = stored


Mutation = Callable[[Issue], UpdateResult]
# Given the issue a fingerprint lock names, the issue after absorbing one more
# report, or None when it does not absorb it (a new issue is created instead).
Absorption = Callable[[Issue], Issue | None]


class IssueRepository(Protocol):
    """The issue store, as the services see it."""

    def new_id(self) -> str:
        """A fresh issue id."""

    def add(self, *, issue: Issue, activity: Activity) -> Issue:
        """Store a new issue and its `created` activity together; IssueExists
        when its id is taken."""

    def add_many(self, *, items: list[tuple[Issue, Activity]]) -> list[Issue]:
        """Store new issues with their `created` activities in one commit (their
        ids are fresh: none can be taken)."""

    def add_or_absorb(
        self,
        *,
        issue: Issue,
        activity: Activity,
        absorb: Absorption,
        chosen_id: bool = False,
    ) -> CreateResult:
        """Atomically: let the issue holding `issue`'s reporter and fingerprint
        absorb it (by the pure `absorb`), or store `issue` as `add` does and make
        it the one holding them. With `chosen_id` (the caller chose `issue.id`):
        IssueExists when that id is taken, and a replay (nothing written) when
        the holder already absorbed a report with that id."""

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

    def backfill(self, *, page_size: int = 300) -> BackfillReport:
        """Add the fields queries need to documents the Flask app wrote."""


def get_issue_repository() -> IssueRepository:
    """The store the services use: an instance of the `ISSUE_REPOSITORY` class
    (Firestore by default; the client is shared per process)."""
    factory = import_string(settings.ISSUE_REPOSITORY)
    repository: IssueRepository = factory()
    return repository
