"""The old client's interface (log_issue, add_comment, update_issue_status) against
the fake tracker: ids made by the client, call order, replays, folded reports."""

import logging
import re
import statistics
import time

import pytest
from issuetracker_client import IssueTrackerClient

from .conftest import API_KEY, Reply

CLIENT_ID = re.compile(r"[A-Za-z0-9_-]{20,40}")


def warnings_of(caplog) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "issuetracker_client" and record.levelno == logging.WARNING
    ]


def calls(tracker, count: int) -> list[tuple[str, str]]:
    return [(seen.method, seen.path) for seen in tracker.wait_for(count)]


# Construction from the environment


def test_no_arguments_read_the_environment(tracker, monkeypatch):
    monkeypatch.setenv("ISSUETRACKER_URL", tracker.url)
    monkeypatch.setenv("ISSUETRACKER_API_KEY", API_KEY)
    monkeypatch.setenv("ISSUETRACKER_SERVICE_ID", "workflow-consumer")

    with IssueTrackerClient(register_atexit=False) as client:
        issue_id = client.log_issue("Error in workflow", "Failed at step X")
        assert client.flush(2.0)

    [seen] = tracker.seen
    assert seen.path == "/api/v1/issues"
    assert seen.headers["Authorization"] == f"Bearer {API_KEY}"
    assert seen.headers["User-Agent"].endswith("(workflow-consumer)")
    assert seen.body["reporter_id"] == "workflow-consumer"
    assert seen.body["id"] == issue_id
    assert "api_key='<set>'" in repr(client)


def test_explicit_arguments_win_over_the_environment(tracker, monkeypatch):
    monkeypatch.setenv("ISSUETRACKER_URL", "http://127.0.0.1:9/nowhere")
    monkeypatch.setenv("ISSUETRACKER_API_KEY", API_KEY)
    monkeypatch.setenv("ISSUETRACKER_SERVICE_ID", "from-env")

    with IssueTrackerClient(
        tracker.url, None, service_id="explicit", register_atexit=False
    ) as client:
        client.log_issue("Error", "x")
        assert client.flush(2.0)

    [seen] = tracker.seen
    assert "Authorization" not in seen.headers  # None: anonymous, env or not
    assert seen.body["reporter_id"] == "explicit"


def test_without_environment_the_default_url_is_used():
    client = IssueTrackerClient(register_atexit=False)
    try:
        assert "http://issuetracker:6001" in repr(client)
        assert "api_key=None" in repr(client)
    finally:
        client.close(timeout=0)


def test_a_nonsense_url_in_the_environment_is_refused_at_start_up(monkeypatch):
    monkeypatch.setenv("ISSUETRACKER_URL", "issuetracker:6001")
    with pytest.raises(ValueError, match="ISSUETRACKER_URL"):
        IssueTrackerClient(register_atexit=False)


# log_issue


def test_log_issue_returns_its_id_at_once_and_posts_it(tracker, make_client):
    tracker.answer(Reply(201, delay=1.0))  # the answer is slow: no matter
    client = make_client(tracker.url, timeout=2.0, service_id="pricing")

    start = time.perf_counter()
    issue_id = client.log_issue(
        title="Error in workflow",
        description="Workflow failed at step X",
        type="bug",
        priority="high",
        reporter_id="workflow-consumer",
        assignee_id="alice",
        tags=["workflow"],
        component="consumer",
        fingerprint="wf-step-x",
    )
    took = time.perf_counter() - start

    assert took < 0.05
    assert CLIENT_ID.fullmatch(issue_id)
    assert client.flush(3.0)
    [seen] = tracker.seen
    assert seen.method == "POST"
    assert seen.path == "/api/v1/issues"
    assert seen.body == {
        "id": issue_id,
        "title": "Error in workflow",
        "description": "Workflow failed at step X",
        "type": "bug",
        "priority": "high",
        "reporter_id": "workflow-consumer",
        "assignee_id": "alice",
        "tags": ["workflow"],
        "component": "consumer",
        "fingerprint": "wf-step-x",
    }
    assert client.stats.sent == 1


