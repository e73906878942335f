"""The issue counters (by status, by priority, in all) against the real emulator:
every write keeps them equal to aggregation counts, failed writes leave them be,
the dashboard reads them, and `backfill_issues` rebuilds them."""

from io import StringIO
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.management import call_command
from google.cloud.firestore_v1.aggregation import AggregationQuery

from issues import services
from issues.domain import IssueChanges, IssueCounts, IssueFilters, Priority, Status
from issues.selectors import dashboard
from issues.selectors import issues as selectors
from issues.store.counters import COUNTER_SHARDS
from issues.store.documents import MalformedDocument
from issues.store.firestore import FirestoreIssueRepository
from issuetracker.errors import (
    Conflict,
    Forbidden,
    NotAuthenticated,
    PreconditionFailed,
)
from issuetracker.testing import run_at_once

pytestmark = pytest.mark.django_db

SHARDS = "stats/issueCounts/shards"


def aggregated() -> IssueCounts:
    """The counts as aggregation queries over the issues give them."""
    repo = FirestoreIssueRepository()
    return IssueCounts(
        total=repo.count(filters=IssueFilters()),
        by_status={s: repo.count(filters=IssueFilters(status=s)) for s in Status},
        by_priority={p: repo.count(filters=IssueFilters(priority=p)) for p in Priority},
    )


def counters() -> IssueCounts:
    return FirestoreIssueRepository().counts()


def shard_documents(store: Any) -> dict[str, dict[str, Any]]:
    return {row.id: row.to_dict() for row in store.collection(SHARDS).stream()}


def test_counters_follow_creates_moves_priority_changes_and_deletes(
    store, admin, developer, service, make_issue
):
    def update(issue_id: str, **changes: Any) -> None:
        services.issue_update(
            actor=developer, issue_id=issue_id, changes=IssueChanges(**changes)
        )

    low = make_issue(developer, priority="low")
    high = make_issue(service, priority="high")
    critical = make_issue(developer, priority="critical")
    medium = make_issue(developer, priority="medium")
    assert counters() == aggregated()
    assert counters().total == 4
    assert counters().by_priority[Priority.LOW] == 1

    # A burst of creates at once: each increments a shard picked at random.
    burst = [
        lambda p=p: make_issue(service, priority=p)
        for p in ("low", "high", "high", "critical", "medium", "low")
    ]
    assert run_at_once(*burst)[1] == []
    assert counters() == aggregated()

    update(low.id, status=Status.IN_PROGRESS)
    update(low.id, status=Status.RESOLVED)
    update(low.id, status=Status.CLOSED)
    update(low.id, status=Status.OPEN)  # reopen
    update(high.id, status=Status.IN_PROGRESS)
    update(high.id, status=Status.RESOLVED)
    update(high.id, status=Status.OPEN)  # reopen a resolved issue
    update(critical.id, priority=Priority.LOW, title="Not that urgent")
    update(medium.id, title="Only the title moves")
    update(medium.id, status=Status.IN_PROGRESS, priority=Priority.HIGH)
    assert counters() == aggregated()
    assert counters().by_status[Status.CLOSED] == 0

    # Two PATCHes of one issue at once: different fields both land; the same move
    # made twice lands once (the second run sees it done and writes nothing).
    _, errors = run_at_once(
        lambda: update(critical.id, status=Status.IN_PROGRESS),
        lambda: update(critical.id, priority=Priority.CRITICAL),
    )
    assert errors == []
    _, errors = run_at_once(
        lambda: update(high.id, status=Status.IN_PROGRESS),
        lambda: update(high.id, status=Status.IN_PROGRESS),
    )
    assert errors == []
    stored = selectors.issue_get(actor=developer, issue_id=critical.id)
    assert (stored.status, stored.priority) == (Status.IN_PROGRESS, Priority.CRITICAL)
    assert counters() == aggregated()

    services.issue_delete(actor=admin, issue_id=medium.id)
    services.issue_delete(actor=admin, issue_id=low.id)
    final = counters()
    assert final == aggregated()
    assert final.total == 8
    assert final.by_status == {
        Status.OPEN: 6,
        Status.IN_PROGRESS: 2,
        Status.RESOLVED: 0,
        Status.CLOSED: 0,
    }
    # Only shards of the layout exist, and more than one took the writes.
    shards = shard_documents(store)
    assert set(shards) <= {str(n) for n in range(COUNTER_SHARDS)}
    assert len(shards) > 1
    assert sum(data.get("total", 0) for data in shards.values()) == 8
    assert (
        sum(d.get("byStatus", {}).get("in-progress", 0) for d in shards.values()) == 2
    )


def test_failed_updates_and_refusals_change_no_counter(
    store, api, developer, tester, service, other_service, make_issue
):
    issue = make_issue(developer, priority="high")
    theirs = make_issue(other_service, priority="low")
    done = make_issue(developer, priority="low")
    services.issue_update(
        actor=developer, issue_id=done.id, changes=IssueChanges(status=Status.CLOSED)
    )
    before = shard_documents(store)

    with pytest.raises(PreconditionFailed):
        services.issue_update(
            actor=developer,
            issue_id=issue.id,
            changes=IssueChanges(status=Status.IN_PROGRESS, priority=Priority.LOW),
            expected_version=0,
        )
    url = f"/api/v1/issues/{issue.id}"
    stale = api.as_user(developer).patch(
        url, {"status": "in-progress"}, HTTP_IF_MATCH='"7"'
    )
    assert stale.status_code == 412
    with pytest.raises(Conflict):  # closed only reopens
        services.issue_update(
            actor=developer,
            issue_id=done.id,
            changes=IssueChanges(status=Status.RESOLVED, priority=Priority.HIGH),
        )
    done_url = f"/api/v1/issues/{done.id}"
    assert api.patch(done_url, {"status": "in-progress"}).status_code == 409
    missing_link = {"status": "resolved", "resolution": "duplicate"}
    assert api.patch(url, missing_link).status_code == 400
    with pytest.raises(Forbidden):  # testers only close or reopen resolved issues
        services.issue_update(
            actor=tester,
            issue_id=issue.id,
            changes=IssueChanges(status=Status.IN_PROGRESS),
        )
    with pytest.raises(Forbidden):
        services.issue_delete(actor=developer, issue_id=issue.id)
    refused = api.as_user(service).patch(
        f"/api/v1/issues/{theirs.id}", {"priority": "critical"}
    )
    assert refused.status_code == 404  # another service's issue: not its to see
    services.issue_update(  # changes nothing: no write at all
        actor=developer, issue_id=issue.id, changes=IssueChanges(status=Status.OPEN)
    )

    assert shard_documents(store) == before
    assert counters() == aggregated()


