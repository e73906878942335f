"""What one create writes: the issue document alone for a routine report (its
`created` history entry derived from the issue, no outbox event when nobody can
be told), and histories that read the same for issues stored either way."""

from datetime import UTC, datetime
from typing import Any

import pytest
from django_tasks import task_backends
from django_tasks.backends.dummy import DummyBackend

from issues import services
from issues.domain import ActivityType, CreateResult, IssueChanges, NewIssue, Priority
from issues.selectors import issues as selectors
from issues.store.outbox import EVENTS

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _queued_tasks(settings):
    """Tasks wait in the dummy backend, so the outbox keeps what a create wrote
    and the queue shows what it was handed."""
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}
    }


def stored_activities(store, issue_id: str) -> list[dict[str, Any]]:
    ref = store.collection("issues").document(issue_id)
    return [row.to_dict() for row in ref.collection("activities").stream()]


def outbox_of(store, issue_id: str) -> list[dict[str, Any]]:
    rows = [row.to_dict() for row in store.collection(EVENTS).stream()]
    return [row for row in rows if row["issueId"] == issue_id]


def history(actor, issue_id: str, limit: int = 50) -> list[list[str]]:
    """Every page of an issue's history: the types and ids on each page."""
    pages, cursor = [], None
    while True:
        page = selectors.activity_list(
            actor=actor, issue_id=issue_id, limit=limit, cursor=cursor
        )
        pages.append([f"{a.type}:{a.id}" for a in page.items])
        cursor = page.next_cursor
        if cursor is None:
            return pages


def queued() -> list[Any]:
    """The tasks handed to the (dummy) queue."""
    backend = task_backends["default"]
    assert isinstance(backend, DummyBackend)
    return list(backend.results)


def report(actor, **fields) -> NewIssue:
    return NewIssue(
        title=fields.pop("title", "KeyError in place_order"),
        description=fields.pop("description", "Traceback ..."),
        **fields,
    )


def test_a_routine_report_stores_the_issue_alone(service, store):
    issue = services.issue_report(actor=service, data=report(service)).issue
    assert stored_activities(store, issue.id) == []
    assert outbox_of(store, issue.id) == []
    assert queued() == []  # nothing handed to the queue
    (created,) = selectors.activity_list(
        actor=service, issue_id=issue.id
    ).items  # derived from the issue
    assert created.type is ActivityType.CREATED
    assert created.user_id == service.actor_id
    assert created.created_at == issue.created_at


@pytest.mark.parametrize(
    "fields",
    [
        {"priority": Priority.CRITICAL},
        {"description": "ping @ada"},
    ],
    ids=["critical", "mention"],
)
def test_a_report_that_can_tell_someone_writes_its_outbox_event(service, store, fields):
    issue = services.issue_report(actor=service, data=report(service, **fields)).issue
    (event,) = outbox_of(store, issue.id)
    assert event["kind"] == "reported"
    assert [r.args for r in queued()] == [
        [next(iter(store.collection(EVENTS).list_documents())).id]
    ]


def test_an_assigned_report_writes_its_outbox_event(developer, store):
    data = report(developer, assignee_id=developer.actor_id)
    issue = services.issue_report(actor=developer, data=data).issue
    assert [e["kind"] for e in outbox_of(store, issue.id)] == ["reported"]


def test_batched_reports_store_one_document_each(service, store):
    results = services.issue_report_batch(
        reports=[(service, report(service, title=f"Report {n}"), 1) for n in range(3)]
    )
    for result in results:
        assert isinstance(result, CreateResult)
        assert stored_activities(store, result.issue.id) == []
        assert history(service, result.issue.id) == [["created:created"]]
    assert list(store.collection(EVENTS).stream()) == []


def test_the_derived_entry_pages_like_a_stored_one(developer, make_issue, store):
    issue = make_issue(developer)
    for n in range(3):
        services.issue_update(
            actor=developer,
            issue_id=issue.id,
            changes=IssueChanges(title=f"Title {n}"),
        )
    stored = [
        row.id
        for row in store.collection("issues")
        .document(issue.id)
        .collection("activities")
        .order_by("createdAt")
        .stream()
    ]
    updates = [f"updated:{each}" for each in stored]
    assert history(developer, issue.id) == [["created:created", *updates]]
    assert history(developer, issue.id, limit=2) == [
        ["created:created", updates[0]],
        updates[1:],
    ]
    assert history(developer, issue.id, limit=1) == [
        ["created:created"],
        *[[each] for each in updates],
    ]


def test_an_issue_with_its_created_entry_stored_reads_it_once(developer, store):
    """Issues created before the entry was derived, and the Flask app's."""
    created = datetime(2025, 1, 1, tzinfo=UTC)
    ref = store.collection("issues").document("stored-entry")
    ref.set(
        {
            "title": "Old",
            "description": "",
            "status": "open",
            "reporterId": developer.actor_id,
            "createdAt": created,
        }
    )
    ref.collection("activities").document("a1").set(
        {"type": "created", "userId": developer.actor_id, "createdAt": created}
    )
    assert history(developer, "stored-entry") == [["created:a1"]]
    ref.collection("activities").document("a1").delete()
    assert history(developer, "stored-entry") == [[]]  # as the Flask app left it