def test_log_issue_omits_what_is_not_given(tracker, make_client):
    client = make_client(tracker.url, None, service_id="workflow-consumer")

    ids = {client.log_issue("Error", "x") for _ in range(200)}

    assert client.flush(5.0)
    assert len(ids) == 200
    assert all(CLIENT_ID.fullmatch(issue_id) for issue_id in ids)
    body = tracker.seen[0].body
    assert set(body) == {"id", "title", "description", "type", "priority", "tags"} | {
        "reporter_id"
    }
    assert (body["type"], body["priority"], body["tags"]) == ("bug", "medium", [])
    assert "status" not in body


# Follow-ups


def test_follow_ups_arrive_in_call_order_after_their_create(tracker, make_client):
    tracker.answer(Reply(201, delay=0.3))  # the first create is slow
    client = make_client(tracker.url, None, service_id="workflow-consumer")

    first = client.log_issue("First", "x")
    assert client.add_comment(issue_id=first, content="Fixed in commit abc123")
    assert client.update_issue_status(issue_id=first, status="resolved")
    second = client.log_issue("Second", "y")
    assert client.update_issue_status(second, "resolved", resolution="Wont Fix")
    assert client.add_comment(second, "Me too", author_id="other-service")

    assert client.flush(3.0)
    assert calls(tracker, 6) == [
        ("POST", "/api/v1/issues"),
        ("POST", f"/api/v1/issues/{first}/comments"),
        ("PATCH", f"/api/v1/issues/{first}"),
        ("POST", "/api/v1/issues"),
        ("PATCH", f"/api/v1/issues/{second}"),
        ("POST", f"/api/v1/issues/{second}/comments"),
    ]
    seen = tracker.seen
    assert seen[1].body == {
        "content": "Fixed in commit abc123",
        "author_id": "workflow-consumer",
    }
    assert seen[2].body == {"status": "resolved"}
    assert seen[4].body == {"status": "resolved", "resolution": "wont-fix"}
    assert seen[5].body["author_id"] == "other-service"
    for follow_up in seen[1:3] + seen[4:]:
        assert follow_up.headers["X-User-Id"] == "workflow-consumer"
    assert client.stats.sent == 6


def test_with_a_key_follow_ups_carry_the_key_not_a_user_id(tracker, make_client):
    client = make_client(tracker.url, service_id="pricing")

    issue_id = client.log_issue("Error", "x")
    client.update_issue_status(issue_id, "closed")

    assert client.flush(2.0)
    patch = tracker.wait_for(2)[1]
    assert patch.headers["Authorization"] == f"Bearer {API_KEY}"
    assert "X-User-Id" not in patch.headers


def test_the_old_contract_unchanged_with_only_the_url(tracker, monkeypatch):
    """As the old README: no key, no service id, names given in the calls."""
    monkeypatch.setenv("ISSUETRACKER_URL", tracker.url)
    client = IssueTrackerClient(register_atexit=False)

    issue_id = client.log_issue(
        title="Error in workflow",
        description="Workflow failed at step X",
        type="bug",
        priority="high",
        reporter_id="workflow-consumer",
    )
    client.add_comment(
        issue_id=issue_id,
        content="Fixed in commit abc123",
        author_id="workflow-consumer",
    )
    client.update_issue_status(issue_id=issue_id, status="resolved")

    assert client.close(timeout=2.0)
    create, comment, patch = tracker.seen
    assert create.body["reporter_id"] == "workflow-consumer"
    assert comment.body["author_id"] == "workflow-consumer"
    assert patch.headers["X-User-Id"] == "workflow-consumer"  # the reporter
    assert client.stats.sent == 3


# Retries and replays


