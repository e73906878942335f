"""The portal's selectors (issues/selectors/), the side-by-side runner and the
chart tag, on the emulator."""

import threading
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.core.cache import cache

from issues import services
from issues.domain import Activity, ActivityType, Comment, IssueChanges, Status
from issues.selectors import dashboard, issue_page
from issues.store.dashboard import FirestoreDashboardStore
from issues.templatetags.portal import opened_resolved_chart
from issuetracker.concurrency import run_side_by_side
from issuetracker.errors import Forbidden, NotFound, StoreUnavailable

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()


def at(minute: int) -> datetime:
    return datetime(2026, 1, 1, 12, minute, tzinfo=UTC)


def test_timeline_merges_in_time_order_and_drops_commented_entries():
    comments = [
        Comment(issue_id="i", author_id="a", content="one", created_at=at(2), id="c1"),
        Comment(issue_id="i", author_id="a", content="two", created_at=at(5), id="c2"),
    ]
    activities = [
        Activity(type=ActivityType.CREATED, user_id="a", created_at=at(1)),
        Activity(type=ActivityType.COMMENTED, user_id="a", created_at=at(2)),
        Activity(type=ActivityType.STATUS_CHANGED, user_id="b", created_at=at(3)),
        Activity(type=ActivityType.COMMENTED, user_id="a", created_at=at(5)),
    ]
    timeline = issue_page.merge_timeline(comments, activities)
    assert [(e.kind, e.at) for e in timeline] == [
        ("activity", at(1)),
        ("comment", at(2)),
        ("activity", at(3)),
        ("comment", at(5)),
    ]


def test_timeline_puts_history_first_at_equal_times_and_undated_first():
    comment = Comment(issue_id="i", author_id="a", content="x", created_at=at(1))
    change = Activity(type=ActivityType.UPDATED, user_id="a", created_at=at(1))
    old = Activity(type=ActivityType.CREATED, user_id="a", created_at=None)
    timeline = issue_page.merge_timeline([comment], [change, old])
    assert [e.activity or e.comment for e in timeline] == [old, change, comment]


def test_chart_days_are_utc_days_ending_today():
    days = dashboard.chart_days(today=date(2026, 3, 1), days=3)
    assert days[0] == (
        datetime(2026, 2, 27, tzinfo=UTC),
        datetime(2026, 2, 28, tzinfo=UTC),
    )
    assert days[-1][1] == datetime(2026, 3, 2, tzinfo=UTC)


def test_chart_counts_opened_and_resolutions_even_of_closed_issues(
    store, developer, make_issue
):
    closed = make_issue(developer)
    for status in ("in-progress", "resolved", "closed"):
        services.issue_update(
            actor=developer,
            issue_id=closed.id,
            changes=IssueChanges(status=Status(status)),
        )
    make_issue(developer)
    chart = dashboard.chart_get(actor=developer)
    assert len(chart) == dashboard.CHART_DAYS
    assert chart[-1].day == datetime.now(UTC).date()
    assert (chart[-1].opened, chart[-1].resolved) == (2, 1)
    assert sum(day.opened for day in chart[:-1]) == 0


def test_chart_counts_each_past_day_once(store, developer, monkeypatch):
    calls: list[str] = []
    real_created = FirestoreDashboardStore.count_created_between
    real_resolved = FirestoreDashboardStore.count_resolved_between

    def created(self: Any, **kwargs: Any) -> int:
        calls.append("created")
        return real_created(self, **kwargs)

    def resolved(self: Any, **kwargs: Any) -> int:
        calls.append("resolved")
        return real_resolved(self, **kwargs)

    monkeypatch.setattr(FirestoreDashboardStore, "count_created_between", created)
    monkeypatch.setattr(FirestoreDashboardStore, "count_resolved_between", resolved)
    today = datetime.now(UTC).date()
    dashboard.chart_get(actor=developer, today=today)
    assert len(calls) == 2 * dashboard.CHART_DAYS
    assert dashboard.chart_cached(today=today) is not None

    calls.clear()
    cache.delete(f"portal:chart:v1:{today.isoformat()}")  # today's minute is over
    dashboard.chart_get(actor=developer, today=today)
    assert calls == ["created", "resolved"]


