"""The client against a fake tracker: delivery, retries, drops, bounded shutdown."""

import atexit
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from issuetracker_client import ClientStats, IssueTrackerClient
from issuetracker_client import client as client_module
from issuetracker_client.transport import retry_after_seconds

from .conftest import API_KEY, Reply

T = TypeVar("T")

# report_* must return at once whatever the tracker does; generous for slow CI.
INSTANT = 0.1


def timed(call: Callable[..., T], *args: Any, **kwargs: Any) -> tuple[T, float]:
    """What `call` returns and how many seconds it took."""
    start = time.monotonic()
    result = call(*args, **kwargs)
    return result, time.monotonic() - start


def warnings_of(caplog) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "issuetracker_client" and record.levelno == logging.WARNING
    ]


def accounted(stats: ClientStats) -> int:
    return stats.sent + stats.rejected + stats.failed + stats.dropped + stats.queued


# Delivery


def test_report_is_posted_as_json_with_the_bearer_key(tracker, make_client):
    client = make_client(tracker.url, service_id="pricing-engine")

    queued, took = timed(
        client.report_issue,
        "Stale quotes",
        "No tick for 30 s on ETH-USD",
        priority="critical",
        tags=["quotes", "latency"],
        fingerprint="stale-quotes",
    )

    assert queued is True
    assert took < INSTANT
    assert client.flush(2.0)
    [seen] = tracker.seen
    assert seen.path == "/api/v1/issues"
    assert seen.headers["Authorization"] == f"Bearer {API_KEY}"
    assert seen.headers["Content-Type"] == "application/json"
    assert seen.headers["User-Agent"].startswith("alphafusion-issuetracker-client/")
    assert seen.body == {
        "title": "Stale quotes",
        "description": "No tick for 30 s on ETH-USD",
        "type": "bug",
        "priority": "critical",
        "tags": ["quotes", "latency"],
        "fingerprint": "stale-quotes",
    }
    assert client.stats == ClientStats(
        queued=0, sent=1, rejected=0, failed=0, dropped=0, retried=0
    )


def test_without_a_key_the_service_reports_as_reporter_id(tracker, make_client):
    client = make_client(tracker.url + "/", None, service_id="workflow-consumer")

    client.report_issue("Error in workflow", "Workflow failed at step X")

    assert client.flush(2.0)
    [seen] = tracker.seen
    assert "Authorization" not in seen.headers
    assert seen.path == "/api/v1/issues"
    assert seen.body["reporter_id"] == "workflow-consumer"


def test_values_are_fitted_to_the_api_limits(tracker, make_client, caplog):
    client = make_client(tracker.url, tags=["svc"])

    client.report_issue(
        "  a title\nover two lines " + "x" * 500,
        "d" * 30_000 + " THE END",
        type="FEATURE",
        priority="urgent",  # unknown: sent as the default, logged
        tags=["ok", " ok ", "", "t" * 80, *(f"tag{n}" for n in range(40))],
        fingerprint="f" * 300,
    )
    client.report_issue("\x00 ", "   ", tags="single")

    assert client.flush(2.0)
    first, second = (seen.body for seen in tracker.seen)
    assert first["title"].startswith("a title over two lines xxx")
    assert len(first["title"]) == 200
    assert first["title"].endswith("…")
    assert len(first["description"]) == 10_000
    assert first["description"].startswith("ddd")
    assert first["description"].endswith("THE END")
    assert first["type"] == "feature"
    assert first["priority"] == "medium"
    tags = first["tags"]
    assert tags[:3] == ["svc", "ok", "t" * 49 + "…"]
    assert len(tags) == 20
    assert all(1 <= len(tag) <= 50 for tag in tags)
    assert 1 <= len(first["fingerprint"]) <= 200
    assert second["title"] == "(no title)"
    assert second["description"] == "(no description)"
    assert second["tags"] == ["svc", "single"]
    assert any("'urgent'" in message for message in warnings_of(caplog))


