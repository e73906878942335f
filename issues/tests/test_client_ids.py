"""Client-chosen issue ids: a create retried after a lost answer never makes a
second issue, and an id cannot be taken from another report."""

import json
from typing import Any

import pytest

from issues import services
from issues.domain import NewIssue
from issues.selectors import issues as selectors
from issuetracker.errors import Conflict
from issuetracker.testing import run_at_once

pytestmark = pytest.mark.usefixtures("store")

ISSUES = "/api/v1/issues"
CLIENT_ID = "svc-7Yq2LmXk9PzR4tWb8NcD"
REPORT = {
    "id": CLIENT_ID,
    "title": "Error in workflow",
    "description": "Workflow failed at step X",
    "type": "bug",
}


def body(response: Any) -> Any:
    return json.loads(response.content)


def history_of(actor, issue_id: str) -> list[str]:
    page = selectors.activity_list(actor=actor, issue_id=issue_id)
    return [activity.type for activity in page.items]


def test_the_chosen_id_names_the_issue(api, developer):
    created = api.as_user(developer).post(ISSUES, REPORT)
    assert created.status_code == 201
    assert body(created)["id"] == CLIENT_ID
    assert api.get(f"{ISSUES}/{CLIENT_ID}").status_code == 200


def test_a_repeat_by_the_same_caller_answers_200_and_writes_nothing(api, developer):
    api.as_user(developer).post(ISSUES, REPORT)
    before = selectors.issue_counts(actor=developer)

    again = api.post(ISSUES, {**REPORT, "priority": "critical"})

    assert again.status_code == 200
    assert body(again)["id"] == CLIENT_ID
    assert body(again)["priority"] == "medium"  # the stored issue, unchanged
    assert history_of(developer, CLIENT_ID) == ["created"]
    assert selectors.issue_counts(actor=developer) == before


def test_the_id_from_another_caller_is_409(api, developer, tester):
    api.as_user(developer).post(ISSUES, REPORT)
    refused = api.as_user(tester).post(ISSUES, REPORT)
    assert refused.status_code == 409
    assert body(refused)["code"] == "conflict"
    assert "id" in body(refused)["errors"]


def test_the_id_with_another_title_is_409(api, developer):
    api.as_user(developer).post(ISSUES, REPORT)
    refused = api.post(ISSUES, {**REPORT, "title": "Another failure"})
    assert refused.status_code == 409
    assert selectors.issue_get(actor=developer, issue_id=CLIENT_ID).title == (
        "Error in workflow"
    )


@pytest.mark.parametrize(
    "bad_id",
    [
        "short-id",
        "x" * 41,
        "has space in the middle ok",
        "slash/in/the/middle/of/it",
        "__reserved_by_firestore__",
        "ünïcode-is-not-allowed-here",
    ],
)
def test_ids_outside_the_pattern_are_400(api, developer, bad_id):
    refused = api.as_user(developer).post(ISSUES, {**REPORT, "id": bad_id})
    assert refused.status_code == 400
    assert "id" in body(refused)["errors"]


def test_50_concurrent_retries_of_one_id_end_as_one_issue(developer):
    data = NewIssue(title="Error in workflow", description="Step X", id=CLIENT_ID)
    results, errors = run_at_once(
        *[lambda: services.issue_report(actor=developer, data=data)] * 50
    )
    assert errors == []
    assert {result.issue.id for result in results} == {CLIENT_ID}
    assert sum(result.created for result in results) == 1
    assert sum(result.replayed for result in results) == 49
    assert history_of(developer, CLIENT_ID) == ["created"]
    assert selectors.issue_counts(actor=developer).total == 1


def test_a_retried_report_folded_into_an_issue_counts_once(developer):
    first = services.issue_report(
        actor=developer,
        data=NewIssue(title="Crash", description="Trace", fingerprint="crash-1"),
    )
    retried = NewIssue(
        title="Crash", description="Trace", fingerprint="crash-1", id=CLIENT_ID
    )

    folded = services.issue_report(actor=developer, data=retried)
    replayed = services.issue_report(actor=developer, data=retried)

    assert (folded.created, folded.replayed) == (False, False)
    assert (replayed.created, replayed.replayed) == (False, True)
    assert replayed.issue.id == first.issue.id
    stored = selectors.issue_get(actor=developer, issue_id=first.issue.id)
    assert stored.occurrence_count == 2


def test_a_fingerprinted_report_replayed_after_creating_answers_the_issue(developer):
    data = NewIssue(
        title="Crash", description="Trace", fingerprint="crash-2", id=CLIENT_ID
    )
    created = services.issue_report(actor=developer, data=data)
    replayed = services.issue_report(actor=developer, data=data)
    assert created.created
    assert replayed.replayed
    assert replayed.issue.id == CLIENT_ID
    assert replayed.issue.occurrence_count == 1


def test_another_callers_fingerprinted_report_cannot_take_the_id(developer, tester):
    data = NewIssue(
        title="Crash", description="Trace", fingerprint="crash-3", id=CLIENT_ID
    )
    services.issue_report(actor=developer, data=data)
    with pytest.raises(Conflict):
        services.issue_report(actor=tester, data=data)
