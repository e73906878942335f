"""The REST API end to end (real emulator): the old app's contract, errors, roles."""

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from issues import services
from issues.domain import IssueChanges, Status

ISSUES = "/api/v1/issues"

# The Flask app's README examples, verbatim.
OLD_CREATE = {
    "title": "Error in workflow",
    "description": "Workflow failed at step X",
    "type": "bug",
    "priority": "high",
    "reporter_id": "user123",
    "assignee_id": "dev456",
    "tags": ["workflow", "error"],
}
OLD_UPDATE = {"status": "in-progress", "priority": "critical"}
OLD_COMMENT = {"content": "Fixed in commit abc123", "author_id": "dev456"}


def body(response: Any) -> Any:
    return json.loads(response.content)


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    data: dict[str, Any] = body(response)
    assert data["status"] == status
    assert data["error"] == data["detail"]
    return data


pytestmark = pytest.mark.usefixtures("store")


# --- the old app's contract -----------------------------------------------------------


def test_old_readme_flow_anonymously_in_compat_mode(api, settings):
    settings.ALLOW_ANONYMOUS_SERVICES = True
    created = api.post(ISSUES, OLD_CREATE)
    assert created.status_code == 201
    issue = body(created)
    assert {k: issue[k] for k in ("title", "status", "priority", "type")} == {
        "title": "Error in workflow",
        "status": "open",
        "priority": "high",
        "type": "bug",
    }
    assert issue["id"]

    read = api.get(f"{ISSUES}/{issue['id']}", HTTP_X_USER_ID="user123")
    assert read.status_code == 200
    shown = body(read)
    for key, value in {
        "id": issue["id"],
        "title": "Error in workflow",
        "description": "Workflow failed at step X",
        "status": "open",
        "priority": "high",
        "type": "bug",
        "reporterId": "user123",
        "assigneeId": "dev456",
        "tags": ["workflow", "error"],
    }.items():
        assert shown[key] == value
    assert shown["createdAt"].endswith("Z")
    assert shown["updatedAt"].endswith("Z")
    assert read["ETag"] == '"1"'

    updated = api.patch(f"{ISSUES}/{issue['id']}", OLD_UPDATE, HTTP_X_USER_ID="user123")
    assert updated.status_code == 200
    assert body(updated)["status"] == "in-progress"
    assert body(updated)["priority"] == "critical"

    # As in the old README, dev456 comments on user123's issue.
    own = issue
    comment = api.post(f"{ISSUES}/{own['id']}/comments", OLD_COMMENT)
    assert comment.status_code == 201
    assert body(comment)["content"] == "Fixed in commit abc123"
    assert body(comment)["authorId"] == "dev456"
    listed = api.get(f"{ISSUES}/{own['id']}/comments", HTTP_X_USER_ID="dev456")
    assert listed.status_code == 200
    comments = body(listed)["comments"]
    assert [c["content"] for c in comments] == ["Fixed in commit abc123"]
    assert set(comments[0]) == {
        "id",
        "issueId",
        "authorId",
        "content",
        "createdAt",
        "updatedAt",
    }
    assert body(listed)["next"] is None


def test_patch_activity_names_the_x_user_id_service(api, settings, developer):
    settings.ALLOW_ANONYMOUS_SERVICES = True
    issue = body(api.post(ISSUES, OLD_CREATE))
    api.patch(f"{ISSUES}/{issue['id']}", OLD_UPDATE, HTTP_X_USER_ID="user123")
    history = body(api.as_user(developer).get(f"{ISSUES}/{issue['id']}/activities"))[
        "activities"
    ]
    assert [a["type"] for a in history] == ["created", "status-changed"]
    assert history[1]["userId"] == "user123"
    assert {
        c["field"]: [c["oldValue"], c["newValue"]] for c in history[1]["changes"]
    } == {
        "status": ["open", "in-progress"],
        "priority": ["high", "critical"],
    }


