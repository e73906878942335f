"""The portal's dashboard and its 30-day chart: one selector call per page.

Firestore calls of a page are independent reads, so they run side by side
(`run_side_by_side`) and a page costs the slowest query, not their sum. The
dashboard's counts by status and priority come from the maintained counters (one
read of a few documents, whatever the store holds); other counts are aggregation
queries. No page reads issues to count them.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from typing import Any

from django.core.cache import cache

from accounts.policy import require, user_can
from accounts.roles import Action, Role
from accounts.services import users as accounts_users
from issues.domain import Issue, IssueCounts, IssueFilters, Priority, Sort, Status
from issues.selectors.issues import issue_count, issue_counts, issue_list
from issues.store.dashboard import DashboardStore, get_dashboard_store
from issuetracker.concurrency import run_side_by_side

CHART_DAYS = 30
# The chart is two aggregation queries a day. A past day's numbers do not change
# (only a deletion could lower them), so each is kept for hours; today's for a minute.
TODAY_CACHE_SECONDS = 60
PAST_DAY_CACHE_SECONDS = 6 * 3600
LIST_SIZE = 8
# Firestore's `in` takes at most 30 values.
IN_MAX = 30


@dataclass(frozen=True)
class DayCount:
    """How many issues were opened and resolved on one UTC day."""

    day: date
    opened: int
    resolved: int


@dataclass(frozen=True)
class Dashboard:
    """Everything the dashboard shows."""

    by_status: list[tuple[Status, int]]
    by_priority: list[tuple[Priority, int]]
    shows_chart: bool
    chart: list[DayCount] | None  # None: not cached; the page fetches it
    my_open: list[Issue]
    recently_updated: list[Issue]
    unpicked_from_services: list[Issue] | None


Day = tuple[datetime, datetime]


def chart_days(*, today: date, days: int = CHART_DAYS) -> list[Day]:
    """[start, end) of each of the `days` UTC days ending `today`."""
    first = today - timedelta(days=days - 1)
    return [
        (
            datetime.combine(first + timedelta(days=n), time(), UTC),
            datetime.combine(first + timedelta(days=n + 1), time(), UTC),
        )
        for n in range(days)
    ]


def _day_key(day: date) -> str:
    return f"portal:chart:v1:{day.isoformat()}"


def _cached_days(
    *, today: date, days: int = CHART_DAYS
) -> tuple[list[Day], dict[str, tuple[int, int]]]:
    """The chart's days and the (opened, resolved) counts the cache holds for
    them, by `_day_key` (one `get_many`)."""
    bounds = chart_days(today=today, days=days)
    found = cache.get_many([_day_key(start.date()) for start, _ in bounds])
    return bounds, found


def _day_counts(
    bounds: Sequence[Day], found: Mapping[str, tuple[int, int]]
) -> list[DayCount]:
    """The chart's rows, from the counts of every day in `bounds`."""
    rows = []
    for start, _ in bounds:
        opened, resolved = found[_day_key(start.date())]
        rows.append(DayCount(day=start.date(), opened=opened, resolved=resolved))
    return rows


def chart_cached(*, today: date, days: int = CHART_DAYS) -> list[DayCount] | None:
    """The chart from the cache alone, or None when any day is missing."""
    bounds, found = _cached_days(today=today, days=days)
    if len(found) < len(bounds):
        return None
    return _day_counts(bounds, found)


def chart_get(*, actor: Any, today: date | None = None) -> list[DayCount]:
    """Issues opened and resolved per UTC day over the last CHART_DAYS days.

    For readers of every issue (Forbidden otherwise). Days not in the cache are
    counted side by side, two aggregation queries each: issues created that day,
    and moves into `resolved` recorded that day (from the history, because
    closing an issue clears its `resolvedAt`).
    """
    require(actor, Action.READ)  # without owner: 403 for own-issues-only roles
    day = today or datetime.now(UTC).date()
    bounds, found = _cached_days(today=day)
    missing = [bound for bound in bounds if _day_key(bound[0].date()) not in found]
    if missing:
        repo = get_dashboard_store()

        def count_day(start: datetime, end: datetime) -> tuple[int, int]:
            # Cached as soon as it is known: if the batch fails (a slow store), the
            # days already counted are not counted again on the next try.
            value = (
                repo.count_created_between(start=start, end=end),
                repo.count_resolved_between(start=start, end=end),
            )
            ttl = PAST_DAY_CACHE_SECONDS if start.date() < day else TODAY_CACHE_SECONDS
            cache.set(_day_key(start.date()), value, ttl)
            return value

        counted = run_side_by_side([partial(count_day, *bound) for bound in missing])
        for (start, _), value in zip(missing, counted, strict=True):
            found[_day_key(start.date())] = value
    return _day_counts(bounds, found)


