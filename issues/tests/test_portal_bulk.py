"""Bulk actions, saved views, similar issues and export on the portal's lists,
for each role, with each refusal (Django test client, Firestore emulator)."""

import csv
import io
import json
import re

import pytest

from issues import services
from issues.domain import Issue, IssueChanges, Priority, Resolution, Status
from issues.models import SavedView
from issues.tests.portal import HX, current, signed_in

pytestmark = pytest.mark.django_db


# --- bulk actions ------------------------------------------------------------------


def refs(*issues: Issue) -> list[str]:
    return [f"{issue.id}@{issue.version}" for issue in issues]


def test_bulk_with_allowed_refused_and_stale_issues(
    client, make_user, developer, make_issue, reports
):
    me = signed_in(client, make_user, "developer")
    target = make_issue(developer, title="The original")
    one, two, three = reports
    done = services.issue_update(
        actor=developer,
        issue_id=three.id,
        changes=IssueChanges(status=Status.CLOSED),
    ).issue
    stale = services.issue_update(
        actor=developer, issue_id=two.id, changes=IssueChanges(priority=Priority.LOW)
    )
    assert stale.issue.version != two.version
    response = client.post(
        "/issues/bulk/",
        {
            "ids": [*refs(one, two), f"{done.id}@{done.version}"],
            "action": "status",
            "status": "in-progress",
            "next": "/issues/?status=open",
        },
        follow=True,
    )
    page = response.content.decode()
    assert response.redirect_chain[-1][0] == "/issues/?status=open"
    messages = re.findall(r'<li class="message[^"]*">(.*?)</li>', page, re.S)
    assert "Changed 1 issue(s)." in messages, messages
    assert f"“{two.title}”" in page
    assert "someone changed it meanwhile" in page
    assert f"“{three.title}”" in page  # closed -> in progress: not a move
    assert current(me, one).status is Status.IN_PROGRESS
    assert current(me, two).status is Status.OPEN
    assert current(me, three).status is Status.CLOSED
    client.post(
        "/issues/bulk/",
        {"ids": [one.id, two.id], "action": "duplicate", "duplicate_of": target.id},
    )
    assert current(me, two).duplicate_of == target.id


def test_bulk_for_htmx_returns_the_changed_rows_out_of_band(client, make_user, reports):
    signed_in(client, make_user, "admin")
    response = client.post(
        "/issues/bulk/",
        {"ids": refs(*reports), "action": "priority", "priority": "low"},
        **HX,
    )
    page = response.content.decode()
    assert page.count('hx-swap-oob="true"') == 4  # the result and three rows
    assert "Changed 3 issues" in page


def test_bulk_tags_and_status_with_resolution(client, make_user, reports):
    me = signed_in(client, make_user, "developer")
    one, two, _ = reports
    client.post(
        "/issues/bulk/", {"ids": refs(one, two), "action": "tag-add", "tag": "fx"}
    )
    assert current(me, one).tags == ("fx",)
    client.post(
        "/issues/bulk/",
        {"ids": [one.id], "action": "tag-remove", "tag": "fx"},
    )
    assert current(me, one).tags == ()
    client.post(
        "/issues/bulk/",
        {
            "ids": [one.id, two.id],
            "action": "status",
            "status": "resolved",
            "resolution": "cannot-reproduce",
        },
    )
    assert current(me, two).resolution is Resolution.CANNOT_REPRODUCE


@pytest.mark.parametrize("role", ["tester", "viewer"])
def test_bulk_refusals_are_reported_by_title(client, make_user, reports, role):
    me = signed_in(client, make_user, role)
    response = client.post(
        "/issues/bulk/", {"ids": refs(*reports), "action": "take"}, follow=True
    )
    page = response.content.decode()
    assert all(f"“{issue.title}”" in page for issue in reports)
    assert all(current(me, issue).assignee_id is None for issue in reports)


def test_bulk_without_a_selection_changes_nothing(client, make_user, reports):
    signed_in(client, make_user, "developer")
    response = client.post("/issues/bulk/", {"action": "take"}, follow=True)
    assert "Select at least one issue" in response.content.decode()


def test_bulk_posts_count_against_the_write_rate(client, make_user, reports, settings):
    settings.PORTAL_WRITE_RATE = "1/m"
    signed_in(client, make_user, "developer")
    client.post("/issues/bulk/", {"ids": refs(reports[0]), "action": "raise"})
    second = client.post("/issues/bulk/", {"ids": refs(reports[1]), "action": "raise"})
    assert second.status_code == 429


def test_the_list_offers_checkboxes_to_editors_only(client, make_user, reports):
    signed_in(client, make_user, "developer")
    assert 'name="ids"' in client.get("/issues/").content.decode()
    client.force_login(make_user(role="viewer"))
    assert 'name="ids"' not in client.get("/issues/").content.decode()


# --- saved views ---------------------------------------------------------------------


def test_saved_views_are_per_person_unless_shared(client, make_user, store):
    ann = signed_in(client, make_user, "developer")
    client.post("/views/", {"name": "Mine open", "query": "?assignee=me&cursor=x"})
    client.post(
        "/views/", {"name": "Critical", "query": "priority=critical", "shared": "on"}
    )
    mine = SavedView.objects.get(name="Mine open")
    assert mine.query == "assignee=me"
    assert mine.owner == ann
    assert "Mine open" in client.get("/issues/").content.decode()
    signed_in(client, make_user, "viewer")
    page = client.get("/issues/").content.decode()
    assert "Critical" in page
    assert "Mine open" not in page
    # Another's view cannot be deleted.
    assert client.post(f"/views/{mine.pk}/delete/").status_code == 404


# --- similar issues ---------------------------------------------------------------


def test_similar_issues_share_words_open_first(client, make_user, developer, reports):
    signed_in(client, make_user, "developer")
    services.issue_update(
        actor=developer,
        issue_id=reports[0].id,
        changes=IssueChanges(status=Status.CLOSED),
    )
    page = client.get("/issues/similar/?title=quote+feed+beta").content.decode()
    assert page.index(reports[1].title) < page.index(reports[0].title)
    assert client.get("/issues/similar/?title=").content.strip() == b""


# --- export ---------------------------------------------------------------------------


@pytest.fixture
def many(service, make_issue, monkeypatch):
    """Seven issues and an export page of three, so the export spans pages."""
    monkeypatch.setattr("issues.views_export.PAGE_MAX", 3)
    monkeypatch.setattr("issues.export.PAGE_MAX", 3)
    return [make_issue(service, title=f"Ünïcode report {n}") for n in range(7)]


def body(response) -> str:
    return b"".join(response.streaming_content).decode("utf-8")


def test_csv_export_streams_every_page(client, make_user, many):
    signed_in(client, make_user, "viewer")
    response = client.get("/issues/export.csv?sort=oldest")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(body(response))))
    assert [row["title"] for row in rows] == [issue.title for issue in many]
    assert {row["id"] for row in rows} == {issue.id for issue in many}
    assert rows[0]["created_at"].endswith("+00:00")


def test_json_export_keeps_the_filters(client, make_user, many, developer):
    signed_in(client, make_user, "developer")
    services.issue_update(
        actor=developer, issue_id=many[0].id, changes=IssueChanges(status=Status.CLOSED)
    )
    data = json.loads(body(client.get("/issues/export.json?status=open")))
    assert len(data["issues"]) == 6
    assert many[0].id not in {row["id"] for row in data["issues"]}


def test_export_refuses_invalid_filters(client, make_user, store):
    signed_in(client, make_user, "developer")
    assert client.get("/issues/export.csv?status=nope").status_code == 400
