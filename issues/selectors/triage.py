"""The triage queue and the similar-issue look-up: one selector call per page.

The queue is the open issues reported by services that nobody is assigned to,
grouped by service and component, each with its occurrences of the last 24
hours read from the issue document itself (`hourlyOccurrences`): no read per
row. It pages with a cursor in the URL: services in name order, then each
service's components (none first), newest first within a component. A report
keeps its place in that order while it waits (unless its component is edited),
so a page boundary does not move and a group cut by one continues at the top
of the next page.
"""

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

from accounts.policy import Actor, require
from accounts.roles import Action
from issues.domain import ACTIVE_STATUSES, Issue
from issues.hourly import last_hours
from issues.search import search_words
from issues.selectors.dashboard import service_ids
from issues.store.dashboard import DashboardStore, Positioned, get_dashboard_store
from issues.store.queries import decode_cursor, encode_cursor, invalid_cursor
from issues.store.similar import get_similar_store
from issuetracker.concurrency import run_side_by_side

PAGE_SIZE = 50
# Once the page's first service runs out, the next services are asked this
# many at a time, side by side: a page reads at most PAGE_SIZE + 1 issues from
# the service it starts in, and SERVICE_WAVE * (PAGE_SIZE + 1) after it.
SERVICE_WAVE = 4
CURSOR_KEY = "triage-v1"
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
    """The page's issues of one service and component; `continued` when the
    group began on an earlier page."""

    service: str
    component: str | None
    rows: list[TriageRow]
    continued: bool = False


@dataclass(frozen=True)
class TriageQueue:
    """One page of the queue: its groups, and the cursor of the next page."""

    groups: list[TriageGroup]
    next_cursor: str | None = None

    @property
    def shown(self) -> int:
        """Issues on this page."""
        return sum(len(group.rows) for group in self.groups)


@dataclass(frozen=True)
class _After:
    """Where the previous page ended: a service and a position in its order."""

    service: str
    position: list[Any]

    @property
    def group(self) -> tuple[str, str | None]:
        return self.service, self.position[0] or None


def _decode(cursor: str | None) -> _After | None:
    if not cursor:
        return None
    service, *position = decode_cursor(cursor, CURSOR_KEY, 4)
    if not isinstance(service, str):
        raise invalid_cursor()
    return _After(service, position)


def _read(
    store: DashboardStore, services: Sequence[str], after: _After | None, want: int
) -> list[tuple[str, Positioned]]:
    """At least `want` rows of the queue after `after` when it has them, in
    queue order: the first service alone, then SERVICE_WAVE at a time."""
    start = bisect_left(services, after.service) if after else 0
    found: list[tuple[str, Positioned]] = []
    width = 1
    while start < len(services) and len(found) < want:
        wave = services[start : start + width]
        calls = [
            partial(
                store.unassigned_open_of,
                reporter_id=service,
                limit=want - len(found),
                after=after.position if after and after.service == service else None,
            )
            for service in wave
        ]
        for service, rows in zip(wave, run_side_by_side(calls), strict=True):
            found.extend((service, row) for row in rows)
        start += width
        width = SERVICE_WAVE
    return found


def triage_queue(
    *,
    actor: Actor,
    cursor: str | None = None,
    now: datetime | None = None,
    limit: int = PAGE_SIZE,
) -> TriageQueue:
    """A page of open, unassigned issues reported by services, grouped by
    service and component; `cursor` is the previous page's `next_cursor`.

    For roles that read every issue (Forbidden otherwise).
    """
    require(actor, Action.READ)
    after = _decode(cursor)
    moment = now or datetime.now(UTC)
    found = _read(get_dashboard_store(), service_ids(), after, limit + 1)
    shown = found[:limit]
    groups: list[TriageGroup] = []
    for service, (issue, _) in shown:
        row = TriageRow(
            issue=issue, hours=last_hours(issue.hourly_occurrences, now=moment)
        )
        key = (service, issue.component)
        if not groups or (groups[-1].service, groups[-1].component) != key:
            continued = not groups and after is not None and after.group == key
            groups.append(TriageGroup(*key, rows=[], continued=continued))
        groups[-1].rows.append(row)
    next_cursor = None
    if len(found) > limit:
        service, (_, position) = shown[-1]
        next_cursor = encode_cursor(CURSOR_KEY, [service, *position])
    return TriageQueue(groups=groups, next_cursor=next_cursor)


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