@pytest.mark.parametrize(
    "first_answer",
    [Reply(503), Reply(201, delay=5.0)],  # refused for now; answer lost (timeout)
    ids=["503-then-201", "answer-lost"],
)
def test_a_retried_create_carries_the_same_id(tracker, make_client, first_answer):
    tracker.answer(first_answer)
    client = make_client(tracker.url, timeout=0.3)

    issue_id = client.log_issue("Flaky", "x")
    client.add_comment(issue_id, "after the retry")

    assert client.flush(3.0)
    # The first attempt and its retry; on a loaded machine a retry can itself pass
    # the 0.3 s timeout and be retried again, with the same id each time.
    *creates, comment = tracker.wait_for(3)
    assert len(creates) >= 2
    assert all(create.body == creates[0].body for create in creates)
    assert creates[0].body["id"] == issue_id
    assert comment.path == f"/api/v1/issues/{issue_id}/comments"
    stats = client.stats
    assert (stats.sent, stats.retried, stats.failed) == (2, len(creates) - 1, 0)


def test_a_folded_report_sends_its_follow_ups_to_the_existing_issue(
    tracker, make_client
):
    tracker.answer(Reply(200, body={"id": "existing-issue-0001", "title": "Old"}))
    client = make_client(tracker.url)

    folded = client.log_issue("Error", "x", fingerprint="wf-step-x")
    client.add_comment(folded, "Seen again")
    client.update_issue_status(folded, "resolved")
    fresh = client.log_issue("Other", "y")
    client.add_comment(fresh, "New one")

    assert client.flush(3.0)
    assert calls(tracker, 5) == [
        ("POST", "/api/v1/issues"),
        ("POST", "/api/v1/issues/existing-issue-0001/comments"),
        ("PATCH", "/api/v1/issues/existing-issue-0001"),
        ("POST", "/api/v1/issues"),
        ("POST", f"/api/v1/issues/{fresh}/comments"),
    ]
    # Later calls naming the returned id still reach it.
    client.add_comment(folded, "Later still")
    assert client.flush(2.0)
    assert tracker.wait_for(6)[5].path == "/api/v1/issues/existing-issue-0001/comments"


def test_follow_ups_of_a_refused_create_are_dropped(tracker, make_client, caplog):
    tracker.answer(Reply(400, body={"code": "invalid", "error": "Bad title."}))
    client = make_client(tracker.url)

    refused = client.log_issue("Refused", "x")
    client.add_comment(refused, "never sent")
    client.update_issue_status(refused, "resolved")
    kept = client.log_issue("Kept", "y")
    client.add_comment(kept, "sent")

    assert client.flush(3.0)
    assert calls(tracker, 3) == [
        ("POST", "/api/v1/issues"),
        ("POST", "/api/v1/issues"),
        ("POST", f"/api/v1/issues/{kept}/comments"),
    ]
    stats = client.stats
    assert (stats.rejected, stats.dropped, stats.sent) == (1, 2, 2)
    messages = warnings_of(caplog)
    assert len([m for m in messages if "did not reach the tracker" in m]) == 1


def test_a_409_on_a_client_id_drops_the_report_and_its_follow_ups(
    tracker, make_client, caplog
):
    tracker.answer(Reply(409, body={"code": "conflict", "error": "Id taken."}))
    client = make_client(tracker.url)

    issue_id = client.log_issue("Mine?", "x")
    client.add_comment(issue_id, "not on someone else's issue")

    assert client.flush(2.0)
    assert len(tracker.seen) == 1
    stats = client.stats
    assert (stats.rejected, stats.dropped, stats.retried) == (1, 1, 0)
    assert any("another caller owns that id" in m for m in warnings_of(caplog))


def test_a_refused_follow_up_is_not_retried(tracker, make_client, caplog):
    client = make_client(tracker.url)
    issue_id = client.log_issue("Error", "x")
    assert client.flush(2.0)
    tracker.answer(Reply(409, body={"code": "conflict", "error": "From open: ..."}))

    client.update_issue_status(issue_id, "closed")

    assert client.flush(2.0)
    assert len(tracker.seen) == 2
    assert client.stats.rejected == 1
    assert any("refused a status update with 409" in m for m in warnings_of(caplog))


