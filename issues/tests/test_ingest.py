"""Ingest at machine speed (real emulator): batches answered report by report,
storms folded in the process's buffer and written once an interval, exact
totals after the flush, nothing lost on close, counters exact."""

import json
from typing import Any

import pytest
from django.test import Client
from google.cloud import firestore

from accounts.services.api_keys import api_key_create
from issues import services
from issues.domain import IssueChanges, IssueFilters, NewIssue, Status
from issues.store.buffers import write_buffer
from issues.store.counters import SHARDS, STATS
from issues.store.firestore import FirestoreIssueRepository
from issuetracker.testing import run_at_once

BATCH = "/api/v1/issues/batch"
CRASH = "gateway:TimeoutError:connect"

pytestmark = pytest.mark.usefixtures("store")


@pytest.fixture
def buffered(settings: Any) -> Any:
    """The ingest buffer on, with a long interval: only explicit flushes write."""
    settings.INGEST_BUFFER_SECONDS = 60
    yield write_buffer()
    write_buffer().close()


@pytest.fixture
def keyed(service: Any) -> Client:
    key = api_key_create(owner=service).key
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


def post(client: Client, body: Any) -> Any:
    return client.post(BATCH, json.dumps(body), content_type="application/json")


def good(n: int, **extra: Any) -> dict[str, Any]:
    return {"title": f"Report {n}", "description": "It broke.", **extra}


def stored(fingerprint: str | None = None) -> list[Any]:
    repo = FirestoreIssueRepository()
    page = repo.list_page(filters=IssueFilters(), limit=100, cursor=None)
    return [
        i for i in page.items if fingerprint is None or i.fingerprint == fingerprint
    ]


def raw_counts(db: firestore.Client) -> dict[str, int]:
    shards = db.collection(f"{STATS}/issueCounts/{SHARDS}").stream()
    total, opened = 0, 0
    for shard in shards:
        data = shard.to_dict() or {}
        total += data.get("total", 0)
        opened += (data.get("byStatus") or {}).get("open", 0)
    return {"total": total, "open": opened}


def report(actor: Any, **fields: Any) -> Any:
    data = NewIssue(
        title=fields.pop("title", "TimeoutError in connect"),
        description="Traceback ...",
        fingerprint=fields.pop("fingerprint", CRASH),
        id=fields.pop("id", None),
    )
    return services.issue_report(actor=actor, data=data, **fields)


# --- batches ---------------------------------------------------------------------


def test_a_batch_is_answered_report_by_report(keyed):
    answer = post(keyed, {"reports": [good(1), {"title": ""}, good(2, type="nope")]})

    assert answer.status_code == 200
    first, blank, bad_type = answer.json()["results"]
    assert first["status"] == 201
    assert first["issue"]["title"] == "Report 1"
    assert blank["status"] == 400
    assert set(blank["problem"]["errors"]) == {"title", "description"}
    assert bad_type["status"] == 400
    assert "type" in bad_type["problem"]["errors"]
    assert [i.title for i in stored()] == ["Report 1"]


def test_batch_reports_fold_replay_and_conflict_as_single_creates(keyed):
    chosen = "c" * 24
    answer = post(
        keyed,
        {
            "reports": [
                good(1, fingerprint=CRASH),
                good(2, fingerprint=CRASH, occurrences=4),
                good(3, id=chosen),
                good(3, id=chosen),
                good(4, id=chosen),
            ]
        },
    )

    statuses = [r["status"] for r in answer.json()["results"]]
    assert statuses == [201, 200, 201, 200, 409]
    [crash] = stored(CRASH)
    assert crash.occurrence_count == 5


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"reports": []}, "reports"),
        ({"reports": [good(n) for n in range(101)]}, "reports"),
        ({"reports": [good(1)], "extra": 1}, "extra"),
        ([good(1)], "non_field_errors"),
    ],
)
def test_bad_batches_are_400_and_store_nothing(keyed, body, field):
    answer = post(keyed, body)

    assert answer.status_code == 400
    assert field in answer.json()["errors"]
    assert stored() == []


