"""The triage queue and its one-click actions, for each role, with each refusal
(Django test client, Firestore emulator); bulk actions, saved views, similar
issues and export are in test_portal_bulk.py."""

from datetime import UTC, datetime, timedelta

import pytest

from issues import services
from issues.bulk import BulkAction, BulkChange, changes_for
from issues.domain import Issue, IssueChanges, NewIssue, Priority, Resolution, Status
from issues.hourly import as_hours, hour_key, last_hours, merged
from issues.selectors import issues as selectors
from issues.selectors import triage as triage_selectors
from issues.store.buffers import write_buffer
from issues.tests.portal import HX, current, signed_in

pytestmark = pytest.mark.django_db


# --- hourly occurrences (pure) ------------------------------------------------------


def test_hours_merge_prune_and_read_back():
    now = datetime(2026, 12, 1, 13, 30, tzinfo=UTC)
    old = hour_key(now - timedelta(hours=60))
    hours = merged({old: 5, "2026-12-01T12": 2}, {"2026-12-01T12": 1}, now=now)
    assert hours == {"2026-12-01T12": 3}
    assert as_hours({"2026-12-01T12": 3, "junk": "x"}) == (("2026-12-01T12", 3),)
    spark = last_hours((("2026-12-01T12", 3), ("2026-12-01T13", 1)), now=now)
    assert len(spark) == 24
    assert spark[-2:] == [3, 1]
    assert sum(spark) == 4


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        (BulkAction.TAKE, IssueChanges(assignee_id="me", status=Status.IN_PROGRESS)),
        (
            BulkAction.WONT_FIX,
            IssueChanges(status=Status.CLOSED, resolution=Resolution.WONT_FIX),
        ),
        (BulkAction.RAISE, IssueChanges(priority=Priority.CRITICAL)),
        (BulkAction.LOWER, IssueChanges(priority=Priority.MEDIUM)),
        (BulkAction.TAG_ADD, IssueChanges(tags=("a", "t"))),
        (BulkAction.TAG_REMOVE, IssueChanges(tags=())),
    ],
)
def test_actions_become_the_changes_of_one_issue(action, expected):
    issue = Issue(
        id="x" * 20, title="t", description="d", priority=Priority.HIGH, tags=("a",)
    )
    change = BulkChange(action=action, tag="t" if action is BulkAction.TAG_ADD else "a")
    assert changes_for(change, me="me", issue=issue) == expected


# --- hourly occurrences (store) ----------------------------------------------------


def test_reports_fill_the_hourly_map_through_the_buffer(
    service, make_issue, settings, store
):
    settings.INGEST_BUFFER_SECONDS = 1
    first = make_issue(service, title="Flaky", fingerprint="fp-1")
    for _ in range(4):
        make_issue(service, title="Flaky", fingerprint="fp-1")
    write_buffer().flush()
    stored = selectors.issue_get(actor=service, issue_id=first.id)
    assert stored.occurrence_count == 5
    assert sum(count for _, count in stored.hourly_occurrences) == 5


def test_unbuffered_folds_count_by_hour(
    service, make_issue, settings, store, monkeypatch
):
    settings.INGEST_BUFFER_SECONDS = 0
    # A fixed clock, so no report lands in the next hour by chance.
    this_hour = datetime.now(UTC).replace(minute=10, second=0, microsecond=0)
    next_hour = this_hour + timedelta(hours=1)
    clock = iter([this_hour, this_hour + timedelta(minutes=40), next_hour])
    monkeypatch.setattr(services, "_now", lambda: next(clock))
    first = make_issue(service, title="Flaky", fingerprint="fp-2")
    make_issue(service, title="Flaky", fingerprint="fp-2")
    stored = selectors.issue_get(actor=service, issue_id=first.id)
    assert dict(stored.hourly_occurrences) == {hour_key(this_hour): 2}
    make_issue(service, title="Flaky", fingerprint="fp-2")
    stored = selectors.issue_get(actor=service, issue_id=first.id)
    assert dict(stored.hourly_occurrences) == {
        hour_key(this_hour): 2,
        hour_key(next_hour): 1,
    }
    assert stored.occurrence_count == 3


# --- the queue ------------------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "developer", "tester", "viewer"])
def test_every_staff_role_sees_the_queue(client, make_user, reports, role):
    signed_in(client, make_user, role)
    page = client.get("/triage/").content.decode()
    assert all(issue.title in page for issue in reports)
    assert "workflow-consumer" in page
    assert '<svg class="sparkline"' in page
    offers_actions = 'value="take"' in page
    assert offers_actions is (role in ("admin", "developer"))


def test_groups_come_by_service_then_component_each_together(
    make_user, developer, store
):
    feed = make_user(role="service", username="market-data-feed")
    router = make_user(role="service", username="order-router")
    for component, count, reporter in [
        ("snapshots", 3, feed),
        ("quotes", 2, router),
        ("ws", 1, feed),
    ]:
        for n in range(count):
            services.issue_create(
                actor=reporter,
                data=NewIssue(
                    title=f"{component} {n}", description="x", component=component
                ),
            )

    queue = triage_selectors.triage_queue(actor=developer)

    assert [(g.service, g.component) for g in queue.groups] == [
        ("market-data-feed", "snapshots"),
        ("market-data-feed", "ws"),
        ("order-router", "quotes"),
    ]


