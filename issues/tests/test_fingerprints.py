"""Fingerprinted reports (real emulator): a reporter's unresolved issue with the
same fingerprint absorbs new reports as occurrences, race-free, without history
entries or counter moves; resolved and closed issues do not (regressions)."""

import json
import time
from typing import Any

import pytest
from google.cloud import firestore

from accounts.services.api_keys import api_key_create
from issues import services
from issues.domain import (
    ActivityType,
    CreateResult,
    IssueChanges,
    IssueCounts,
    IssueFilters,
    NewIssue,
    Priority,
    Status,
)
from issues.selectors import issues as selectors
from issues.store.documents import FINGERPRINTS, fingerprint_key
from issues.store.firestore import FirestoreIssueRepository
from issuetracker.errors import Forbidden
from issuetracker.testing import run_at_once

ISSUES = "/api/v1/issues"
CRASH = "order-router:KeyError:route.py:42"

pytestmark = pytest.mark.usefixtures("store")


def report(actor: Any, fingerprint: str | None = CRASH, **fields: Any) -> CreateResult:
    data = NewIssue(
        title=fields.pop("title", "KeyError in route"),
        description=fields.pop("description", "Traceback ..."),
        priority=Priority(fields.pop("priority", "high")),
        fingerprint=fingerprint,
    )
    assert not fields, f"unknown fields {fields}"
    return services.issue_report(actor=actor, data=data)


def stored_issues() -> list[Any]:
    repo = FirestoreIssueRepository()
    return repo.list_page(filters=IssueFilters(), limit=100, cursor=None).items


def history(actor: Any, issue_id: str) -> list[ActivityType]:
    page = selectors.activity_list(actor=actor, issue_id=issue_id)
    return [activity.type for activity in page.items]


def counts() -> IssueCounts:
    return FirestoreIssueRepository().counts()


def resolve(actor: Any, issue_id: str) -> None:
    for status in (Status.IN_PROGRESS, Status.RESOLVED):
        services.issue_update(
            actor=actor, issue_id=issue_id, changes=IssueChanges(status=status)
        )


# --- services -----------------------------------------------------------------------


def test_same_fingerprint_twice_is_one_issue_seen_twice(service):
    first = report(service)
    time.sleep(0.01)
    second = report(service, title="KeyError in route (again)", priority="low")
    assert first.created
    assert not second.created
    assert second.issue.id == first.issue.id
    assert second.issue.occurrence_count == 2
    [stored] = stored_issues()
    assert stored.id == first.issue.id
    assert stored.occurrence_count == 2
    assert stored.first_seen_at == first.issue.first_seen_at
    assert stored.last_seen_at == second.issue.last_seen_at
    assert stored.last_seen_at > first.issue.last_seen_at
    # An occurrence is not an edit: fields, updatedAt, version and history stay.
    assert stored.title == "KeyError in route"
    assert stored.priority is Priority.HIGH
    assert stored.updated_at == first.issue.updated_at
    assert stored.version == first.issue.version
    assert history(service, stored.id) == [ActivityType.CREATED]


def test_in_progress_issue_still_absorbs(service, developer):
    first = report(service)
    services.issue_update(
        actor=developer,
        issue_id=first.issue.id,
        changes=IssueChanges(status=Status.IN_PROGRESS),
    )
    again = report(service)
    assert not again.created
    assert again.issue.id == first.issue.id
    assert again.issue.status is Status.IN_PROGRESS


def test_different_reporters_with_one_fingerprint_get_one_issue_each(
    service, other_service
):
    mine, theirs = report(service), report(other_service)
    assert mine.created
    assert theirs.created
    assert mine.issue.id != theirs.issue.id
    assert report(service).issue.id == mine.issue.id
    assert report(other_service).issue.id == theirs.issue.id
    assert sorted(i.occurrence_count for i in stored_issues()) == [2, 2]


def test_different_fingerprints_are_different_issues(service):
    one, two = report(service, "a"), report(service, "b")
    assert one.created
    assert two.created
    assert len(stored_issues()) == 2


@pytest.mark.parametrize("closed", [False, True])
def test_resolved_or_closed_issue_does_not_absorb_a_regression(
    service, developer, closed
):
    old = report(service)
    report(service)
    resolve(developer, old.issue.id)
    if closed:
        services.issue_update(
            actor=developer,
            issue_id=old.issue.id,
            changes=IssueChanges(status=Status.CLOSED),
        )
    regression = report(service)
    assert regression.created
    assert regression.issue.id != old.issue.id
    assert regression.issue.occurrence_count == 1
    third = report(service)
    assert not third.created
    assert third.issue.id == regression.issue.id
    assert third.issue.occurrence_count == 2
    previous = selectors.issue_get(actor=developer, issue_id=old.issue.id)
    assert previous.occurrence_count == 2
    assert previous.status is (Status.CLOSED if closed else Status.RESOLVED)
    # Reopening the old issue does not take the fingerprint back: the newest
    # issue holds it while it is unresolved.
    services.issue_update(
        actor=developer, issue_id=old.issue.id, changes=IssueChanges(status=Status.OPEN)
    )
    assert report(service).issue.id == regression.issue.id


def test_reports_without_fingerprint_always_create(service):
    results = [report(service, None) for _ in range(3)]
    assert all(result.created for result in results)
    assert len({result.issue.id for result in results}) == 3
    assert all(i.occurrence_count == 1 for i in stored_issues())