def test_compat_mode_off_refuses_anonymous_callers(api, settings):
    settings.ALLOW_ANONYMOUS_SERVICES = False
    data = problem(api.post(ISSUES, OLD_CREATE), 401)
    assert data["code"] == "not_authenticated"
    problem(api.get(f"{ISSUES}/x", HTTP_X_USER_ID="user123"), 401)
    problem(api.patch(f"{ISSUES}/x", OLD_UPDATE, HTTP_X_USER_ID="user123"), 401)


def test_anonymous_list_and_delete_need_credentials_even_in_compat_mode(api, settings):
    settings.ALLOW_ANONYMOUS_SERVICES = True
    problem(api.get(ISSUES), 401)
    problem(api.delete(f"{ISSUES}/x"), 401)


def test_anonymous_callers_read_any_issue_and_its_history_in_compat_mode(
    api, settings, developer, make_issue
):
    settings.ALLOW_ANONYMOUS_SERVICES = True
    issue = make_issue(developer)
    assert api.get(f"{ISSUES}/{issue.id}").status_code == 200
    assert api.get(f"{ISSUES}/{issue.id}", HTTP_X_USER_ID="svc-a").status_code == 200
    history = api.get(f"{ISSUES}/{issue.id}/activities")
    assert [a["type"] for a in body(history)["activities"]] == ["created"]
    problem(api.get(f"{ISSUES}/missing-issue"), 404)


def test_anonymous_callers_change_only_status_and_priority(
    api, settings, developer, make_issue
):
    settings.ALLOW_ANONYMOUS_SERVICES = True
    issue = make_issue(developer)
    changed = api.patch(
        f"{ISSUES}/{issue.id}", {"priority": "low"}, HTTP_X_USER_ID="svc-a"
    )
    assert body(changed)["priority"] == "low"
    refused = problem(
        api.patch(f"{ISSUES}/{issue.id}", {"title": "New"}, HTTP_X_USER_ID="svc-a"),
        403,
    )
    assert "title" in refused["errors"]


def test_authenticated_caller_is_the_reporter_whatever_the_body_says(api, developer):
    report = {**OLD_CREATE, "assignee_id": developer.actor_id}
    issue = body(api.as_user(developer).post(ISSUES, report))
    assert issue["reporterId"] == developer.actor_id