def test_the_queue_leaves_out_assigned_staff_and_closed_issues(
    client, make_user, developer, service, make_issue, reports
):
    make_issue(developer, title="Staff report")
    taken = make_issue(service, title="Already taken")
    services.issue_update(
        actor=developer,
        issue_id=taken.id,
        changes=IssueChanges(assignee_id=developer.actor_id),
    )
    signed_in(client, make_user, "developer")
    page = client.get("/triage/").content.decode()
    assert "Staff report" not in page
    assert "Already taken" not in page


def test_a_service_has_no_portal(client, service, reports):
    client.force_login(service)
    assert client.get("/triage/").status_code == 403


# --- one-click actions -----------------------------------------------------------


def test_take_assigns_to_me_in_progress_and_answers_htmx_with_the_row(
    client, make_user, reports
):
    me = signed_in(client, make_user, "developer")
    issue = reports[0]
    response = client.post(
        f"/triage/{issue.id}/", {"action": "take", "version": issue.version}, **HX
    )
    assert response.status_code == 200
    assert f'id="issue-row-{issue.id}"' in response.content.decode()
    stored = current(me, issue)
    assert stored.assignee_id == me.actor_id
    assert stored.status is Status.IN_PROGRESS
    history = selectors.activity_list(actor=me, issue_id=issue.id).items
    assert len(history) == 2  # created, then this one change


def test_plain_posts_redirect_back_to_the_queue(client, make_user, reports):
    me = signed_in(client, make_user, "admin")
    issue = reports[1]
    response = client.post(f"/triage/{issue.id}/", {"action": "wont-fix"})
    assert response.status_code == 302
    assert response["Location"] == "/triage/"
    stored = current(me, issue)
    assert stored.status is Status.CLOSED
    assert stored.resolution is Resolution.WONT_FIX


def test_close_as_duplicate_raise_and_assign(client, make_user, reports):
    me = signed_in(client, make_user, "developer")
    make_user(role="developer", username="ann@quantory.app")
    one, two, three = reports
    client.post(f"/triage/{one.id}/", {"action": "duplicate", "duplicate_of": two.id})
    client.post(f"/triage/{two.id}/", {"action": "raise"})
    client.post(
        f"/triage/{three.id}/", {"action": "assign", "assignee": "ann@quantory.app"}
    )
    assert current(me, one).duplicate_of == two.id
    assert current(me, two).priority is Priority.CRITICAL
    assert current(me, three).assignee_id == "ann@quantory.app"


def test_assigning_someone_who_is_not_staff_is_refused(client, make_user, reports):
    me = signed_in(client, make_user, "developer")
    issue = reports[0]
    response = client.post(
        f"/triage/{issue.id}/",
        {"action": "assign", "assignee": "nobody@quantory.app"},
        **HX,
    )
    assert "row-error" in response.content.decode()
    assert current(me, issue).assignee_id is None


@pytest.mark.parametrize("role", ["tester", "viewer"])
def test_roles_that_may_not_edit_are_refused(client, make_user, reports, role):
    me = signed_in(client, make_user, role)
    issue = reports[0]
    assert client.post(f"/triage/{issue.id}/", {"action": "take"}).status_code == 403
    response = client.post(f"/triage/{issue.id}/", {"action": "take"}, **HX)
    assert response.status_code == 200
    assert "row-error" in response.content.decode()
    assert current(me, issue).assignee_id is None


def test_a_stale_version_is_refused(client, make_user, developer, reports):
    signed_in(client, make_user, "developer")
    issue = reports[0]
    services.issue_update(
        actor=developer, issue_id=issue.id, changes=IssueChanges(priority=Priority.LOW)
    )
    response = client.post(
        f"/triage/{issue.id}/", {"action": "take", "version": issue.version}, **HX
    )
    assert "row-error" in response.content.decode()
    assert current(developer, issue).assignee_id is None


# --- "Assign to me" on the issue page (key `a`) ------------------------------------


@pytest.mark.parametrize(
    ("role", "shown"),
    [("admin", True), ("developer", True), ("tester", False), ("viewer", False)],
)
def test_the_issue_page_offers_assign_to_me_to_roles_that_assign(
    client, make_user, reports, role, shown
):
    signed_in(client, make_user, role)
    page = client.get(f"/issues/{reports[0].id}/").content.decode()
    assert ("data-assign-me" in page) is shown


def test_assign_to_me_from_the_issue_page(client, make_user, reports):
    me = signed_in(client, make_user, "developer")
    issue = reports[0]
    page = client.get(f"/issues/{issue.id}/").content.decode()
    assert f'action="/triage/{issue.id}/"' in page
    response = client.post(
        f"/triage/{issue.id}/",
        {
            "action": "assign",
            "assignee": me.actor_id,
            "version": issue.version,
            "next": f"/issues/{issue.id}/",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == f"/issues/{issue.id}/"
    stored = current(me, issue)
    assert stored.assignee_id == me.actor_id
    assert stored.status is Status.OPEN  # assigned only; "take" also starts it
    # Once it is mine, the page no longer offers it.
    assert "data-assign-me" not in client.get(f"/issues/{issue.id}/").content.decode()