def test_developer_dashboard_reads_the_counters_not_aggregations(
    store, developer, make_issue, monkeypatch
):
    make_issue(developer, priority="high")
    # Counters set apart from the issues show that the dashboard reads them.
    for n in range(COUNTER_SHARDS):
        store.document(f"{SHARDS}/{n}").set(
            {
                "total": 10,
                "byStatus": {"open": 3, "in-progress": 4, "resolved": 2, "closed": 1},
                "byPriority": {"low": 1, "medium": 2, "high": 3, "critical": 4},
            }
        )
    aggregations: list[Any] = []
    real_get = AggregationQuery.get

    def metered(self: Any, *args: Any, **kwargs: Any) -> Any:
        aggregations.append(self)
        return real_get(self, *args, **kwargs)

    monkeypatch.setattr(AggregationQuery, "get", metered)
    board = dashboard.dashboard_get(actor=developer)
    assert aggregations == []
    assert board.by_status == [
        (Status.OPEN, 30),
        (Status.IN_PROGRESS, 40),
        (Status.RESOLVED, 20),
        (Status.CLOSED, 10),
    ]
    assert dict(board.by_priority)[Priority.CRITICAL] == 40


def test_service_dashboard_counts_its_own_issues_with_aggregations(
    store, developer, service, make_issue
):
    make_issue(developer, priority="high")
    make_issue(developer, priority="high")
    make_issue(service, priority="low")
    store.document(f"{SHARDS}/0").set({"total": 99, "byStatus": {"open": 99}})
    board = dashboard.dashboard_get(actor=service)
    assert dict(board.by_status) == {
        Status.OPEN: 1,
        Status.IN_PROGRESS: 0,
        Status.RESOLVED: 0,
        Status.CLOSED: 0,
    }
    assert dict(board.by_priority)[Priority.LOW] == 1
    assert dict(board.by_priority)[Priority.HIGH] == 0


def test_issue_counts_is_for_readers_of_every_issue(
    store, viewer, service, make_issue, developer
):
    make_issue(developer, priority="critical")
    counts = selectors.issue_counts(actor=viewer)
    assert counts.total == 1
    assert counts.by_priority[Priority.CRITICAL] == 1
    assert counts.by_status[Status.OPEN] == 1
    with pytest.raises(Forbidden):
        selectors.issue_counts(actor=service)
    with pytest.raises(NotAuthenticated):
        selectors.issue_counts(actor=AnonymousUser())


def test_unreadable_counters_are_reported_not_guessed(store, viewer):
    store.document(f"{SHARDS}/3").set({"total": "many"})
    with pytest.raises(MalformedDocument, match="backfill_issues --counters-only"):
        selectors.issue_counts(actor=viewer)


def run(*args: str) -> str:
    out = StringIO()
    call_command("backfill_issues", *args, stdout=out)
    return out.getvalue()


def test_rebuild_counts_documents_written_without_counters(
    store, admin, developer, make_issue
):
    issues = store.collection("issues")
    # As the Flask app wrote them: no counters moved.
    issues.document("old-1").set(
        {"title": "A", "description": "a", "status": "open", "priority": "high"}
    )
    issues.document("old-2").set(
        {"title": "B", "description": "b", "status": "closed", "priority": "low"}
    )
    issues.document("old-3").set({"title": "C", "description": "no status"})
    make_issue(developer, priority="critical")
    # Spread over several shards, as writes leave them.
    store.document(f"{SHARDS}/7").set({"total": 5, "byStatus": {"resolved": 5}})
    assert counters() != aggregated()

    output = run()
    assert output.startswith("Scanned 4 issues")
    assert "Counters rebuilt: 4 issues; by status: open 2, in-progress 0" in output
    assert counters() == aggregated()
    shards = shard_documents(store)
    assert shards["0"]["total"] == 4
    assert shards["0"]["byPriority"] == {
        "low": 1,
        "medium": 0,
        "high": 1,
        "critical": 1,
    }
    zeroed = {"total": 0, "byStatus": dict.fromkeys(map(str, Status), 0)}
    assert {k: v for k, v in shards["7"].items() if k != "byPriority"} == zeroed
    assert set(shards) == {str(n) for n in range(COUNTER_SHARDS)}

    # The counters keep up from there, documents without a status included.
    services.issue_delete(actor=admin, issue_id="old-3")
    services.issue_update(
        actor=developer,
        issue_id="old-1",
        changes=IssueChanges(status=Status.IN_PROGRESS),
    )
    assert counters() == aggregated()

    # An edit in the console, then only the counters are rebuilt.
    issues.document("old-2").update({"status": "open"})
    assert counters() != aggregated()
    output = run("--counters-only")
    assert not output.startswith("Scanned")
    assert counters() == aggregated()
