"""People on the portal's pages by name, the id on hover, looked up once a page;
the assignee field offers and takes active staff only (issue 10, point 6)."""

import re
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.roles import Role
from issues import services
from issues.domain import IssueChanges, IssueFilters
from issues.selectors import issues as selectors

pytestmark = pytest.mark.usefixtures("store")


def html(response: Any) -> str:
    assert response.status_code in {200, 400}, response.status_code
    return str(response.content.decode())


@pytest.fixture
def ada(make_user):
    return make_user(
        role=Role.DEVELOPER, username="ada@quantory.app", display_name="Ada Lovelace"
    )


@pytest.fixture
def signed_in(client, ada):
    client.force_login(ada)
    return ada


def person(name: str, user_id: str) -> str:
    return f'<span class="person" title="{user_id}">{name}</span>'


def test_the_list_names_reporters_and_assignees(
    client, signed_in, service, make_user, make_issue
):
    bob = make_user(
        role=Role.TESTER, username="bob@quantory.app", email="bob@quantory.app"
    )
    reported = make_issue(service, title="From a service")
    services.issue_update(
        actor=signed_in,
        issue_id=reported.id,
        changes=IssueChanges(assignee_id=bob.actor_id),
    )

    page = html(client.get("/issues/"))

    assert person("Workflow Consumer", "workflow-consumer") in page
    assert person("bob@quantory.app", "bob@quantory.app") in page  # no name: e-mail
    assert ">workflow-consumer<" not in page


def queries(client: Any, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def test_the_list_looks_people_up_once_whatever_their_number(
    client, signed_in, make_user, make_issue
):
    first = make_user(role=Role.SERVICE, username="svc-0")
    make_issue(first, title="one")
    few = queries(client, "/issues/")
    for n in range(1, 6):
        make_issue(make_user(role=Role.SERVICE, username=f"svc-{n}"), title=f"{n}")

    assert queries(client, "/issues/") == few


def test_the_issue_page_names_everyone_in_one_look_up(
    client, signed_in, service, make_user, make_issue
):
    issue = make_issue(service)
    services.issue_update(
        actor=signed_in,
        issue_id=issue.id,
        changes=IssueChanges(assignee_id=signed_in.actor_id),
    )
    url = f"/issues/{issue.id}/"
    before = queries(client, url)
    for n in range(3):
        author = make_user(
            role=Role.DEVELOPER,
            username=f"dev{n}@quantory.app",
            display_name=f"Dev {n}",
        )
        services.comment_add(actor=author, issue_id=issue.id, content=f"c{n}")

    page = html(client.get(url))

    assert page.count(person("Workflow Consumer", "workflow-consumer")) >= 2
    assert person("Dev 2", "dev2@quantory.app") in page
    assert f"assignee: nobody → {person('Ada Lovelace', 'ada@quantory.app')}" in page
    assert queries(client, url) == before


def options(page: str, name: str) -> list[str]:
    select = re.search(rf'<select name="{name}".*?</select>', page, re.S)
    assert select, f"no select {name}"
    return re.findall(r'<option value="([^"]*)"', select.group(0))


def test_the_new_issue_form_offers_active_staff_by_name(
    client, signed_in, make_user, service
):
    make_user(role=Role.VIEWER, username="gone@quantory.app", is_active=False)
    make_user(role=Role.TESTER, username="bob@quantory.app")

    page = html(client.get("/issues/new/"))

    assert options(page, "assignee_id") == ["", "ada@quantory.app", "bob@quantory.app"]
    assert '<option value="ada@quantory.app">Ada Lovelace</option>' in page


@pytest.mark.parametrize("assignee", ["workflow-consumer", "gone@quantory.app", "zz"])
def test_the_new_issue_form_takes_active_staff_only(
    client, signed_in, make_user, service, assignee
):
    make_user(role=Role.VIEWER, username="gone@quantory.app", is_active=False)

    response = client.post(
        "/issues/new/",
        {
            "title": "t",
            "description": "d",
            "type": "bug",
            "priority": "low",
            "assignee_id": assignee,
        },
    )

    assert response.status_code == 400
    assert "Choose an active staff member from the list" in html(response)
    assert (
        selectors.issue_list(actor=signed_in, filters=IssueFilters(), limit=10).items
        == []
    )


def test_a_tester_is_offered_no_assignee_and_cannot_forge_one(client, make_user, ada):
    tester = make_user(role=Role.TESTER)
    client.force_login(tester)
    assert 'name="assignee_id"' not in html(client.get("/issues/new/"))

    response = client.post(
        "/issues/new/",
        {
            "title": "t",
            "description": "d",
            "type": "bug",
            "priority": "low",
            "assignee_id": ada.actor_id,
        },
    )

    assert response.status_code == 302
    (issue,) = selectors.issue_list(
        actor=tester, filters=IssueFilters(), limit=10
    ).items
    assert issue.assignee_id is None


def test_the_edit_form_keeps_an_assignee_who_is_not_staff(
    client, signed_in, make_issue, store
):
    issue = make_issue(signed_in)
    store.collection("issues").document(issue.id).update({"assigneeId": "dev456"})

    page = html(client.get(f"/issues/{issue.id}/"))

    assert options(page, "edit-assignee_id")[:3] == ["", "dev456", "ada@quantory.app"]
    assert '<option value="dev456" selected>Dev456 (now)</option>' in page
