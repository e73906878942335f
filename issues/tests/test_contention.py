"""Many callers changing one issue at once: all kept, each within FIRESTORE_TIMEOUT.

Against the real emulator: concurrent transactions on one document abort each
other there as in production, so these tests see the contention they guard against.
"""

import json
import time
from collections import Counter
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from issues import services
from issues.domain import ActivityType, IssueChanges
from issues.store import updates
from issues.store.documents import ACTIVITIES, ISSUES
from issuetracker.errors import StoreUnavailable
from issuetracker.firestore import BoundedTransaction, get_client
from issuetracker.testing import run_at_once

CALLERS = 50
# Allowance over the deadline for what a call does outside the store (thread
# start, the ORM, rendering) on a busy two-core machine.
MARGIN = 1.5
# The same with a tiny budget: only what runs outside the store.
TINY_MARGIN = 0.5
FIELDS = ("title", "description", "component")


@pytest.fixture(autouse=True)
def _queued_tasks(settings):
    """Deliveries are queued for a worker, as in production, not run inside each
    call (the suite's immediate backend), so a call's time is the request's own."""
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}
    }


def change_of(n: int) -> dict[str, str]:
    """The n-th caller's change: one field, to a value no other caller sets."""
    field = FIELDS[n % len(FIELDS)]
    return {field: f"{field} set by caller {n}"}


def timed(call: Any) -> Any:
    def measured() -> tuple[Any, float]:
        started = time.monotonic()
        try:
            outcome = call()
        except Exception as error:  # noqa: BLE001 - returned with its time
            outcome = error
        return outcome, time.monotonic() - started

    return measured


def assert_every_change_kept(issue_id: str, changes: list[dict[str, str]]) -> None:
    """One activity per change, and per field the old values chain from the
    created value to the stored one (no change overwritten unseen)."""
    ref = get_client().collection(ISSUES).document(issue_id)
    stored = ref.get().to_dict() or {}
    rows = [row.to_dict() or {} for row in ref.collection(ACTIVITIES).stream()]
    updates = [row for row in rows if row["type"] != ActivityType.CREATED.value]
    assert len(updates) == len(changes)
    seen = Counter(
        (change["field"], change["newValue"])
        for row in updates
        for change in row["changes"]
    )
    wanted = Counter((field, value) for c in changes for field, value in c.items())
    assert seen == wanted
    for field in FIELDS:
        steps = {
            change["oldValue"]: change["newValue"]
            for row in updates
            for change in row["changes"]
            if change["field"] == field
        }
        values = [v for c in changes for f, v in c.items() if f == field]
        if not values:
            continue
        assert len(steps) == len(values), f"two changes of {field} saw one value"
        news = set(steps.values())
        [start] = [old for old in steps if old not in news]
        value, length = start, 0
        while value in steps:
            value, length = steps[value], length + 1
        assert length == len(values)
        assert stored[field] == value


@pytest.mark.django_db
def test_fifty_concurrent_updates_of_one_issue_all_succeed_within_the_timeout(
    firestore_db, developer, make_issue
):
    issue = make_issue(developer)
    changes = [change_of(n) for n in range(CALLERS)]
    calls = [
        timed(
            lambda change=change: services.issue_update(
                actor=developer,
                issue_id=issue.id,
                changes=IssueChanges.from_data(change),
            )
        )
        for change in changes
    ]
    outcomes, errors = run_at_once(*calls)
    assert errors == []
    failures = [o for o, _ in outcomes if isinstance(o, Exception)]
    assert failures == []
    slowest = max(seconds for _, seconds in outcomes)
    assert slowest < settings.FIRESTORE_TIMEOUT + MARGIN, slowest
    assert sorted(r.issue.version for r, _ in outcomes) == list(range(2, CALLERS + 2))
    assert_every_change_kept(issue.id, changes)


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_patches_through_the_api_all_succeed_within_the_timeout(
    firestore_db, developer, make_issue
):
    issue = make_issue(developer)
    changes = [change_of(n) for n in range(CALLERS)]
    clients = []
    for _ in changes:
        client = Client()
        client.force_login(developer)
        clients.append(client)

    def patch(client: Client, change: dict[str, str]) -> Any:
        return client.patch(
            f"/api/v1/issues/{issue.id}",
            json.dumps(change),
            content_type="application/json",
        )

    calls = [
        timed(lambda c=client, change=change: patch(c, change))
        for client, change in zip(clients, changes, strict=True)
    ]
    outcomes, errors = run_at_once(*calls)
    assert errors == []
    statuses = Counter(getattr(r, "status_code", repr(r)) for r, _ in outcomes)
    assert statuses == {200: CALLERS}
    slowest = max(seconds for _, seconds in outcomes)
    assert slowest < settings.FIRESTORE_TIMEOUT + MARGIN, slowest
    assert_every_change_kept(issue.id, changes)


