"""Creates waiting together go as one batch; repeats of a fingerprint merge."""

from typing import Any

from .conftest import Reply


def _stalled_first(tracker: Any, make_client: Any) -> tuple[Any, None]:
    """A client whose first request stalls until `tracker.release`, so the
    next calls wait in its queue together."""
    tracker.answer(Reply(delay=30.0))
    return make_client(tracker.url, batch=True, timeout=5.0), None


def test_waiting_creates_go_as_one_batch_and_follow_ups_after_it(tracker, make_client):
    client, _ = _stalled_first(tracker, make_client)
    client.report_issue("first", "sent alone while the rest wait")
    tracker.wait_for(1)
    for n in range(5):
        client.report_issue(f"crash {n}", "boom", fingerprint="crash-loop")
    issue_id = client.log_issue("with an id", "followed by a comment")
    client.add_comment(issue_id, "after the batch")
    client.report_issue("after the comment", "a batch of its own")
    tracker.release.set()

    assert client.flush(5.0)
    seen = tracker.wait_for(4)
    assert [s.path for s in seen] == [
        "/api/v1/issues",
        "/api/v1/issues/batch",
        f"/api/v1/issues/{issue_id}/comments",
        "/api/v1/issues",
    ]
    reports = seen[1].body["reports"]
    # Five repeats of one fingerprint: one report counting five occurrences.
    assert [r["title"] for r in reports] == ["crash 0", "with an id"]
    assert reports[0]["occurrences"] == 5
    assert reports[1]["id"] == issue_id
    stats = client.stats
    assert (stats.sent, stats.dropped, stats.queued) == (9, 0, 0)


def test_a_refused_report_in_a_batch_does_not_sink_the_others(tracker, make_client):
    client, _ = _stalled_first(tracker, make_client)
    client.report_issue("first", "alone")
    tracker.wait_for(1)
    client.report_issue("good", "one")
    client.report_issue("bad", "two")
    tracker.answer(
        Reply(
            status=200,
            body={
                "results": [
                    {"status": 201, "id": "a" * 20},
                    {"status": 400, "problem": {"error": "title: too long"}},
                ]
            },
        )
    )
    tracker.release.set()

    assert client.flush(5.0)
    stats = client.stats
    assert (stats.sent, stats.rejected) == (2, 1)


def test_a_tracker_without_batches_gets_reports_one_by_one(tracker, make_client):
    client, _ = _stalled_first(tracker, make_client)
    client.report_issue("first", "alone")
    tracker.wait_for(1)
    client.report_issue("two", "waiting")
    client.report_issue("three", "waiting")
    tracker.answer(Reply(status=404, body={"error": "not found"}))
    tracker.release.set()

    assert client.flush(5.0)
    seen = tracker.wait_for(4)
    assert [s.path for s in seen][1:] == [
        "/api/v1/issues/batch",
        "/api/v1/issues",
        "/api/v1/issues",
    ]
    assert client.stats.sent == 3