def service_ids() -> list[str]:
    """The actor ids of every service (from the relational database)."""
    return sorted(
        user.actor_id for user in accounts_users.users_list(role=Role.SERVICE)
    )


def unpicked_calls(
    repo: DashboardStore, ids: Sequence[str], limit: int = LIST_SIZE
) -> list[Callable[[], list[Issue]]]:
    """One query per 30 services (Firestore's `in` limit)."""
    return [
        partial(repo.unassigned_open_by, reporter_ids=ids[n : n + IN_MAX], limit=limit)
        for n in range(0, len(ids), IN_MAX)
    ]


def _created_key(issue: Issue) -> datetime:
    return issue.created_at or datetime.min.replace(tzinfo=UTC)


def _updated_key(issue: Issue) -> datetime:
    return issue.updated_at or _created_key(issue)


def dashboard_get(*, actor: Any, today: date | None = None) -> Dashboard:
    """The dashboard of `actor`: counts, the 30-day chart and three short lists.

    All queries go out side by side in one batch. Readers of every issue get the
    counts from the maintained counters (one call, constant whatever the store
    holds), the chart and the unpicked service issues; a role that reads only its
    own issues gets counts (aggregation queries over its own) and lists of those.
    The chart comes only from the cache here (`chart` is None when it is not all
    there): the page then fetches it from `chart_get`, so 60 counts never hold up
    the rest.
    """
    require(actor, Action.READ, owner_id=getattr(actor, "actor_id", None))
    reads_all = user_can(actor, Action.READ)
    me = str(actor.actor_id)
    day = today or datetime.now(UTC).date()
    repo = get_dashboard_store()

    def count(filters: IssueFilters) -> Callable[[], int]:
        return partial(issue_count, actor=actor, filters=filters)

    def listing(filters: IssueFilters) -> Callable[[], list[Issue]]:
        return lambda: issue_list(actor=actor, filters=filters, limit=LIST_SIZE).items

    counting: list[Callable[[], Any]] = (
        [partial(issue_counts, actor=actor)]
        if reads_all
        else [
            *(count(IssueFilters(status=status)) for status in Status),
            *(count(IssueFilters(priority=priority)) for priority in Priority),
        ]
    )
    calls: list[Callable[[], Any]] = [
        *counting,
        listing(IssueFilters(assignee_id=me, status=Status.OPEN, sort=Sort.UPDATED)),
        listing(
            IssueFilters(assignee_id=me, status=Status.IN_PROGRESS, sort=Sort.UPDATED)
        ),
        listing(IssueFilters(sort=Sort.UPDATED)),
    ]
    fixed = len(calls)
    if reads_all:
        # Read on this thread: database connections belong to the request's thread.
        calls += unpicked_calls(repo, service_ids())
    results = run_side_by_side(calls)

    counted = results[: len(counting)]
    if reads_all:
        counts: IssueCounts = counted[0]
        by_status = [(status, counts.by_status[status]) for status in Status]
        by_priority = [
            (priority, counts.by_priority[priority]) for priority in Priority
        ]
    else:
        by_status = list(zip(Status, counted[: len(Status)], strict=True))
        by_priority = list(zip(Priority, counted[len(Status) :], strict=True))
    mine_open, mine_in_progress, recent = results[len(counting) : fixed]
    from_services = sorted(
        (issue for page in results[fixed:] for issue in page),
        key=_created_key,
        reverse=True,
    )
    mine = sorted([*mine_in_progress, *mine_open], key=_updated_key, reverse=True)
    return Dashboard(
        by_status=by_status,
        by_priority=by_priority,
        shows_chart=reads_all,
        chart=chart_cached(today=day) if reads_all else None,
        my_open=mine[:LIST_SIZE],
        recently_updated=recent,
        unpicked_from_services=from_services[:LIST_SIZE] if reads_all else None,
    )