@pytest.fixture
def slow_turns(monkeypatch, settings):
    """A 0.3 s budget, one update a transaction and commits of 0.1 s: most
    callers of a burst cannot have their turn in time."""
    settings.FIRESTORE_TIMEOUT = 0.3
    monkeypatch.setattr(updates, "BATCH_MAX", 1)
    commit = BoundedTransaction._commit

    def slow_commit(self: BoundedTransaction) -> Any:
        time.sleep(0.1)
        return commit(self)

    monkeypatch.setattr(BoundedTransaction, "_commit", slow_commit)


@pytest.mark.django_db
def test_under_contention_a_tiny_timeout_gives_503_within_it_never_later(
    firestore_db, developer, make_issue, slow_turns
):
    issue = make_issue(developer)
    changes = [change_of(n) for n in range(CALLERS)]
    calls = [
        timed(
            lambda change=change: services.issue_update(
                actor=developer,
                issue_id=issue.id,
                changes=IssueChanges.from_data(change),
            )
        )
        for change in changes
    ]
    outcomes, errors = run_at_once(*calls)
    assert errors == []
    kinds = Counter(type(o).__name__ for o, _ in outcomes)
    assert set(kinds) <= {"UpdateResult", "StoreUnavailable"}, kinds
    assert kinds["StoreUnavailable"], kinds
    slowest = max(seconds for _, seconds in outcomes)
    assert slowest < 0.3 + TINY_MARGIN, slowest
    for outcome, _ in outcomes:
        if isinstance(outcome, StoreUnavailable):
            assert outcome.headers["Retry-After"]
    # Every answered change is kept. (A refused one may have been written too,
    # when its commit outran the deadline: the outcome of a commit that timed out
    # is unknown, which the 503 says by inviting a retry.)
    ref = get_client().collection(ISSUES).document(issue.id)
    written = {
        (change["field"], change["newValue"])
        for row in ref.collection(ACTIVITIES).stream()
        for change in (row.to_dict() or {}).get("changes", [])
    }
    for outcome, _ in outcomes:
        if not isinstance(outcome, Exception):
            assert {(c.field, c.new_value) for c in outcome.activity.changes} <= written


@pytest.mark.django_db(transaction=True)
def test_under_contention_a_tiny_timeout_is_a_503_with_retry_after_in_the_api(
    firestore_db, developer, make_issue, slow_turns
):
    issue = make_issue(developer)
    clients = []
    for _ in range(20):
        client = Client()
        client.force_login(developer)
        clients.append(client)
    calls = [
        timed(
            lambda c=client, n=n: c.patch(
                f"/api/v1/issues/{issue.id}",
                json.dumps(change_of(n)),
                content_type="application/json",
            )
        )
        for n, client in enumerate(clients)
    ]
    outcomes, errors = run_at_once(*calls)
    assert errors == []
    statuses = Counter(response.status_code for response, _ in outcomes)
    assert set(statuses) <= {200, 503}, statuses
    assert statuses[503], statuses
    for response, _ in outcomes:
        if response.status_code == 503:
            assert response["Retry-After"]
            assert response.json()["code"] == "unavailable"
    slowest = max(seconds for _, seconds in outcomes)
    assert slowest < 0.3 + TINY_MARGIN, slowest


@pytest.mark.django_db(transaction=True)
def test_a_delete_among_concurrent_patches_takes_its_turn_within_the_timeout(
    firestore_db, developer, admin, make_issue
):
    """The move to the trash queues with the updates of the issue: no 503, the
    PATCHes before it kept, those after it 404, all within the deadline."""
    issue = make_issue(developer)
    people = [admin] + [developer] * 20
    clients = []
    for person in people:
        client = Client()
        client.force_login(person)
        clients.append(client)
    url = f"/api/v1/issues/{issue.id}"
    calls = [timed(lambda: clients[0].delete(url))] + [
        timed(
            lambda c=client, n=n: c.patch(
                url, json.dumps(change_of(n)), content_type="application/json"
            )
        )
        for n, client in enumerate(clients[1:])
    ]
    outcomes, errors = run_at_once(*calls)
    assert errors == []
    statuses = Counter(
        (response.request["REQUEST_METHOD"], response.status_code)
        for response, _ in outcomes
    )
    assert statuses[("DELETE", 204)] == 1, statuses
    assert set(statuses) <= {("DELETE", 204), ("PATCH", 200), ("PATCH", 404)}
    slowest = max(seconds for _, seconds in outcomes)
    assert slowest < settings.FIRESTORE_TIMEOUT + MARGIN, slowest
    trashed = get_client().collection("trash").document(issue.id).get().to_dict()
    assert trashed is not None
    assert trashed["version"] == 1 + statuses[("PATCH", 200)]