def test_deleted_issue_lets_the_next_report_create_one(service, admin):
    first = report(service)
    services.issue_delete(actor=admin, issue_id=first.issue.id)
    again = report(service)
    assert again.created
    assert again.issue.id != first.issue.id
    assert report(service).issue.id == again.issue.id


def test_unreadable_holder_gives_way_to_a_new_issue(service, store, caplog):
    first = report(service)
    store.collection("issues").document(first.issue.id).update({"status": 7})
    again = report(service)
    assert again.created
    assert again.issue.id != first.issue.id
    assert "unreadable" in caplog.text


def test_issue_without_stored_count_gets_its_whole_count(service, store):
    first = report(service)
    store.collection("issues").document(first.issue.id).update(
        {"occurrenceCount": firestore.DELETE_FIELD}
    )
    again = report(service)
    assert not again.created
    assert again.issue.occurrence_count == 2
    assert stored_issues()[0].occurrence_count == 2


def test_the_lock_document_names_the_current_issue(service, store):
    first = report(service)
    key = fingerprint_key(service.actor_id, CRASH)
    lock = store.collection(FINGERPRINTS).document(key).get().to_dict()
    assert lock["issueId"] == first.issue.id
    assert lock["reporterId"] == service.actor_id
    assert lock["fingerprint"] == CRASH
    assert fingerprint_key("a", "b\0c") != fingerprint_key("a\0b", "c")


def test_concurrent_reports_end_as_one_issue(service):
    results, errors = run_at_once(*[lambda: report(service)] * 5)
    assert errors == []
    assert sum(result.created for result in results) == 1
    [stored] = stored_issues()
    assert stored.occurrence_count == 5
    assert sorted(r.issue.occurrence_count for r in results) == [1, 2, 3, 4, 5]
    assert {result.issue.id for result in results} == {stored.id}
    assert history(service, stored.id) == [ActivityType.CREATED]
    assert counts().total == 1


def test_concurrent_first_reports_of_two_reporters_stay_apart(service, other_service):
    results, errors = run_at_once(
        *[lambda: report(service)] * 2, *[lambda: report(other_service)] * 2
    )
    assert errors == []
    assert sum(result.created for result in results) == 2
    assert sorted(i.occurrence_count for i in stored_issues()) == [2, 2]


def test_absorbed_reports_move_no_counter(service, developer):
    report(service, priority="critical")
    before = counts()
    assert before.total == 1
    for _ in range(3):
        report(service, priority="low")
    assert counts() == before
    assert before.by_priority[Priority.CRITICAL] == 1
    assert before.by_status[Status.OPEN] == 1


def test_viewers_may_not_report_even_a_known_fingerprint(service, viewer):
    report(service)
    with pytest.raises(Forbidden):
        report(viewer)
    assert stored_issues()[0].occurrence_count == 1


def test_portal_create_answers_the_issue_that_absorbed(service):
    first = report(service)
    issue = services.issue_create(
        actor=service,
        data=NewIssue(title="t", description="d", fingerprint=CRASH),
    )
    assert issue.id == first.issue.id
    assert issue.occurrence_count == 2


# --- API ----------------------------------------------------------------------------


def test_api_answers_201_then_200_with_the_count(api, service):
    key = api_key_create(owner=service).key
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    body = {"title": "KeyError", "description": "Traceback", "fingerprint": CRASH}
    created = api.post(ISSUES, body, **auth)
    assert created.status_code == 201, created.content
    again = api.post(ISSUES, {**body, "title": "KeyError again"}, **auth)
    assert again.status_code == 200, again.content
    first, second = json.loads(created.content), json.loads(again.content)
    assert second["id"] == first["id"]
    assert second["title"] == "KeyError"
    assert (first["occurrenceCount"], second["occurrenceCount"]) == (1, 2)
    assert second["firstSeenAt"] == first["firstSeenAt"]
    assert second["lastSeenAt"] >= first["lastSeenAt"]
    assert second["updatedAt"] == first["updatedAt"]
    assert again["ETag"] == created["ETag"] == '"1"'
    without = api.post(ISSUES, {"title": "t", "description": "d"}, **auth)
    assert without.status_code == 201


def test_compat_mode_anonymous_reports_dedupe_per_reporter_id(api, settings):
    settings.ALLOW_ANONYMOUS_SERVICES = True
    body = {
        "title": "Error in workflow",
        "description": "Workflow failed at step X",
        "reporter_id": "workflow-consumer",
        "fingerprint": CRASH,
    }
    first = api.post(ISSUES, body)
    second = api.post(ISSUES, body)
    assert first.status_code == 201, first.content
    assert second.status_code == 200, second.content
    assert json.loads(second.content)["id"] == json.loads(first.content)["id"]
    assert json.loads(second.content)["occurrenceCount"] == 2
    other = api.post(ISSUES, {**body, "reporter_id": "data-enrich"})
    assert other.status_code == 201
    assert json.loads(other.content)["reporterId"] == "data-enrich"


def test_absorbed_reports_still_count_against_the_write_rate(api, service, settings):
    settings.API_WRITE_RATE = "2/m"
    auth = {"HTTP_AUTHORIZATION": f"Bearer {api_key_create(owner=service).key}"}
    body = {"title": "t", "description": "d", "fingerprint": CRASH}
    codes = [api.post(ISSUES, body, **auth).status_code for _ in range(3)]
    assert codes == [201, 200, 429]


def test_thirty_concurrent_reports_queue_instead_of_failing(service):
    results, errors = run_at_once(*[lambda: report(service)] * 30)
    assert errors == []
    assert sum(result.created for result in results) == 1
    [stored] = stored_issues()
    assert stored.occurrence_count == 30
