"""The triage queue and the similar-issue look-up: one selector call per page.

The queue is the open issues reported by services that nobody is assigned to,
grouped by service and component, each with its occurrences of the last 24
hours read from the issue document itself (`hourlyOccurrences`): one query per
30 services (Firestore's `in` limit), run side by side; no read per row.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from accounts.policy import Actor, require
from accounts.roles import Action
from issues.domain import ACTIVE_STATUSES, Issue
from issues.hourly import last_hours
from issues.search import search_words
from issues.selectors.dashboard import service_ids, unpicked_calls
from issues.store.dashboard import get_dashboard_store
from issues.store.similar import get_similar_store
from issuetracker.concurrency import run_side_by_side

# Issues one service group of 30 brings at most; the page shows QUEUE_MAX.
QUEUE_MAX = 200
SIMILAR_MAX = 5
# Words of a title the similar-issue query looks for (array-contains-any: 30).
SIMILAR_WORDS_MAX = 10


@dataclass(frozen=True)
class TriageRow:
    """An issue of the queue and its occurrences per hour, last 24, oldest first."""

    issue: Issue
    hours: list[int]

    @property
    def last_day(self) -> int:
        """Occurrences in the last 24 hours."""
        return sum(self.hours)


@dataclass(frozen=True)
class TriageGroup:
    """The queue's issues of one service and component."""

    service: str
    component: str | None
    rows: list[TriageRow]


@dataclass(frozen=True)
class TriageQueue:
    """The whole queue: its groups, how many issues, and whether it was cut."""

    groups: list[TriageGroup]
    total: int
    truncated: bool


def _seen(issue: Issue) -> datetime:
    return issue.last_seen_at or issue.created_at or datetime.min.replace(tzinfo=UTC)


def triage_queue(*, actor: Actor, now: datetime | None = None) -> TriageQueue:
    """Open, unassigned issues reported by services, grouped by service and
    component (busiest service first, its components together, busiest first),
    latest seen first within a group.

    For roles that read every issue (Forbidden otherwise).
    """
    require(actor, Action.READ)
    moment = now or datetime.now(UTC)
    calls = unpicked_calls(get_dashboard_store(), service_ids(), limit=QUEUE_MAX)
    issues = [issue for page in run_side_by_side(calls) for issue in page]
    issues.sort(key=_seen, reverse=True)
    truncated = len(issues) > QUEUE_MAX
    issues = issues[:QUEUE_MAX]
    grouped: dict[tuple[str, str | None], list[TriageRow]] = {}
    for issue in issues:
        row = TriageRow(
            issue=issue, hours=last_hours(issue.hourly_occurrences, now=moment)
        )
        grouped.setdefault((issue.reporter_id, issue.component), []).append(row)
    groups = [
        TriageGroup(service=service, component=component, rows=rows)
        for (service, component), rows in grouped.items()
    ]
    _sort_groups(groups)
    return TriageQueue(groups=groups, total=len(issues), truncated=truncated)


def _day_total(group: TriageGroup) -> int:
    return sum(row.last_day for row in group.rows)


def _sort_groups(groups: list[TriageGroup]) -> None:
    """A service's groups stay together: busiest service first, then its
    busiest component (each total summed once, not per comparison)."""
    group_totals = {id(group): _day_total(group) for group in groups}
    service_totals: dict[str, int] = {}
    for group in groups:
        service_totals[group.service] = (
            service_totals.get(group.service, 0) + group_totals[id(group)]
        )
    groups.sort(
        key=lambda group: (
            -service_totals[group.service],
            group.service,
            -group_totals[id(group)],
            group.component or "",
        )
    )


def issue_similar(
    *, actor: Actor, title: str, exclude: str | None = None
) -> list[Issue]:
    """Issues sharing words with `title`: most shared words first, open or in
    progress before resolved or closed; one query (`searchWords`
    array-contains-any). For roles that read every issue."""
    require(actor, Action.READ)
    words = [w for w in search_words(title, "") if len(w) > 2][:SIMILAR_WORDS_MAX]
    if not words:
        return []
    found = get_similar_store().sharing_words(words=words, limit=50)
    wanted = set(words)

    def rank(issue: Issue) -> tuple[bool, int]:
        shared = len(wanted & set(issue.search_words))
        return (issue.status not in ACTIVE_STATUSES, -shared)

    return sorted((i for i in found if i.id != exclude), key=rank)[:SIMILAR_MAX]
