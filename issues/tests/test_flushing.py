"""Flushing buffered occurrences without transactions (real emulator): exact
totals when the buffers of several processes flush the same issues at once, a
write whose answer was lost not counted twice, a deleted issue's occurrences
dropped, pacing between processes, and the holders the flush keeps."""

import logging
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from google.api_core import exceptions as google_exceptions
from google.cloud.firestore_v1.bulk_batch import BulkWriteBatch

from issues import services
from issues.domain import IssueChanges, NewIssue, Status
from issues.hourly import hour_key
from issues.store import flushing
from issues.store.buffers import WriteBuffer, write_buffer
from issues.store.documents import fingerprint_key
from issues.store.flushing import WAITS_MAX, Pending, write_occurrences
from issues.workflow import REPORT_IDS_KEPT
from issuetracker.testing import run_at_once

CRASH = "worker:KeyError:load"
# After the reports that create the issues, so it is the latest `lastSeenAt`.
NOW = datetime.now(UTC) + timedelta(minutes=1)

pytestmark = pytest.mark.usefixtures("store")


@pytest.fixture
def buffers(settings: Any) -> Iterator[list[WriteBuffer]]:
    """Two buffers, as two processes have, with an interval longer than the test
    (only explicit flushes write)."""
    settings.INGEST_BUFFER_SECONDS = 60
    made = [WriteBuffer(), WriteBuffer()]
    yield made
    for buffer in made:
        buffer.discard()
        buffer.close()


def new_issue(actor: Any, fingerprint: str = CRASH) -> str:
    data = NewIssue(
        title="KeyError in load", description="...", fingerprint=fingerprint
    )
    return services.issue_report(actor=actor, data=data).issue.id


def seen(count: int, minutes: int = 0, ids: tuple[str, ...] = ()) -> Pending:
    """`count` occurrences, the last `minutes` after NOW."""
    moment = NOW + timedelta(minutes=minutes)
    return Pending(
        count=count,
        last_seen=moment,
        report_ids=list(ids),
        hours=Counter({hour_key(moment): count}),
    )


def stored(store: Any, issue_id: str) -> Any:
    return store.collection("issues").document(issue_id).get().to_dict()


def test_concurrent_flushes_of_two_buffers_keep_exact_totals(
    service, store, buffers, settings
):
    issues = [new_issue(service, f"crash-{n}") for n in range(5)]
    rounds = 4
    for n in range(rounds):
        for issue_id in issues:
            buffers[0].add_occurrences(issue_id, seen(3, minutes=n, ids=(f"a{n}",)))
            buffers[1].add_occurrences(issue_id, seen(5, minutes=n, ids=(f"b{n}",)))
        _, errors = run_at_once(buffers[0].flush, buffers[1].flush)
        assert errors == []

    for issue_id in issues:
        data = stored(store, issue_id)
        assert data["occurrenceCount"] == 1 + rounds * (3 + 5)
        assert data["lastSeenAt"] == NOW + timedelta(minutes=rounds - 1)
        assert sorted(data["reportIds"][-2:]) == [f"a{rounds - 1}", f"b{rounds - 1}"]
        assert sum(data["hourlyOccurrences"].values()) == 1 + rounds * 8
        assert buffers[0].pending(issue_id) is None
        assert buffers[1].pending(issue_id) is None


def test_a_write_that_lost_to_another_is_read_and_computed_again(
    service, store, monkeypatch
):
    issue_id = new_issue(service)
    read = flushing._read

    def read_then_another_writes(*args: Any, **kwargs: Any) -> Any:
        snapshots = read(*args, **kwargs)
        monkeypatch.setattr(flushing, "_read", read)  # the other flush reads
        write_occurrences(store, owed={issue_id: [seen(10, minutes=5)]})
        return snapshots

    monkeypatch.setattr(flushing, "_read", read_then_another_writes)
    flushed = write_occurrences(store, owed={issue_id: [seen(4, ids=("r1",))]})

    data = stored(store, issue_id)
    assert data["occurrenceCount"] == 1 + 10 + 4
    assert data["lastSeenAt"] == NOW + timedelta(minutes=5)
    assert data["reportIds"] == ["r1"]
    assert flushed.unwritten == []
    assert flushed.issues[issue_id].occurrence_count == 15


def test_a_flush_whose_answer_was_lost_is_counted_once(
    service, store, buffers, monkeypatch
):
    issue_id = new_issue(service)
    buffer = buffers[0]
    buffer.add_occurrences(issue_id, seen(6))
    commit = BulkWriteBatch.commit

    def committed_but_unanswered(self: BulkWriteBatch, **kwargs: Any) -> Any:
        commit(self, **kwargs)
        raise google_exceptions.DeadlineExceeded("the answer was lost")  # type: ignore[no-untyped-call]

    with monkeypatch.context() as patch:
        patch.setattr(BulkWriteBatch, "commit", committed_but_unanswered)
        buffer.flush()

    assert stored(store, issue_id)["occurrenceCount"] == 7  # written, unanswered
    kept = buffer.pending(issue_id)
    assert kept is not None
    assert kept.count == 6  # kept for the next flush, with its token
    buffer.add_occurrences(issue_id, seen(2))

    buffer.flush()

    assert stored(store, issue_id)["occurrenceCount"] == 7 + 2
    assert buffer.pending(issue_id) is None