def test_concurrent_reporters_all_get_through(tracker, make_client):
    client = make_client(tracker.url)

    def report(thread: int) -> None:
        for n in range(25):
            assert client.report_issue(f"thread {thread} report {n}", "x")

    threads = [threading.Thread(target=report, args=(t,)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert client.flush(10.0)
    assert client.stats.sent == 100
    assert len({seen.body["title"] for seen in tracker.seen}) == 100


# Retries


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_is_honoured(tracker, make_client, status):
    tracker.answer(Reply(status, headers={"Retry-After": "1"}))
    client = make_client(tracker.url)

    queued, took = timed(client.report_issue, "Throttled", "x")

    assert queued
    assert took < INSTANT
    assert client.flush(3.0)
    first, second = tracker.wait_for(2)
    assert 1.0 <= second.at - first.at < 2.5
    assert second.body == first.body
    stats = client.stats
    assert (stats.sent, stats.retried, stats.failed) == (1, 1, 0)


def test_a_long_retry_after_is_capped(tracker, make_client):
    tracker.answer(Reply(503, headers={"Retry-After": "3600"}))
    client = make_client(tracker.url, max_retry_after=0.1)

    client.report_issue("Down for maintenance", "x")

    assert client.flush(2.0)
    first, second = tracker.seen
    assert second.at - first.at < 1.0
    assert client.stats.sent == 1


def test_a_server_error_is_retried_with_backoff(tracker, make_client):
    tracker.answer(Reply(500), Reply(502))
    client = make_client(tracker.url, backoff=0.1, max_backoff=1.0)

    client.report_issue("Flaky", "x")

    assert client.flush(3.0)
    first, second, third = tracker.seen
    # Exponential with jitter: 0.05-0.1 s, then 0.1-0.2 s.
    assert 0.05 <= second.at - first.at < 1.0
    assert 0.1 <= third.at - second.at < 1.0
    stats = client.stats
    assert (stats.sent, stats.retried, stats.failed) == (1, 2, 0)


def test_gives_up_after_max_retries_and_logs_once(tracker, make_client, caplog):
    tracker.answer(default=Reply(500))
    client = make_client(tracker.url, max_retries=2)

    client.report_issue("First", "x")
    client.report_issue("Second", "x")

    assert client.flush(3.0)
    assert len(tracker.seen) == 6  # 1 + 2 retries, each
    stats = client.stats
    assert (stats.sent, stats.failed, stats.retried) == (0, 2, 4)
    [warning] = [m for m in warnings_of(caplog) if "Could not deliver" in m]
    assert "HTTP 500" in warning
    assert "3 attempts" in warning


def test_tracker_down_never_blocks_or_raises(closed_port_url, make_client, caplog):
    client = make_client(closed_port_url, max_retries=2)

    took = max(timed(client.report_issue, f"Report {n}", "x")[1] for n in range(20))
    try:
        raise RuntimeError("order 123 rejected")
    except RuntimeError as exc:
        _, took_exc = timed(client.report_exception, exc)

    assert took < INSTANT
    assert took_exc < INSTANT
    assert client.flush(5.0)
    stats = client.stats
    assert (stats.sent, stats.failed, stats.retried) == (0, 21, 42)
    [warning] = [m for m in warnings_of(caplog) if "Could not deliver" in m]
    assert "cannot connect" in warning


def test_a_slow_tracker_times_out_and_retries(tracker, make_client):
    tracker.answer(Reply(201, delay=5.0))  # stalls past the client's timeout
    client = make_client(tracker.url, timeout=0.2)

    queued, took = timed(client.report_issue, "Slow", "x")

    assert queued
    assert took < INSTANT
    assert client.flush(2.0)
    assert len(tracker.seen) == 2
    stats = client.stats
    assert (stats.sent, stats.retried) == (1, 1)


# Refusals


def test_a_refused_report_is_dropped_not_retried(tracker, make_client, caplog):
    problem = {"code": "invalid", "error": "title: This field may not be blank."}
    tracker.answer(default=Reply(400, body=problem))
    client = make_client(tracker.url)

    client.report_issue("One", "x")
    client.report_issue("Two", "x")

    assert client.flush(2.0)
    assert len(tracker.seen) == 2
    stats = client.stats
    assert (stats.rejected, stats.retried, stats.sent, stats.failed) == (2, 0, 0, 0)
    [warning] = [m for m in warnings_of(caplog) if "refused" in m]
    assert "400" in warning
    assert "invalid: title: This field may not be blank." in warning


def test_an_invalid_key_is_never_logged(tracker, make_client, caplog):
    tracker.answer(
        default=Reply(401, body={"code": "not_authenticated", "error": "Invalid key."})
    )
    client = make_client(tracker.url)

    client.report_issue("Unauthorized", "x")

    assert client.flush(2.0)
    assert client.stats.rejected == 1
    assert "401" in caplog.text
    # make_client checks at teardown that the key is in no log record.
    assert API_KEY not in repr(client)
    assert "api_key='<set>'" in repr(client)


def test_a_redirect_is_not_followed_with_the_key(tracker, make_client, caplog):
    tracker.answer(
        Reply(302, headers={"Location": "http://user:pw@elsewhere.test/x?y=1"})
    )
    client = make_client(tracker.url)

    client.report_issue("Moved", "x")

    assert client.flush(2.0)
    assert len(tracker.seen) == 1
    assert client.stats.rejected == 1
    [warning] = [m for m in warnings_of(caplog) if "refused" in m]
    assert "redirect to http://elsewhere.test/x not followed" in warning


# Drops and shutdown


def test_a_full_queue_drops_without_blocking(tracker, make_client, caplog):
    tracker.answer(default=Reply(201, delay=5.0))
    client = make_client(tracker.url, queue_size=3, timeout=5.0)

    results, took = timed(
        lambda: [client.report_issue(f"Report {n}", "x") for n in range(50)]
    )

    assert took < INSTANT * 3
    # One is taken by the worker (stalled), three wait, the rest are dropped.
    assert results.count(True) in (3, 4)
    stats = client.stats
    assert stats.dropped == results.count(False)
    assert accounted(stats) == 50
    assert len([m for m in warnings_of(caplog) if "queue is full" in m]) == 1
    tracker.release.set()
    assert client.flush(2.0)
    assert client.stats.sent == results.count(True)


def test_close_is_bounded_while_a_send_stalls(tracker, make_client):
    tracker.answer(default=Reply(201, delay=5.0))
    client = make_client(tracker.url, timeout=5.0)
    for n in range(5):
        client.report_issue(f"Report {n}", "x")
    tracker.wait_for(1)

    done, took = timed(client.close, timeout=0.3)

    assert done is False
    assert 0.25 <= took < 1.0
    stats = client.stats
    assert stats.dropped == 4  # the queued ones; one is still in flight
    assert client.report_issue("After close", "x") is False
    assert client.stats.dropped == 5
    tracker.release.set()


def test_close_cuts_a_retry_wait_short(tracker, make_client):
    tracker.answer(default=Reply(503, headers={"Retry-After": "30"}))
    client = make_client(tracker.url, max_retry_after=30)
    client.report_issue("Waiting", "x")
    tracker.wait_for(1)
    time.sleep(0.05)  # the worker is now waiting out Retry-After

    done, took = timed(client.close, timeout=0.2)

    assert done is False
    assert took < 1.0
    worker = client._worker
    assert worker is not None
    worker.join(1.0)
    assert not worker.is_alive()
    stats = client.stats
    assert (stats.dropped, stats.retried, stats.queued) == (1, 1, 0)


def test_flush_returns_false_on_timeout(tracker, make_client):
    tracker.answer(Reply(201, delay=0.5))
    client = make_client(tracker.url, timeout=2.0)
    client.report_issue("Slow", "x")

    flushed, took = timed(client.flush, 0.1)

    assert flushed is False
    assert took < 0.3
    assert client.flush(2.0)


def test_close_delivers_what_is_queued_then_refuses(tracker, make_client):
    client = make_client(tracker.url)
    for n in range(3):
        client.report_issue(f"Report {n}", "x")

    assert client.close(timeout=2.0)
    assert client.close(timeout=2.0)  # again: harmless
    assert client.closed
    assert client.stats.sent == 3
    assert client.report_issue("Late", "x") is False
    assert client.report_exception(ValueError("late")) is False
    assert client.stats.dropped == 2


def test_close_runs_at_exit(monkeypatch, tracker):
    registered: list[Callable[[], None]] = []
    monkeypatch.setattr(atexit, "register", registered.append)
    monkeypatch.setattr(atexit, "unregister", registered.remove)

    client = IssueTrackerClient(tracker.url, API_KEY, close_timeout=1.0)
    client.report_issue("At exit", "x")
    [at_exit] = registered
    at_exit()

    assert client.closed
    assert client.stats.sent == 1
    assert registered == []


def test_a_forked_child_starts_afresh(tracker, make_client):
    tracker.answer(Reply(201, delay=5.0))
    client = make_client(tracker.url, timeout=5.0)
    for n in range(3):
        client.report_issue(f"Parent {n}", "x")
    tracker.wait_for(1)

    client_module._after_fork_in_child()  # what os.fork runs in the child

    assert client.stats == ClientStats(0, 0, 0, 0, 0, 0)
    # The parent's stalled send is not the child's: only "Child" counts here.
    assert client.report_issue("Child", "x")
    assert client.flush(2.0)
    assert client.stats.sent == 1
    assert [s.body["title"] for s in tracker.wait_for(2)] == ["Parent 0", "Child"]


# Never raising


class Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("no str for you")


def test_report_never_raises(tracker, make_client, caplog):
    client = make_client(tracker.url)

    assert client.report_issue(Unprintable(), "x") is False
    assert client.report_issue("Fine", "x", tags=[Unprintable()]) is False
    assert client.report_issue("Tags not iterable", "x", tags=5) is False
    assert client.report_exception() is False  # no exception being handled

    assert client.report_issue("Still works", "x")
    assert client.flush(2.0)
    assert client.stats.sent == 1
    assert client.stats.dropped == 4
    messages = warnings_of(caplog)
    assert any("report_issue could not build a report" in m for m in messages)
    assert any("outside an except block" in m for m in messages)


def test_constructor_refuses_nonsense_without_echoing_the_key():
    with pytest.raises(ValueError, match="base_url"):
        IssueTrackerClient("issues.quantory.app", API_KEY)
    with pytest.raises(ValueError, match="api_key") as refused:
        IssueTrackerClient("https://issues.quantory.app", API_KEY + "\n")
    assert API_KEY not in str(refused.value)
    with pytest.raises(ValueError, match="service_id"):
        IssueTrackerClient("https://issues.quantory.app", service_id="s" * 101)
    with pytest.raises(ValueError, match="timeout"):
        IssueTrackerClient("https://issues.quantory.app", API_KEY, timeout=0)


def test_without_key_or_service_id_only_named_calls_go_out(
    tracker, make_client, caplog
):
    client = make_client(tracker.url, None)  # as the old client: no name at all

    assert client.report_issue("Who am I?", "x") is False
    assert client.report_issue("Still nobody", "x") is False

    assert client.flush(2.0)
    assert tracker.seen == []
    assert client.stats.dropped == 2
    [warning] = [m for m in warnings_of(caplog) if "needs the caller's name" in m]
    assert "ISSUETRACKER_SERVICE_ID" in warning


def test_retry_after_takes_seconds_or_an_http_date():
    now = 1_445_412_400.0  # 2015-10-21 07:26:40 UTC
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=now) == 80.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:00:00 GMT", now=now) == 0.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds("-1") is None
    assert retry_after_seconds(None) is None