def test_chart_keeps_the_days_counted_when_a_slow_store_fails_it(
    store, developer, monkeypatch
):
    today = datetime.now(UTC).date()
    real = FirestoreDashboardStore.count_resolved_between

    def flaky(self: Any, *, start: datetime, end: datetime) -> int:
        if start.date() == today:
            raise StoreUnavailable()
        return real(self, start=start, end=end)

    monkeypatch.setattr(FirestoreDashboardStore, "count_resolved_between", flaky)
    with pytest.raises(StoreUnavailable):
        dashboard.chart_get(actor=developer, today=today)
    kept = cache.get_many(
        [
            f"portal:chart:v1:{start.date().isoformat()}"
            for start, _ in dashboard.chart_days(today=today)
        ]
    )
    assert 0 < len(kept) < dashboard.CHART_DAYS

    monkeypatch.setattr(FirestoreDashboardStore, "count_resolved_between", real)
    assert len(dashboard.chart_get(actor=developer, today=today)) == 30


def test_chart_is_not_for_roles_reading_only_their_own(store, service):
    with pytest.raises(Forbidden):
        dashboard.chart_get(actor=service)


def test_unpicked_lists_open_unassigned_issues_of_services_only(
    store, developer, service, other_service, make_issue
):
    picked = make_issue(service, title="Picked")
    services.issue_update(
        actor=developer,
        issue_id=picked.id,
        changes=IssueChanges(assignee_id=developer.actor_id),
    )
    make_issue(developer, title="Staff reported")
    done = make_issue(other_service, title="In progress")
    services.issue_update(
        actor=developer,
        issue_id=done.id,
        changes=IssueChanges(status=Status.IN_PROGRESS),
    )
    make_issue(service, title="Nobody on it")
    make_issue(other_service, title="Nobody on it either")
    board = dashboard.dashboard_get(actor=developer)
    assert board.unpicked_from_services is not None
    assert [i.title for i in board.unpicked_from_services] == [
        "Nobody on it either",
        "Nobody on it",
    ]


def test_service_dashboard_counts_only_its_own_issues(
    store, developer, service, make_issue
):
    make_issue(developer)
    make_issue(service)
    board = dashboard.dashboard_get(actor=service)
    assert dict(board.by_status)[Status.OPEN] == 1
    assert board.shows_chart is False
    assert board.unpicked_from_services is None
    assert [i.reporter_id for i in board.recently_updated] == [service.actor_id]


def test_issue_page_is_404_for_another_service(
    store, service, other_service, make_issue
):
    issue = make_issue(other_service)
    with pytest.raises(NotFound):
        issue_page.issue_page_get(actor=service, issue_id=issue.id)


def test_side_by_side_keeps_order_and_raises_the_first_failure():
    assert run_side_by_side([lambda: 1, lambda: 2, lambda: 3]) == [1, 2, 3]

    def fails() -> int:
        raise NotFound("gone")

    with pytest.raises(NotFound):
        run_side_by_side([lambda: 1, fails])


def test_side_by_side_drops_queued_calls_after_a_failure():
    started: list[int] = []
    gate = threading.Event()

    def slow(n: int) -> int:
        started.append(n)
        gate.wait(0.2)
        return n

    def fails() -> int:
        raise StoreUnavailable()

    calls = [fails] + [lambda n=n: slow(n) for n in range(40)]
    with pytest.raises(StoreUnavailable):
        run_side_by_side(calls)
    gate.set()
    time.sleep(0.05)
    assert len(started) < 40


def test_side_by_side_gives_up_after_its_budget(settings):
    settings.FIRESTORE_TIMEOUT = 0.05
    release = threading.Event()
    try:
        with pytest.raises(StoreUnavailable):
            run_side_by_side([lambda: release.wait(5)])
    finally:
        release.set()


def test_chart_tag_draws_one_bar_pair_a_day_and_weekly_labels():
    days = [
        dashboard.DayCount(
            day=date(2026, 1, 1) + timedelta(days=n), opened=n, resolved=1
        )
        for n in range(30)
    ]
    context = opened_resolved_chart(days)
    assert len(context["bars"]) == 60
    assert context["top"] == 29
    tallest = max(context["bars"], key=lambda bar: bar["height"])
    assert tallest["label"] == "2026-01-30: 29 opened"
    assert [tick["text"] for tick in context["ticks"]][-1] == "Jan 30"
    assert len(context["ticks"]) == 5
    assert context["total_opened"] == sum(range(30))