def test_occurrences_of_a_deleted_issue_are_dropped_and_logged(
    service, admin, store, buffers, caplog
):
    issue_id = new_issue(service)
    buffers[0].add_occurrences(issue_id, seen(3))
    services.issue_delete(actor=admin, issue_id=issue_id)  # into the trash

    with caplog.at_level(logging.WARNING, logger="issues.store.flushing"):
        buffers[0].flush()

    assert "3 occurrences of issue" in caplog.text
    assert "dropped: the issue is gone" in caplog.text
    assert buffers[0].pending(issue_id) is None
    assert not store.collection("issues").document(issue_id).get().exists


def test_an_issue_deleted_between_read_and_write_is_not_written_again(
    service, store, monkeypatch, caplog
):
    issue_id = new_issue(service)
    read = flushing._read

    def read_then_deleted(*args: Any, **kwargs: Any) -> Any:
        snapshots = read(*args, **kwargs)
        store.collection("issues").document(issue_id).delete()
        return snapshots

    monkeypatch.setattr(flushing, "_read", read_then_deleted)
    with caplog.at_level(logging.WARNING, logger="issues.store.flushing"):
        flushed = write_occurrences(store, owed={issue_id: [seen(2)]})

    assert not store.collection("issues").document(issue_id).get().exists
    assert flushed.unwritten == []
    assert "dropped: the issue is gone" in caplog.text


def test_paced_flushes_share_an_issue_between_processes(service, store, buffers):
    issue_id = new_issue(service)  # written just now, by "another"
    first, second = buffers

    first.add_occurrences(issue_id, seen(1))
    for _ in range(WAITS_MAX):
        first.flush(pace=True)
        assert stored(store, issue_id)["occurrenceCount"] == 1  # waited
    first.flush(pace=True)
    assert stored(store, issue_id)["occurrenceCount"] == 2  # waited enough

    # Its own last write never holds a process back; another's does.
    first.add_occurrences(issue_id, seen(1))
    first.flush(pace=True)
    assert stored(store, issue_id)["occurrenceCount"] == 3
    second.add_occurrences(issue_id, seen(4))
    second.flush(pace=True)
    assert stored(store, issue_id)["occurrenceCount"] == 3
    pending = second.pending(issue_id)
    assert pending is not None
    assert pending.count == 4
    # A flush on demand (exit, tests) never waits.
    second.flush()
    assert stored(store, issue_id)["occurrenceCount"] == 7


def test_the_flush_keeps_the_holders_as_it_leaves_them(
    service, developer, store, buffers
):
    buffer = write_buffer()
    first = services.issue_report(
        actor=service,
        data=NewIssue(title="KeyError in load", description="...", fingerprint=CRASH),
    )
    key = fingerprint_key(first.issue.reporter_id, CRASH)
    buffer.remember(key, first.issue)
    buffer.add_occurrences(first.issue.id, seen(9))

    buffer.flush()

    held = buffer.holder(key)
    assert held is not None
    assert held.occurrence_count == 10  # as written, without reading it again
    owed = buffer.owed(first.issue.id)
    assert owed is None
    # The issue resolved and a regression moved the lock: the next flush lets the
    # old holder go, so the next report reads the lock again.
    for status in (Status.IN_PROGRESS, Status.RESOLVED):
        services.issue_update(
            actor=developer,
            issue_id=first.issue.id,
            changes=IssueChanges(status=status),
        )
    buffer.holder(key)  # used since the last flush
    store.collection("fingerprints").document(key).update({"issueId": "elsewhere"})

    buffer.flush(pace=True)

    assert buffer.holder(key) is None


def test_kept_report_ids_and_tokens_stay_bounded(service, store):
    issue_id = new_issue(service)
    for n in range(REPORT_IDS_KEPT + 5):
        write_occurrences(store, owed={issue_id: [seen(1, ids=(f"id-{n}",))]})

    data = stored(store, issue_id)
    assert data["occurrenceCount"] == 1 + REPORT_IDS_KEPT + 5
    assert data["reportIds"][-1] == f"id-{REPORT_IDS_KEPT + 4}"
    assert len(data["reportIds"]) == REPORT_IDS_KEPT
    assert len(data[flushing.FLUSH_TOKENS]) <= flushing.FLUSH_TOKENS_KEPT