def test_bearer_key_authenticates_a_service(api, service):
    from accounts.services.api_keys import api_key_create

    key = api_key_create(owner=service).key
    created = api.post(
        ISSUES,
        {"title": "t", "description": "d"},
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert created.status_code == 201
    assert body(created)["reporterId"] == service.actor_id
    assert body(created)["type"] == "task"
    assert body(created)["priority"] == "medium"
    assert body(created)["tags"] == []


def test_camel_case_keys_are_accepted(api, developer):
    created = api.as_user(developer).post(
        ISSUES, {"title": "t", "description": "d", "assigneeId": developer.actor_id}
    )
    assert body(created)["assigneeId"] == developer.actor_id


# --- errors ---------------------------------------------------------------------------


def test_malformed_json_is_400(api, developer):
    response = api.as_user(developer).client.post(
        ISSUES, "{not json", content_type="application/json"
    )
    assert problem(response, 400)["code"] == "malformed"


def test_wrong_content_type_is_415(api, developer):
    api.as_user(developer)
    response = api.client.post(ISSUES, {"title": "t", "description": "d"})
    assert problem(response, 415)["code"] == "unsupported_media_type"


def test_body_over_1_mib_is_413(api, developer):
    big = {"title": "t", "description": "x" * (1024 * 1024 + 1)}
    response = api.as_user(developer).post(ISSUES, big)
    assert problem(response, 413)["code"] == "too_large"


def test_unknown_fields_are_400_naming_them(api, developer):
    data = problem(
        api.as_user(developer).post(
            ISSUES, {"title": "t", "description": "d", "severity": "x"}
        ),
        400,
    )
    assert data["errors"] == {"severity": ["Unknown field."]}


def test_invalid_values_are_400_per_field(api, developer):
    data = problem(
        api.as_user(developer).post(
            ISSUES,
            {"title": "", "description": "d", "priority": "urgent", "tags": ["x" * 51]},
        ),
        400,
    )
    assert set(data["errors"]) == {"title", "priority", "tags.0"}
    assert "low, medium, high, critical" in data["errors"]["priority"][0]


def test_a_list_body_is_400(api, developer):
    problem(api.as_user(developer).post(ISSUES, ["x"]), 400)


def test_wrong_method_is_405(api, developer, make_issue):
    issue = make_issue(developer)
    api.as_user(developer)
    put = api.client.put(f"{ISSUES}/{issue.id}", {}, content_type="application/json")
    assert problem(put, 405)["code"] == "method_not_allowed"
    problem(api.delete(f"{ISSUES}/{issue.id}/comments"), 405)


def test_missing_issue_is_404(api, developer):
    api.as_user(developer)
    assert problem(api.get(f"{ISSUES}/nope"), 404)["code"] == "not_found"
    problem(api.get(f"{ISSUES}/nope/comments"), 404)
    problem(api.get(f"{ISSUES}/nope/activities"), 404)
    problem(api.patch(f"{ISSUES}/nope", {"title": "x"}), 404)


@pytest.mark.parametrize("bad_id", ["__x__", "____", ".", "..", "a.b", "x" * 129])
def test_ids_firestore_rejects_are_404_not_500(api, developer, bad_id):
    api.as_user(developer)
    path = f"{ISSUES}/{bad_id}"
    assert problem(api.get(path), 404)["code"] == "not_found"
    problem(api.patch(path, {"title": "x"}), 404)
    problem(api.post(f"{path}/comments", {"content": "hi"}), 404)
    problem(api.get(f"{path}/comments"), 404)
    problem(api.get(f"{path}/activities"), 404)


def test_ids_of_the_old_app_and_other_plausible_ids_still_route(api, developer):
    api.as_user(developer)
    # A Firestore auto-id (the Flask app's), and ids with `_` and `-`: absent, so
    # the view's 404, which names no endpoint (the unmatched-URL one does).
    for issue_id in ["AbCdEfGhIjKlMnOpQrSt", "a_b-c", "__x", "x" * 128]:
        data = problem(api.get(f"{ISSUES}/{issue_id}"), 404)
        assert "No API endpoint" not in data["detail"]


def test_forbidden_status_move_is_409(api, developer, make_issue):
    issue = make_issue(developer)
    url = f"{ISSUES}/{issue.id}"
    assert body(api.as_user(developer).patch(url, {"status": "closed"}))["status"]
    response = api.patch(url, {"status": "in-progress"})  # closed -> open only
    assert problem(response, 409)["code"] == "conflict"


def test_stale_if_match_is_412_and_writes_nothing(api, developer, make_issue):
    issue = make_issue(developer)
    url = f"{ISSUES}/{issue.id}"
    etag = api.as_user(developer).get(url)["ETag"]
    first = api.patch(url, {"title": "First"}, HTTP_IF_MATCH=etag)
    assert first.status_code == 200
    assert first["ETag"] == '"2"'
    stale = api.patch(url, {"title": "Second"}, HTTP_IF_MATCH=etag)
    assert problem(stale, 412)["code"] == "precondition_failed"
    assert body(api.get(url))["title"] == "First"
    assert len(body(api.get(f"{url}/activities"))["activities"]) == 2
    problem(api.patch(url, {"title": "x"}, HTTP_IF_MATCH="garbage"), 400)
    assert api.patch(url, {"title": "Any"}, HTTP_IF_MATCH="*").status_code == 200


def test_unassigning_with_null(api, developer, make_issue):
    issue = make_issue(developer, assignee_id=developer.actor_id)
    response = api.as_user(developer).patch(
        f"{ISSUES}/{issue.id}", {"assignee_id": None}
    )
    assert body(response)["assigneeId"] is None
    history = body(api.get(f"{ISSUES}/{issue.id}/activities"))["activities"]
    assert history[-1]["type"] == "assigned"
    assert history[-1]["changes"] == [
        {"field": "assigneeId", "oldValue": developer.actor_id, "newValue": None}
    ]


def test_tags_history_holds_lists(api, developer, make_issue):
    issue = make_issue(developer, tags=["a"])
    api.as_user(developer).patch(f"{ISSUES}/{issue.id}", {"tags": ["a", "b"]})
    history = body(api.get(f"{ISSUES}/{issue.id}/activities"))["activities"]
    assert history[-1]["changes"] == [
        {"field": "tags", "oldValue": ["a"], "newValue": ["a", "b"]}
    ]


def test_resolved_at_follows_the_status(api, developer, make_issue):
    issue = make_issue(developer)
    url = f"{ISSUES}/{issue.id}"
    api.as_user(developer).patch(url, {"status": "in-progress"})
    resolved = body(api.patch(url, {"status": "resolved"}))
    assert resolved["resolvedAt"] is not None
    reopened = body(api.patch(url, {"status": "open"}))
    assert reopened["resolvedAt"] is None


def test_admin_deletes_to_the_trash_keeping_comments_and_history(
    api, admin, make_issue, store
):
    issue = make_issue(admin)
    services.comment_add(actor=admin, issue_id=issue.id, content="c")
    response = api.as_user(admin).delete(f"{ISSUES}/{issue.id}")
    assert response.status_code == 204
    problem(api.get(f"{ISSUES}/{issue.id}"), 404)
    problem(api.get(f"{ISSUES}/{issue.id}/comments"), 404)
    problem(api.get(f"{ISSUES}/{issue.id}/activities"), 404)
    problem(api.delete(f"{ISSUES}/{issue.id}"), 404)
    assert store.collection("trash").document(issue.id).get().exists
    ref = store.collection("issues").document(issue.id)
    assert len(list(ref.collection("comments").stream())) == 1
    # the commented entry (the created one is derived from the issue)
    assert len(list(ref.collection("activities").stream())) == 1


# --- Firestore down -------------------------------------------------------------------


def test_firestore_down_is_503_with_retry_after_within_the_timeout(
    api, developer, admin, firestore_down
):
    calls: list[tuple[str, str, Any]] = [
        ("get", ISSUES, None),
        ("get", f"{ISSUES}/some-id", None),
        ("post", ISSUES, {"title": "t", "description": "d"}),
        ("patch", f"{ISSUES}/some-id", {"title": "x"}),
        ("post", f"{ISSUES}/some-id/comments", {"content": "x"}),
        ("get", f"{ISSUES}/some-id/comments", None),
        ("get", f"{ISSUES}/some-id/activities", None),
        ("delete", f"{ISSUES}/some-id", None),  # as admin: only they get this far
    ]
    for method, url, payload in calls:
        api.as_user(admin if method == "delete" else developer)
        started = time.monotonic()
        args = (url,) if payload is None else (url, payload)
        response = getattr(api, method)(*args)
        elapsed = time.monotonic() - started
        data = problem(response, 503)
        assert data["code"] == "unavailable"
        assert response["Retry-After"]
        assert elapsed < 3, elapsed


# --- roles: a negative test per rule --------------------------------------------------


def test_viewer_reads_but_may_not_create_comment_edit_or_delete(
    api, viewer, developer, make_issue
):
    issue = make_issue(developer)
    url = f"{ISSUES}/{issue.id}"
    api.as_user(viewer)
    assert api.get(url).status_code == 200
    assert api.get(ISSUES).status_code == 200
    assert api.get(f"{url}/comments").status_code == 200
    assert api.get(f"{url}/activities").status_code == 200
    problem(api.post(ISSUES, {"title": "t", "description": "d"}), 403)
    problem(api.post(f"{url}/comments", {"content": "x"}), 403)
    problem(api.patch(url, {"priority": "low"}), 403)
    problem(api.delete(url), 403)


def test_tester_only_closes_or_reopens_resolved_issues(
    api, tester, developer, make_issue
):
    issue = make_issue(developer)
    url = f"{ISSUES}/{issue.id}"
    api.as_user(tester)
    assert api.post(f"{url}/comments", {"content": "seen"}).status_code == 201
    assert api.post(ISSUES, {"title": "t", "description": "d"}).status_code == 201
    problem(api.patch(url, {"title": "x"}), 403)
    problem(api.patch(url, {"status": "in-progress"}), 403)
    problem(api.patch(url, {"assignee_id": "me"}), 403)
    for status in (Status.IN_PROGRESS, Status.RESOLVED):
        services.issue_update(
            actor=developer, issue_id=issue.id, changes=IssueChanges(status=status)
        )
    assert body(api.patch(url, {"status": "open"}))["status"] == "open"
    problem(api.delete(url), 403)


def test_developer_edits_anything_but_may_not_delete(api, developer, make_issue):
    other = make_issue(developer)
    api.as_user(developer)
    url = f"{ISSUES}/{other.id}"
    changes = {"title": "x", "assignee_id": developer.actor_id}
    assert api.patch(url, changes).status_code == 200
    problem(api.delete(url), 403)


def test_service_sees_and_edits_only_its_own_issues(
    api, service, developer, make_issue
):
    own = make_issue(service)
    staff = make_issue(developer)
    api.as_user(service)
    assert [i["id"] for i in body(api.get(ISSUES))["issues"]] == [own.id]
    url = f"{ISSUES}/{staff.id}"
    problem(api.get(url), 404)
    problem(api.get(f"{url}/comments"), 404)
    problem(api.get(f"{url}/activities"), 404)
    problem(api.post(f"{url}/comments", {"content": "x"}), 404)
    problem(api.patch(url, {"priority": "low"}), 404)
    own_url = f"{ISSUES}/{own.id}"
    assert api.patch(own_url, {"priority": "low"}).status_code == 200
    data = problem(api.patch(own_url, {"title": "renamed"}), 403)
    assert data["errors"] == {"title": ["Not editable by your role."]}
    problem(api.patch(own_url, {"assignee_id": "x"}), 403)
    problem(api.delete(own_url), 403)
    for status in ("in-progress", "resolved"):
        assert api.patch(own_url, {"status": status}).status_code == 200
    for status in ("closed", "open"):
        data = problem(api.patch(own_url, {"status": status}), 403)
        assert "status" in data["errors"]


# --- list: filters, sorts, search -----------------------------------------------------


@pytest.fixture
def catalogue(developer, tester, make_issue, make_user):
    """Five issues with distinct fields, created oldest first."""
    make_user(role="developer", username="ann")
    made = [
        make_issue(
            developer,
            title="Login fails",
            priority="low",
            type="bug",
            tags=["auth"],
            assignee_id="ann",
        ),
        make_issue(
            developer,
            title="Export to CSV",
            description="Café report",
            priority="critical",
            type="feature",
            tags=["export"],
        ),
        make_issue(
            tester,
            title="Slow dashboard",
            description="login page too",
            priority="high",
            type="task",
            tags=["perf", "auth"],
        ),
        make_issue(
            tester,
            title="Order timeout",
            description="order_id 42 lost",
            priority="medium",
            type="enhancement",
        ),
        make_issue(developer, title="Crash on logout", priority="high", type="bug"),
    ]
    # Testers may not assign, even on create: a developer does.
    services.issue_update(
        actor=developer, issue_id=made[3].id, changes=IssueChanges(assignee_id="ann")
    )
    services.issue_update(
        actor=developer,
        issue_id=made[0].id,
        changes=IssueChanges(status=Status.IN_PROGRESS),
    )
    return made


def titles(api: Any, query: str = "") -> list[str]:
    response = api.get(f"{ISSUES}?{query}")
    assert response.status_code == 200, response.content
    return [i["title"] for i in body(response)["issues"]]


def test_filters(api, developer, tester, catalogue):
    api.as_user(developer)
    assert titles(api, "status=in-progress") == ["Login fails"]
    assert titles(api, "priority=high") == ["Crash on logout", "Slow dashboard"]
    assert titles(api, "type=bug") == ["Crash on logout", "Login fails"]
    assert titles(api, "assignee=ann") == ["Order timeout", "Login fails"]
    assert titles(api, "assignee_id=ann&priority=low") == ["Login fails"]
    assert titles(api, f"reporter={tester.actor_id}") == [
        "Order timeout",
        "Slow dashboard",
    ]
    assert titles(api, "tag=auth") == ["Slow dashboard", "Login fails"]
    assert titles(api, "tag=auth&type=task") == ["Slow dashboard"]
    api.as_user(tester)
    services.issue_update(
        actor=developer,
        issue_id=catalogue[2].id,
        changes=IssueChanges(assignee_id=tester.actor_id),
    )
    assert titles(api, "assignee=me") == ["Slow dashboard"]


def test_reporter_me_is_the_caller_as_in_the_portal(api, developer, tester, catalogue):
    api.as_user(tester)
    assert titles(api, "reporter=me") == ["Order timeout", "Slow dashboard"]
    assert titles(api, "reporter_id=me&priority=high") == ["Slow dashboard"]
    api.as_user(developer)
    assert "Order timeout" not in titles(api, "reporter=me")


def test_created_range(api, developer, catalogue):
    api.as_user(developer)
    middle = catalogue[2].created_at
    after = middle.isoformat().replace("+00:00", "Z")
    assert titles(api, f"created_after={after}") == [
        "Crash on logout",
        "Order timeout",
        "Slow dashboard",
    ]
    assert titles(api, f"created_before={after}&sort=oldest") == [
        "Login fails",
        "Export to CSV",
    ]
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat().replace("+00:00", "Z")
    assert titles(api, f"created_after={future}") == []
    data = problem(api.get(f"{ISSUES}?created_after={after}&sort=updated"), 400)
    assert "sort" in data["errors"]


def test_sorts(api, developer, catalogue):
    api.as_user(developer)
    newest = titles(api)
    assert newest == [i.title for i in reversed(catalogue)]
    assert titles(api, "sort=oldest") == list(reversed(newest))
    assert titles(api, "sort=updated")[0] == "Login fails"
    assert titles(api, "sort=priority") == [
        "Export to CSV",
        "Crash on logout",
        "Slow dashboard",
        "Order timeout",
        "Login fails",
    ]


def test_search_matches_every_word_in_title_and_description(api, developer, catalogue):
    api.as_user(developer)
    assert titles(api, "q=login") == ["Slow dashboard", "Login fails"]
    assert titles(api, "q=LOGIN+fails") == ["Login fails"]
    assert titles(api, "q=cafe") == ["Export to CSV"]
    assert titles(api, "q=Caf%C3%A9+report") == ["Export to CSV"]
    assert titles(api, "q=order_id") == ["Order timeout"]
    assert titles(api, "q=log") == []  # whole words only
    assert titles(api, "q=login&tag=auth&priority=high") == ["Slow dashboard"]
    assert titles(api, "q=login&sort=priority") == ["Slow dashboard", "Login fails"]
    data = problem(api.get(f"{ISSUES}?q=aa+bb+cc+dd+ee+ff"), 400)
    assert list(data["errors"]) == ["q"]


def test_unknown_filter_values_are_400_naming_the_parameter_and_values(
    api, developer, store
):
    api.as_user(developer)
    for name, allowed in (
        ("status", "open, in-progress, resolved, closed"),
        ("priority", "low, medium, high, critical"),
        ("type", "bug, feature, task, enhancement"),
        ("sort", "newest, oldest, updated, priority"),
    ):
        data = problem(api.get(f"{ISSUES}?{name}=bogus"), 400)
        assert list(data["errors"]) == [name]
        assert allowed in data["errors"][name][0]
        assert name in data["error"]
    for query in (
        "limit=0",
        "limit=101",
        "limit=x",
        "colour=red",
        "cursor=zzz",
        "created_after=yesterday",
    ):
        data = problem(api.get(f"{ISSUES}?{query}"), 400)
        assert list(data["errors"]) == [query.split("=")[0]]


# --- pagination -----------------------------------------------------------------------


def test_pages_cover_250_issues_without_gaps_or_repeats_while_issues_are_added(
    api, developer, make_issue
):
    original = {make_issue(developer, title=f"Issue {n}").id for n in range(250)}
    api.as_user(developer)
    seen: list[str] = []
    url: str | None = f"{ISSUES}?limit=40"
    pages = 0
    while url:
        response = api.get(url)
        assert response.status_code == 200
        data = body(response)
        seen += [issue["id"] for issue in data["issues"]]
        url = data["next"]
        if url:
            assert response["Link"] == f'<{url}>; rel="next"'
        else:
            assert "Link" not in response
        pages += 1
        make_issue(developer, title=f"Added during page {pages}")
    assert len(seen) == len(set(seen))
    assert set(seen) == original
    assert pages == 7


def test_pages_with_a_filter_checked_row_by_row(api, developer, make_issue):
    wanted = {
        make_issue(developer, title=f"Disk full {n}", description="alpha beta").id
        for n in range(30)
    }
    for n in range(30):
        make_issue(developer, title=f"Other {n}", description="alpha gamma")
    api.as_user(developer)
    seen: list[str] = []
    url: str | None = f"{ISSUES}?q=alpha+beta&limit=7"
    while url:
        data = body(api.get(url))
        assert len(data["issues"]) <= 7
        seen += [issue["id"] for issue in data["issues"]]
        url = data["next"]
    assert sorted(seen) == sorted(wanted)


def test_a_cursor_belongs_to_its_query(api, developer, make_issue):
    for n in range(3):
        make_issue(developer, title=f"I{n}")
    api.as_user(developer)
    next_url = body(api.get(f"{ISSUES}?limit=1"))["next"]
    cursor = next_url.split("cursor=")[1]
    data = problem(api.get(f"{ISSUES}?limit=1&sort=oldest&cursor={cursor}"), 400)
    assert "cursor" in data["errors"]


def test_comment_pages(api, developer, make_issue):
    issue = make_issue(developer)
    for n in range(5):
        services.comment_add(actor=developer, issue_id=issue.id, content=f"c{n}")
    api.as_user(developer)
    first = body(api.get(f"{ISSUES}/{issue.id}/comments?limit=3"))
    second = body(api.get(first["next"]))
    assert [c["content"] for c in first["comments"] + second["comments"]] == [
        "c0",
        "c1",
        "c2",
        "c3",
        "c4",
    ]
    assert second["next"] is None


# --- documents the Flask app wrote ----------------------------------------------------


def test_old_format_documents_read_back(api, developer, store):
    issues = store.collection("issues")
    issues.document("old-iso").set(
        {
            "title": "Old one",
            "description": "From Flask",
            "status": "resolved",
            "priority": "high",
            "type": "bug",
            "reporter_id": "workflow-consumer",
            "assignee_id": "dev456",
            "tags": ["legacy"],
            "attachments": [
                {
                    "url": "https://x/y.png",
                    "name": "y.png",
                    "size": 3,
                    "uploadedAt": datetime(2024, 1, 1, tzinfo=UTC),
                }
            ],
            "createdAt": "2024-01-01T12:00:00Z",
            "updatedAt": "2024-01-02T12:00:00",
            "resolvedAt": "2024-01-02T12:00:00+00:00",
        }
    )
    issues.document("old-minimal").set(
        {
            "title": "Bare",
            "description": "Only the required fields",
            "reporterId": "user123",
            "createdAt": datetime(2024, 2, 1, tzinfo=UTC),
        }
    )
    issues.document("broken").set(
        {"title": "Broken", "status": "wontfix", "createdAt": datetime.now(UTC)}
    )
    old_ref = issues.document("old-iso")
    old_ref.collection("comments").document("c1").set(
        {
            "issue_id": "old-iso",
            "author_id": "dev456",
            "content": "old comment",
            "createdAt": datetime(2024, 1, 1, 13, tzinfo=UTC),
        }
    )
    old_ref.collection("activities").document("a1").set(
        {
            "type": "updated",
            "user_id": "dev456",
            "createdAt": "2024-01-01T13:00:00Z",
            "changes": [
                {"field": "tags", "oldValue": "['a']", "newValue": "['a', 'b']"}
            ],
        }
    )

    api.as_user(developer)
    old = body(api.get(f"{ISSUES}/old-iso"))
    assert old["reporterId"] == "workflow-consumer"
    assert old["assigneeId"] == "dev456"
    assert old["createdAt"] == "2024-01-01T12:00:00Z"
    assert old["updatedAt"] == "2024-01-02T12:00:00Z"
    assert old["attachments"][0]["uploadedAt"] == "2024-01-01T00:00:00+00:00"
    assert old["version"] == 0
    assert old["commentCount"] == 0
    bare = body(api.get(f"{ISSUES}/old-minimal"))
    assert (bare["status"], bare["priority"], bare["type"]) == (
        "open",
        "medium",
        "task",
    )
    assert bare["tags"] == []
    assert bare["assigneeId"] is None

    listed = {i["id"] for i in body(api.get(ISSUES))["issues"]}
    assert listed == {"old-iso", "old-minimal"}  # the broken one is skipped
    assert problem(api.get(f"{ISSUES}/broken"), 500)["code"] == "malformed_document"

    comments = body(api.get(f"{ISSUES}/old-iso/comments"))["comments"]
    assert comments[0]["authorId"] == "dev456"
    history = body(api.get(f"{ISSUES}/old-iso/activities"))["activities"]
    assert history[0]["userId"] == "dev456"

    # An update repairs what queries need: camelCase ids and real timestamps.
    updated = api.patch(f"{ISSUES}/old-iso", {"status": "closed"}, HTTP_IF_MATCH='"0"')
    assert updated.status_code == 200
    stored = issues.document("old-iso").get().to_dict()
    assert stored["reporterId"] == "workflow-consumer"
    assert isinstance(stored["createdAt"], datetime)
    assert stored["version"] == 1
    assert titles(api, "reporter=workflow-consumer") == ["Old one"]
    assert titles(api, "q=flask") == ["Old one"]


# --- schema, docs and the browsable API -----------------------------------------------


def test_openapi_schema_describes_the_endpoints_and_errors(client, db):
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = json.loads(response.content)
    paths = schema["paths"]
    assert set(paths) >= {
        "/api/v1/issues",
        "/api/v1/issues/{issue_id}",
        "/api/v1/issues/{issue_id}/comments",
        "/api/v1/issues/{issue_id}/activities",
    }
    patch = paths["/api/v1/issues/{issue_id}"]["patch"]
    assert {"200", "400", "403", "404", "409", "412", "503"} <= set(patch["responses"])
    assert "application/problem+json" in patch["responses"]["412"]["content"]
    params = {p["name"] for p in paths["/api/v1/issues"]["get"]["parameters"]}
    assert params >= {
        "status",
        "priority",
        "type",
        "assignee",
        "reporter",
        "tag",
        "q",
        "sort",
        "limit",
        "cursor",
        "created_after",
        "created_before",
    }
    assert "put" not in paths["/api/v1/issues/{issue_id}"]
    # IssuesConfig.ready registers the API key's scheme.
    bearer = schema["components"]["securitySchemes"]["bearerKey"]
    assert bearer == {
        "type": "http",
        "scheme": "bearer",
        "description": "An API key from `manage.py create_api_key`.",
    }


def test_the_issue_id_converter_is_registered_once_by_the_app_config():
    from django.apps import apps
    from django.urls.converters import get_converters

    from issues.converters import IssueIdConverter

    assert isinstance(get_converters()["issue_id"], IssueIdConverter)
    # Running ready() again registers nothing twice (that would be deprecated,
    # and the suite turns the warning into an error).
    apps.get_app_config("issues").ready()
    assert isinstance(get_converters()["issue_id"], IssueIdConverter)


def test_docs_are_served_from_local_files(client, db):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/" in html
    assert "<style>" not in html
    assert "cdn" not in html.lower()


def test_browsable_api_works_for_signed_in_staff(api, developer, make_issue):
    make_issue(developer)
    response = api.as_user(developer).get(ISSUES, HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert "text/html" in response["Content-Type"]
    assert b"Error in workflow" in response.content


def test_schema_generates_without_warnings_and_validates(db, tmp_path):
    from django.core.management import call_command

    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yml")
    )