# Never raising, never blocking


class Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("no str for you")


def test_invalid_arguments_never_raise(tracker, make_client, caplog):
    client = make_client(tracker.url)
    good = client.log_issue("Fine", "x")

    dropped_ids = [
        client.log_issue(Unprintable(), "x"),
        client.log_issue("x", "y", tags=5),
        client.log_issue("x", "y", reporter_id="r" * 101),
    ]
    results = [
        client.add_comment(None, "x"),
        client.add_comment("../admin", "x"),
        client.add_comment("__reserved__", "x"),
        client.add_comment(good, "   "),
        client.add_comment(good, Unprintable()),
        client.update_issue_status(good, "done"),
        client.update_issue_status(good, None),
        client.update_issue_status(12345, "open"),
        client.add_comment(dropped_ids[0], "its create was dropped: dropped too"),
    ]
    kept = client.log_issue("Unknown type", "x", type="incident", priority="asap")

    assert all(CLIENT_ID.fullmatch(issue_id) for issue_id in dropped_ids)
    assert results[:-1] == [False] * 8
    assert results[-1] is True  # queued; the worker drops it
    assert client.flush(2.0)
    assert [seen.body.get("id") for seen in tracker.seen] == [good, kept]
    assert tracker.seen[1].body["type"] == "bug"
    assert tracker.seen[1].body["priority"] == "medium"
    stats = client.stats
    assert (stats.sent, stats.dropped, stats.queued) == (2, 12, 0)
    messages = warnings_of(caplog)
    assert any("reporter_id must be at most 100" in m for m in messages)
    assert any("issue_id must be" in m for m in messages)
    assert any("status must be one of" in m for m in messages)
    assert any("log_issue could not build a report" in m for m in messages)
    assert len([m for m in messages if "add_comment: " in m]) == 1  # logged once


def test_log_issue_never_blocks_against_a_dead_port(closed_port_url, make_client):
    client = make_client(closed_port_url, max_retries=1)
    client.log_issue("Warm-up", "x")

    durations = []
    for n in range(1000):
        start = time.perf_counter()
        issue_id = client.log_issue(f"Report {n}", "Tracker is down")
        durations.append(time.perf_counter() - start)
        assert CLIENT_ID.fullmatch(issue_id)
    median = statistics.median(durations)
    print(f"median log_issue against a dead port: {median * 1e6:.1f} µs")

    assert median < 0.001
    assert client.add_comment(issue_id, "x") in (True, False)
    stats = client.stats
    assert stats.sent == 0
    assert stats.queued + stats.failed + stats.dropped == 1002


def test_close_flushes_what_is_queued(tracker, make_client):
    tracker.answer(Reply(201, delay=0.2))
    client = make_client(tracker.url, service_id="svc")

    issue_id = client.log_issue("Error", "x")
    client.add_comment(issue_id, "note")
    client.update_issue_status(issue_id, "in-progress")

    assert client.close(timeout=3.0)
    assert [seen.method for seen in tracker.seen] == ["POST", "POST", "PATCH"]
    assert client.stats.sent == 3
    assert client.stats.queued == 0
    assert client.add_comment(issue_id, "after close") is False
    assert CLIENT_ID.fullmatch(client.log_issue("after close", "x"))
    assert client.stats.dropped == 2


def test_a_resolution_outside_the_trackers_is_dropped_not_sent(tracker, make_client):
    client = make_client(tracker.url, None, service_id="workflow-consumer")
    issue_id = client.log_issue("First", "x")

    assert not client.update_issue_status(issue_id, "closed", resolution="Looking")
    assert client.update_issue_status(issue_id, "in_progress")

    assert client.flush(3.0)
    assert [seen.body.get("status") for seen in tracker.wait_for(2)] == [
        None,
        "in-progress",
    ]
    assert client.stats.dropped == 1
