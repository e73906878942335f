"""The notifications API and portal pages: each person sees only their own."""

import pytest

from issues import services
from issues.domain import IssueChanges
from issues.store import get_issue_repository

pytestmark = pytest.mark.django_db


@pytest.fixture
def told(staff, make_issue):
    """Bob assigned to two issues by Ada: two notifications for Bob."""
    ada, bob = staff("ada"), staff("bob")
    for title in ("First", "Second"):
        issue = make_issue(ada, title=title)
        services.issue_update(
            actor=ada,
            issue_id=issue.id,
            changes=IssueChanges(assignee_id=bob.actor_id),
        )
    return ada, bob


def test_list_newest_first_with_cursor_pages(api, told):
    _, bob = told
    response = api.as_user(bob).get("/api/v1/notifications?limit=1")
    assert response.status_code == 200
    body = response.json()
    [first] = body["notifications"]
    assert set(first) >= {"id", "userId", "type", "issueId", "message", "read"}
    assert first["type"] == "assigned"
    assert "Second" in first["message"]
    assert body["next"]
    assert response["Link"]
    second = api.get(body["next"]).json()
    assert "First" in second["notifications"][0]["message"]
    assert second["next"] is None


def test_read_one_then_all_and_the_unread_filter(api, told):
    _, bob = told
    api.as_user(bob)
    items = api.get("/api/v1/notifications").json()["notifications"]
    assert api.post(f"/api/v1/notifications/{items[0]['id']}/read", {}).status_code == (
        204
    )
    unread = api.get("/api/v1/notifications?unread=true").json()["notifications"]
    assert [n["id"] for n in unread] == [items[1]["id"]]
    assert api.post("/api/v1/notifications/read-all", {}).json() == {"marked": 1}
    assert api.get("/api/v1/notifications?unread=true").json()["notifications"] == []


def test_another_persons_notification_is_404(api, told):
    ada, bob = told
    bobs = api.as_user(bob).get("/api/v1/notifications").json()["notifications"]
    response = api.as_user(ada).post(f"/api/v1/notifications/{bobs[0]['id']}/read", {})
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/problem+json")
    assert api.get("/api/v1/notifications").json()["notifications"] == []


def test_anonymous_callers_get_401(api, store):
    assert api.get("/api/v1/notifications").status_code == 401


def test_watch_and_unwatch_through_the_api(api, staff, make_issue):
    ada, bob = staff("ada"), staff("bob")
    issue = make_issue(ada)
    api.as_user(bob)
    assert api.post(f"/api/v1/issues/{issue.id}/watch", {}).json() == {"watching": True}
    stored = get_issue_repository().get(issue.id)
    assert stored is not None
    assert bob.actor_id in stored.watcher_ids
    assert api.delete(f"/api/v1/issues/{issue.id}/watch").json() == {"watching": False}
    assert api.post("/api/v1/issues/missing/watch", {}).status_code == 404


@pytest.mark.parametrize("role", ["admin", "developer", "tester", "viewer"])
def test_badge_and_inbox_for_every_role(client, make_user, staff, make_issue, role):
    ada = staff("ada")
    person = make_user(role=role)
    issue = make_issue(ada, description=f"cc @{person.email.split('@')[0]}")
    client.force_login(person)
    page = client.get("/issues/").content.decode()
    assert 'data-testid="unread-badge">1' in page
    inbox = client.get("/notifications/").content.decode()
    assert "mentioned you" in inbox
    assert "unread" in inbox
    assert issue.id in inbox


def test_inbox_mark_read_and_all_read(client, told):
    _, bob = told
    client.force_login(bob)
    from notifications.services import notification_list

    first = notification_list(user=bob, cursor=None).items[0]
    response = client.post(f"/notifications/{first.id}/read/")
    assert response.status_code == 302
    assert (
        'data-testid="unread-badge">1' in client.get("/notifications/").content.decode()
    )
    client.post("/notifications/read-all/")
    assert "unread-badge" not in client.get("/notifications/").content.decode()


def test_settings_page_saves_choices(client, staff):
    bob = staff("bob")
    client.force_login(bob)
    assert client.get("/notifications/settings/").status_code == 200
    data = {
        "email_assigned": "digest",
        "email_mentioned": "off",
        "email_status_changed": "digest",
        "email_commented": "off",
        "email_critical": "immediate",
        "email_occurred": "off",
        "critical_issues": "on",
    }
    assert client.post("/notifications/settings/", data).status_code == 302
    bob.notification_settings.refresh_from_db()
    assert bob.notification_settings.email_assigned == "digest"
    assert bob.notification_settings.critical_issues is True


def test_watch_button_on_the_issue_page(client, staff, make_issue):
    ada, bob = staff("ada"), staff("bob")
    issue = make_issue(ada)
    client.force_login(bob)
    page = client.get(f"/issues/{issue.id}/").content.decode()
    assert 'data-testid="watch"' in page
    client.post(f"/notifications/watch/{issue.id}/", {"watching": "1"})
    page = client.get(f"/issues/{issue.id}/").content.decode()
    assert 'data-testid="unwatch"' in page