def test_each_report_counts_against_the_write_rate(keyed, settings):
    settings.API_WRITE_RATE = "5/m"

    assert post(keyed, {"reports": [good(n) for n in range(5)]}).status_code == 200
    refused = post(keyed, {"reports": [good(9)]})

    assert refused.status_code == 429
    assert len(stored()) == 5


def test_anonymous_batches_name_a_reporter_per_report(client, settings):
    settings.ALLOW_ANONYMOUS_SERVICES = True
    answer = post(
        client,
        {
            "reports": [
                good(1, reporter_id="svc-a"),
                good(2, reporter_id="svc-b"),
                good(3),
            ]
        },
    )

    results = answer.json()["results"]
    assert [r["status"] for r in results[:2]] == [201, 201]
    assert results[2]["status"] == 401
    assert {i.reporter_id for i in stored()} == {"svc-a", "svc-b"}


# --- storms and the buffer --------------------------------------------------------


def test_a_storm_ends_with_the_exact_count_after_the_flush(service, buffered, store):
    results, errors = run_at_once(*[lambda: report(service)] * 12)
    more = [report(service, occurrences=3) for _ in range(5)]

    assert errors == []
    assert sum(r.created for r in results) == 1
    [issue] = stored(CRASH)
    held = issue.id
    # Until the flush, the store holds what the transaction wrote; this process
    # reads its own reports on top.
    read = FirestoreIssueRepository().get(held)
    assert read is not None
    assert read.occurrence_count == 12 + 15
    assert more[-1].issue.occurrence_count == 12 + 15

    buffered.flush()

    data = store.collection("issues").document(held).get().to_dict()
    assert data["occurrenceCount"] == 27
    read = FirestoreIssueRepository().get(held)
    assert read is not None
    assert read.occurrence_count == 27
    assert len(stored(CRASH)) == 1


def test_a_storm_writes_the_issue_once_per_flush_not_per_report(
    service, buffered, store
):
    first = report(service)
    ref = store.collection("issues").document(first.issue.id)
    written = ref.get().update_time

    for _ in range(20):
        report(service)

    assert ref.get().update_time == written
    buffered.flush()
    assert ref.get().to_dict()["occurrenceCount"] == 21


def test_close_writes_what_is_buffered(service, buffered, store):
    first = report(service)
    for _ in range(4):
        report(service)

    buffered.close()

    data = store.collection("issues").document(first.issue.id).get().to_dict()
    assert data["occurrenceCount"] == 5


def test_a_resolved_issue_still_gives_way_to_a_new_one(service, developer, buffered):
    first = report(service)
    for status in (Status.IN_PROGRESS, Status.RESOLVED):
        services.issue_update(
            actor=developer,
            issue_id=first.issue.id,
            changes=IssueChanges(status=status),
        )
    buffered.discard()  # the lock is read again after an interval; here at once

    regression = report(service)

    assert regression.created
    assert regression.issue.id != first.issue.id


def test_replayed_ids_stay_replays_while_buffered(service, buffered):
    report(service)
    chosen = "r" * 24
    folded = report(service, id=chosen)
    again = report(service, id=chosen)

    assert not folded.replayed
    assert again.replayed
    buffered.flush()
    assert report(service, id=chosen).replayed


def test_counters_are_exact_after_the_flush(service, keyed, buffered, store):
    post(keyed, {"reports": [good(n) for n in range(7)]})
    report(service, title="one more")

    assert FirestoreIssueRepository().counts().total == 8  # pending read too
    # the transaction's move (the fingerprinted report) waits with the batch's
    assert raw_counts(store)["total"] == 0

    buffered.flush()

    assert raw_counts(store) == {"total": 8, "open": 8}
    assert FirestoreIssueRepository().counts().total == 8


def test_a_flush_retried_after_a_lost_answer_is_counted_once(service, store):
    from issues.store.flushing import Pending, write_occurrences

    first = report(service)
    pending = Pending(count=4, token="t" * 32)

    write_occurrences(store, owed={first.issue.id: [pending]})
    write_occurrences(store, owed={first.issue.id: [pending]})  # the retry

    data = store.collection("issues").document(first.issue.id).get().to_dict()
    assert data["occurrenceCount"] == 5
