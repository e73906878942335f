"""End to end: the client against the real tracker (live server, Firestore emulator)."""

import json
import statistics
import time
import urllib.request
from typing import Any

import pytest
from issuetracker_client import IssueTrackerClient, exception_fingerprint

from accounts.services.api_keys import api_key_create

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def tracker_url(live_server, firestore_db, settings):
    """The live tracker with room for this module's few writes."""
    settings.API_WRITE_RATE = "1000/m"
    return live_server.url


def client_for(url: str, key: str | None, **options) -> IssueTrackerClient:
    options.setdefault("service_id", "order-router")
    return IssueTrackerClient(
        url, key, timeout=5.0, backoff=0.05, register_atexit=False, **options
    )


def issues_of(url: str, key: str, reporter: str) -> list[dict[str, Any]]:
    """The reporter's issues, oldest first, read through the REST API."""
    request = urllib.request.Request(  # noqa: S310 - the live server's URL
        f"{url}/api/v1/issues?reporter={reporter}&sort=oldest",
        headers={"Authorization": f"Bearer {key}"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
        issues: list[dict[str, Any]] = json.load(answer)["issues"]
    return issues


def route(order_id: str) -> None:
    raise LookupError(f"no venue for {order_id}")


def test_reports_reach_the_tracker_as_the_keys_service(tracker_url, make_user):
    service = make_user(role="service", username="order-router")
    key = api_key_create(owner=service, name="tests").key
    client = client_for(tracker_url, key, tags=["trading"])

    assert client.report_issue(
        "Stale quotes",
        "No tick for 30 s on ETH-USD",
        priority="critical",
        tags=["quotes"],
        fingerprint="stale-quotes",
    )
    try:
        route("ord-42")
    except LookupError as error:
        exc = error
    assert client.report_exception(exc, context="Routing ord-42")
    fingerprint = exception_fingerprint(exc)

    assert client.close(timeout=20.0)
    assert client.stats.sent == 2
    stale, lookup = issues_of(tracker_url, key, "order-router")
    assert stale["title"] == "Stale quotes"
    assert stale["description"] == "No tick for 30 s on ETH-USD"
    assert (stale["type"], stale["priority"], stale["status"]) == (
        "bug",
        "critical",
        "open",
    )
    assert stale["tags"] == ["trading", "quotes"]
    assert stale["fingerprint"] == "stale-quotes"
    assert stale["reporterId"] == "order-router"
    assert lookup["title"] == "LookupError in route: no venue for ord-42"
    assert (lookup["type"], lookup["priority"]) == ("bug", "high")
    assert lookup["tags"] == ["trading"]
    assert lookup["fingerprint"] == fingerprint
    assert lookup["reporterId"] == "order-router"
    assert "Routing ord-42" in lookup["description"]
    assert "in route\n" in lookup["description"]


def test_compatibility_mode_reports_as_the_named_service(
    tracker_url, make_user, settings
):
    settings.ALLOW_ANONYMOUS_SERVICES = True
    reader = api_key_create(owner=make_user(role="developer"), name="reader").key
    client = client_for(tracker_url, None, service_id="risk-monitor")

    assert client.report_issue("Exposure over limit", "Account 12", type="task")

    assert client.close(timeout=20.0)
    [issue] = issues_of(tracker_url, reader, "risk-monitor")
    assert issue["reporterId"] == "risk-monitor"
    assert issue["type"] == "task"
    assert issue["priority"] == "medium"


def test_a_wrong_key_is_refused_once_and_not_logged(tracker_url, make_user, caplog):
    wrong = "itk_nosuchkey_0123456789abcdef"
    client = client_for(tracker_url, wrong)

    assert client.report_issue("Never stored", "x")

    assert client.close(timeout=20.0)
    stats = client.stats
    assert (stats.rejected, stats.retried, stats.sent) == (1, 0, 0)
    assert "refused a report with 401" in caplog.text
    assert wrong not in caplog.text
    assert "0123456789abcdef" not in caplog.text


def read(url: str, path: str) -> Any:
    """An anonymous GET of the live tracker (compatibility mode), as JSON."""
    with urllib.request.urlopen(f"{url}{path}", timeout=10) as answer:  # noqa: S310
        return json.load(answer)


def test_the_old_clients_three_calls_with_only_the_import_changed(
    tracker_url, settings, monkeypatch
):
    settings.ALLOW_ANONYMOUS_SERVICES = True
    monkeypatch.setenv("ISSUETRACKER_URL", tracker_url)
    # The old README's service integration, verbatim but for the import.
    client = IssueTrackerClient()

    issue_id = client.log_issue(
        title="Error in workflow",
        description="Workflow failed at step X",
        type="bug",
        priority="high",
        reporter_id="workflow-consumer",  # Auto-created as service user if needed
    )
    client.add_comment(
        issue_id=issue_id,
        content="Fixed in commit abc123",
        author_id="workflow-consumer",  # Auto-created as service user if needed
    )
    client.update_issue_status(issue_id=issue_id, status="resolved")

    assert client.close(timeout=20.0)
    assert client.stats.sent == 3
    issue = read(tracker_url, f"/api/v1/issues/{issue_id}")
    assert (issue["title"], issue["reporterId"]) == (
        "Error in workflow",
        "workflow-consumer",
    )
    assert (issue["status"], issue["resolution"]) == ("resolved", "fixed")
    comments = read(tracker_url, f"/api/v1/issues/{issue_id}/comments")["comments"]
    assert [(c["authorId"], c["content"]) for c in comments] == [
        ("workflow-consumer", "Fixed in commit abc123")
    ]
    history = read(tracker_url, f"/api/v1/issues/{issue_id}/activities")
    assert [a["type"] for a in history["activities"]] == [
        "created",
        "commented",
        "status-changed",
    ]


def test_a_report_folded_into_an_issue_takes_its_follow_ups_there(
    tracker_url, settings
):
    settings.ALLOW_ANONYMOUS_SERVICES = True
    client = client_for(tracker_url, None, service_id="workflow-consumer")

    first = client.log_issue("Broker timeout", "Step X", fingerprint="broker-timeout")
    assert client.flush(10.0)
    again = client.log_issue("Broker timeout", "Step X", fingerprint="broker-timeout")
    client.add_comment(again, "Seen again at 12:00")

    assert client.close(timeout=20.0)
    assert again != first
    comments = read(tracker_url, f"/api/v1/issues/{first}/comments")["comments"]
    assert [c["content"] for c in comments] == ["Seen again at 12:00"]
    assert read(tracker_url, f"/api/v1/issues/{first}")["occurrenceCount"] == 2


def test_log_issue_against_a_dead_port_returns_an_id_at_once(closed_port_url):
    client = IssueTrackerClient(
        closed_port_url, None, service_id="workflow-consumer", register_atexit=False
    )
    times, ids = [], set()
    for n in range(200):
        started = time.perf_counter()
        ids.add(client.log_issue(f"Error {n}", "Workflow failed at step X"))
        times.append(time.perf_counter() - started)
    client.close(timeout=0.5)
    assert len(ids) == 200
    # Never waits for the network: not even the first call (which starts the
    # sender thread) comes near a connection attempt's time.
    assert statistics.median(times) < 0.001
    assert max(times) < 0.1
