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
- `trash`: deleted issues, restore and purge (`IssueTrash`).
- `transfer`: export and import of every issue with its history (JSON Lines).
"""

from collections.abc import Callable
from datetime import datetime
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
    TrashedIssue,
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

    def add(
        self, *, issue: Issue, activity: Activity, event_id: str | None = None
    ) -> Issue:
        """Store a new issue and its `created` activity together (and the outbox
        event `event_id`, `issues.store.outbox`); IssueExists when its id is
        taken."""

    def add_many(
        self, *, items: list[tuple[Issue, Activity, str | None]]
    ) -> list[Issue]:
        """Store new issues with their `created` activities and outbox events
        (issue, activity, event id) in one commit (their ids are fresh: none can
        be taken)."""

    def add_or_absorb(
        self,
        *,
        issue: Issue,
        activity: Activity,
        absorb: Absorption,
        chosen_id: bool = False,
        event_id: str | None = None,
    ) -> CreateResult:
        """Atomically: let the issue holding `issue`'s reporter and fingerprint
        absorb it (by the pure `absorb`), or store `issue` as `add` does and make
        it the one holding them. With `chosen_id` (the caller chose `issue.id`):
        IssueExists when that id is taken, and a replay (nothing written) when
        the holder already absorbed a report with that id."""

    def get(self, issue_id: str) -> Issue | None:
        """The issue, or None when there is none."""

    def update(
        self, *, issue_id: str, mutate: Mutation, event_id: str | None = None
    ) -> UpdateResult:
        """Read, change (by the pure `mutate`) and write one issue atomically,
        with the outbox event `event_id` when something changed."""

    def duplicate_ids(
        self, *, issue_id: str, reporter_id: str | None = None, limit: int
    ) -> list[str]:
        """Ids of at most `limit` issues marked as duplicates of `issue_id` (only
        those `reporter_id` reported, when given)."""

    def delete(self, *, issue_id: str, deleted_by: str, deleted_at: datetime) -> bool:
        """Move the issue to the trash (off every list, count and read), its
        comments and activities kept for a restore; False if absent."""

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

    def add_comment(
        self,
        *,
        comment: Comment,
        activity: Activity,
        event_id: str | None = None,
        watchers: tuple[str, ...] = (),
    ) -> Comment:
        """Store a comment, its activity, the issue's new comment count, the new
        `watchers` and the outbox event `event_id` together."""

    def watch(self, *, issue_id: str, user_id: str, watching: bool) -> bool:
        """Start or stop `user_id` watching the issue; False when it is absent."""

    def comments_page(
        self, *, issue_id: str, limit: int, cursor: str | None
    ) -> Page[Comment]:
        """One page of an issue's comments, oldest first."""

    def activities_page(
        self, *, issue: Issue, limit: int, cursor: str | None
    ) -> Page[Activity]:
        """One page of `issue`'s history, oldest first, opening with its
        `created` entry (stored, or derived from the issue)."""

    def backfill(self, *, page_size: int = 300) -> BackfillReport:
        """Add the fields queries need to documents the Flask app wrote."""


class IssueTrash(Protocol):
    """Deleted issues: listed, restored and purged by admins and operators."""

    def get(self, *, issue_id: str) -> TrashedIssue | None:
        """One trashed issue, or None."""

    def page(self, *, limit: int, cursor: str | None) -> Page[TrashedIssue]:
        """One page of the trash, most recently deleted first."""

    def restore(self, *, issue_id: str) -> Issue:
        """Put a trashed issue back atomically; NotFound when it is not in the
        trash, Conflict when its id is taken again or it is being purged."""

    def expired_ids(self, *, before: datetime, limit: int) -> list[str]:
        """Ids of at most `limit` issues trashed before `before`, oldest first."""

    def purge(self, *, issue_id: str, before: datetime) -> bool:
        """Delete one issue trashed before `before` with its comments and
        activities for good; False when it is no longer such an entry."""


def get_issue_trash() -> IssueTrash:
    """The trash the services use: the `ISSUE_TRASH` class (Firestore's when
    unset)."""
    path = getattr(settings, "ISSUE_TRASH", "issues.store.trash.FirestoreIssueTrash")
    trash: IssueTrash = import_string(path)()
    return trash


def get_issue_repository() -> IssueRepository:
    """The store the services use: an instance of the `ISSUE_REPOSITORY` class
    (Firestore by default; the client is shared per process)."""
    factory = import_string(settings.ISSUE_REPOSITORY)
    repository: IssueRepository = factory()
    return repository
