"""The old Flask app's README, verbatim, against the live tracker in compatibility mode.

Its REST examples and its client's three calls are the contract the platform's
services are written against (../shared/old-app/README.md): each block below is
copied from it, `//` comments included, and sent as a caller copying it would.
"""

import http.client
import json
import re
from typing import Any
from urllib.parse import urlsplit

import pytest

from accounts.models import User
from accounts.roles import Role

pytestmark = pytest.mark.django_db(transaction=True)

# "Create Issue" in the old README, verbatim.
CREATE_EXAMPLE = """{
  "title": "Error in workflow",
  "description": "Workflow failed at step X",
  "type": "bug",
  "priority": "high",
  "reporter_id": "user123",
  "assignee_id": "dev456",  // optional
  "tags": ["workflow", "error"]  // optional
}"""
# "Update Issue" (sent with `X-User-Id: user123`).
UPDATE_EXAMPLE = """{
  "status": "in-progress",
  "priority": "critical"
}"""
# "Add Comment".
COMMENT_EXAMPLE = """{
  "content": "Fixed in commit abc123",
  "author_id": "dev456"
}"""
# "Get Issue": the keys of the answer.
GET_KEYS = {
    "id",
    "title",
    "description",
    "status",
    "priority",
    "type",
    "reporterId",
    "assigneeId",
    "tags",
    "createdAt",
    "updatedAt",
}


def example(text: str) -> str:
    """The example as a caller sends it: the README's `//` remarks left out."""
    return re.sub(r"\s*//[^\n]*", "", text)


class OldCaller:
    """An anonymous HTTP caller of the live tracker, as the old app's services are."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "", parts.port or 80

    def call(
        self, method: str, path: str, body: str | None = None, **headers: str
    ) -> tuple[int, Any]:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=10)
        sent = {"Content-Type": "application/json"} if body is not None else {}
        sent.update({name.replace("_", "-"): value for name, value in headers.items()})
        try:
            connection.request(method, path, body=body, headers=sent)
            answer = connection.getresponse()
            raw = answer.read()
        finally:
            connection.close()
        return answer.status, json.loads(raw) if raw else None


@pytest.fixture
def old_caller(live_server, firestore_db, settings) -> OldCaller:
    settings.ALLOW_ANONYMOUS_SERVICES = True
    settings.API_WRITE_RATE = "1000/m"
    return OldCaller(live_server.url)


def test_every_rest_example_of_the_old_readme_works_unchanged(old_caller):
    status, health = old_caller.call("GET", "/api/health")
    assert (status, health["status"]) == (200, "healthy")

    status, created = old_caller.call("POST", "/api/v1/issues", example(CREATE_EXAMPLE))
    assert status == 201
    assert {k: created[k] for k in ("title", "status", "priority", "type")} == {
        "title": "Error in workflow",
        "status": "open",
        "priority": "high",
        "type": "bug",
    }
    issue = f"/api/v1/issues/{created['id']}"

    status, shown = old_caller.call("GET", issue)
    assert status == 200
    assert set(shown) >= GET_KEYS
    assert (shown["reporterId"], shown["assigneeId"]) == ("user123", "dev456")
    assert shown["tags"] == ["workflow", "error"]

    status, updated = old_caller.call(
        "PATCH", issue, example(UPDATE_EXAMPLE), X_User_Id="user123"
    )
    assert status == 200
    assert (updated["status"], updated["priority"]) == ("in-progress", "critical")

    # dev456 comments on user123's issue, as in the README.
    status, comment = old_caller.call(
        "POST", f"{issue}/comments", example(COMMENT_EXAMPLE)
    )
    assert status == 201
    assert (comment["authorId"], comment["content"]) == (
        "dev456",
        "Fixed in commit abc123",
    )

    status, listed = old_caller.call("GET", f"{issue}/comments")
    assert status == 200
    assert [c["content"] for c in listed["comments"]] == ["Fixed in commit abc123"]

    status, history = old_caller.call("GET", f"{issue}/activities")
    assert status == 200
    assert [a["type"] for a in history["activities"]] == [
        "created",
        "status-changed",
        "commented",
    ]
    assert history["activities"][1]["userId"] == "user123"


def test_unknown_assignee_becomes_a_service_user_as_in_the_old_app(old_caller):
    status, _ = old_caller.call("POST", "/api/v1/issues", example(CREATE_EXAMPLE))
    assert status == 201
    assert User.objects.get(username="dev456").role == Role.SERVICE


def test_patch_without_x_user_id_acts_as_the_issues_reporter(old_caller):
    _, created = old_caller.call("POST", "/api/v1/issues", example(CREATE_EXAMPLE))
    issue = f"/api/v1/issues/{created['id']}"

    status, resolved = old_caller.call("PATCH", issue, '{"status": "resolved"}')
    assert (status, resolved["status"], resolved["resolution"]) == (
        200,
        "resolved",
        "fixed",
    )
    _, history = old_caller.call("GET", f"{issue}/activities")
    assert history["activities"][-1]["userId"] == "user123"


def test_staff_ids_stay_refused_and_the_list_stays_authenticated(old_caller, make_user):
    staff = make_user(role="developer")
    body = example(CREATE_EXAMPLE).replace('"user123"', json.dumps(staff.username))
    status, refused = old_caller.call("POST", "/api/v1/issues", body)
    assert (status, refused["code"]) == (403, "forbidden")

    _, created = old_caller.call("POST", "/api/v1/issues", example(CREATE_EXAMPLE))
    status, _ = old_caller.call(
        "PATCH",
        f"/api/v1/issues/{created['id']}",
        example(UPDATE_EXAMPLE),
        X_User_Id=staff.username,
    )
    assert status == 403

    status, listed = old_caller.call("GET", "/api/v1/issues")
    assert (status, listed["code"]) == (401, "not_authenticated")


def test_an_issue_a_staff_member_reported_is_not_changed_anonymously(
    old_caller, make_user
):
    from issues import services
    from issues.domain import NewIssue

    staff = make_user(role="developer")
    issue = services.issue_create(
        actor=staff, data=NewIssue(title="Staff's", description="Own issue")
    )
    status, refused = old_caller.call(
        "PATCH", f"/api/v1/issues/{issue.id}", '{"status": "resolved"}'
    )
    assert (status, refused["code"]) == (403, "forbidden")


def test_compatibility_mode_off_answers_401_to_the_old_calls(old_caller, settings):
    _, created = old_caller.call("POST", "/api/v1/issues", example(CREATE_EXAMPLE))
    settings.ALLOW_ANONYMOUS_SERVICES = False
    for method, path, body in [
        ("GET", f"/api/v1/issues/{created['id']}", None),
        ("GET", f"/api/v1/issues/{created['id']}/comments", None),
        ("GET", f"/api/v1/issues/{created['id']}/activities", None),
        ("POST", "/api/v1/issues", example(CREATE_EXAMPLE)),
    ]:
        status, refused = old_caller.call(method, path, body)
        assert (status, refused["code"]) == (401, "not_authenticated"), path


def test_a_method_an_endpoint_lacks_is_405_whoever_calls(old_caller, settings):
    for allowed in (True, False):
        settings.ALLOW_ANONYMOUS_SERVICES = allowed
        status, refused = old_caller.call("PUT", "/api/v1/issues/some-id", "{}")
        assert (status, refused["code"]) == (405, "method_not_allowed")
        status, refused = old_caller.call("DELETE", "/api/v1/issues")
        assert (status, refused["code"]) == (405, "method_not_allowed")
