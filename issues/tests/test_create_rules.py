"""The role table at create, who may be an assignee, and service ids in
compatibility mode (issues 10 and 12), end to end against the emulator."""

from typing import Any

import pytest

from accounts.models import User
from accounts.roles import OLD_CONTRACT, Role
from accounts.services.api_keys import api_key_create
from issues import rules, services
from issues.domain import IssueChanges, NewIssue
from issues.selectors import issues as selectors
from issues.tests.test_api import ISSUES, body
from issuetracker.errors import Forbidden, InvalidInput

REPORT = {"title": "Checkout fails", "description": "500 on submit"}


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    data: dict[str, Any] = body(response)
    return data


# --- pure: the role table at create --------------------------------------------------


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.ADMIN, True),
        (Role.DEVELOPER, True),
        (Role.TESTER, False),
        (Role.VIEWER, False),
        (Role.SERVICE, False),
        (OLD_CONTRACT, True),
    ],
)
def test_who_may_set_an_assignee_on_create(role, allowed):
    rules.check_create(role, ["title", "priority", "tags"])  # CREATE covers these
    if allowed:
        rules.check_create(role, ["title", "assignee_id"])
        return
    with pytest.raises(Forbidden) as refused:
        rules.check_create(role, ["title", "assignee_id"])
    assert list(refused.value.errors) == ["assignee_id"]


# --- create: authenticated callers ---------------------------------------------------


@pytest.mark.usefixtures("store")
class TestAssigneeOnCreate:
    def test_a_tester_may_not_assign_on_create(self, api, tester, developer):
        api.as_user(tester)
        report = {**REPORT, "assignee_id": developer.actor_id}

        data = problem(api.post(ISSUES, report), 403)

        assert list(data["errors"]) == ["assignee_id"]
        api.as_user(developer)
        assert body(api.get(ISSUES))["issues"] == []

    def test_a_service_with_a_key_may_not_assign_on_create(
        self, api, service, developer
    ):
        key = api_key_create(owner=service).key
        report = {**REPORT, "assigneeId": developer.actor_id}

        response = api.post(ISSUES, report, HTTP_AUTHORIZATION=f"Bearer {key}")

        assert list(problem(response, 403)["errors"]) == ["assignee_id"]

    def test_a_tester_reports_without_an_assignee(self, api, tester):
        assert api.as_user(tester).post(ISSUES, REPORT).status_code == 201

    @pytest.mark.parametrize("assignee", ["dev456", "nobody@quantory.app", "x y"])
    def test_an_assignee_who_is_nobody_is_400(self, api, developer, assignee):
        report = {**REPORT, "assignee_id": assignee}

        data = problem(api.as_user(developer).post(ISSUES, report), 400)

        assert list(data["errors"]) == ["assignee_id"]
        assert "active staff member or an existing service" in data["error"]
        assert not User.objects.filter(username=assignee).exists()

    def test_an_inactive_staff_member_is_no_assignee(self, api, developer, make_user):
        gone = make_user(role=Role.DEVELOPER, is_active=False)
        report = {**REPORT, "assignee_id": gone.actor_id}

        problem(api.as_user(developer).post(ISSUES, report), 400)

    def test_staff_by_any_case_and_existing_services_are_stored_as_spelled(
        self, api, developer, make_user, service
    ):
        ada = make_user(role=Role.TESTER, username="ada@quantory.app")
        api.as_user(developer)

        by_email = api.post(ISSUES, {**REPORT, "assignee_id": "Ada@Quantory.App"})
        by_service = api.post(ISSUES, {**REPORT, "assignee_id": "Workflow-Consumer"})

        assert body(by_email)["assigneeId"] == ada.actor_id
        assert body(by_service)["assigneeId"] == service.actor_id

    def test_a_batch_answers_each_report_by_the_same_rules(
        self, api, tester, developer
    ):
        reports = [REPORT, {**REPORT, "assignee_id": developer.actor_id}]

        response = api.as_user(tester).post(f"{ISSUES}/batch", {"reports": reports})

        first, second = body(response)["results"]
        assert first["status"] == 201
        assert second["status"] == 403
        assert list(second["problem"]["errors"]) == ["assignee_id"]

    def test_the_service_layer_refuses_too(self, tester, developer):
        data = NewIssue(title="t", description="d", assignee_id=developer.actor_id)
        with pytest.raises(Forbidden):
            services.issue_report(actor=tester, data=data)
        with pytest.raises(InvalidInput):
            services.issue_report(
                actor=developer,
                data=NewIssue(title="t", description="d", assignee_id="ghost"),
            )


@pytest.mark.usefixtures("store")
class TestAssigneeOnPatch:
    def test_an_assignee_who_is_nobody_is_400(self, api, developer, make_issue):
        issue = make_issue(developer)

        response = api.as_user(developer).patch(
            f"{ISSUES}/{issue.id}", {"assignee_id": "ghost"}
        )

        assert list(problem(response, 400)["errors"]) == ["assignee_id"]
        assert selectors.issue_get(actor=developer, issue_id=issue.id).version == 1

    def test_an_issue_keeps_a_legacy_assignee_while_other_fields_change(
        self, api, developer, make_issue, store
    ):
        issue = make_issue(developer)
        store.collection("issues").document(issue.id).update({"assigneeId": "dev456"})

        response = api.as_user(developer).patch(
            f"{ISSUES}/{issue.id}", {"title": "Renamed", "assignee_id": "dev456"}
        )

        assert response.status_code == 200, response.content
        assert body(response)["assigneeId"] == "dev456"

    def test_a_tester_is_refused_before_the_assignee_is_judged(
        self, api, tester, developer, make_issue
    ):
        issue = make_issue(developer)
        response = api.as_user(tester).patch(
            f"{ISSUES}/{issue.id}", {"assignee_id": "ghost"}
        )
        problem(response, 403)

    def test_staff_named_in_another_case_is_stored_as_spelled(
        self, developer, make_issue
    ):
        issue = make_issue(developer)
        result = services.issue_update(
            actor=developer,
            issue_id=issue.id,
            changes=IssueChanges(assignee_id=developer.actor_id.upper()),
        )
        assert result.issue.assignee_id == developer.actor_id


# --- compatibility mode: service ids -------------------------------------------------


@pytest.fixture
def compat(settings, store):
    settings.ALLOW_ANONYMOUS_SERVICES = True


@pytest.mark.usefixtures("compat")
class TestServiceIds:
    @pytest.mark.parametrize(
        "service_id", ["\u0430dmin", "\uff41dmin", "dev1@quantory.app.", "bot@x.io"]
    )
    def test_a_look_alike_reporter_is_400_naming_the_field(self, api, service_id):
        data = problem(api.post(ISSUES, {**REPORT, "reporter_id": service_id}), 400)

        assert list(data["errors"]) == ["reporter_id"]
        assert "ASCII letters, digits" in data["errors"]["reporter_id"][0]
        assert not User.objects.exists()

    def test_look_alikes_are_400_in_every_field(self, api):
        issue = body(api.post(ISSUES, {**REPORT, "reporter_id": "svc-a"}))
        url = f"{ISSUES}/{issue['id']}"

        comment = {"content": "x", "author_id": "\u0430dmin"}
        assert list(problem(api.post(f"{url}/comments", comment), 400)["errors"]) == [
            "author_id"
        ]
        patch = api.patch(url, {"priority": "low"}, HTTP_X_USER_ID="\uff41dmin")
        assert list(problem(patch, 400)["errors"]) == ["X-User-Id"]
        read = api.get(url, HTTP_X_USER_ID="-dash")
        assert list(problem(read, 400)["errors"]) == ["X-User-Id"]
        assigned = {**REPORT, "reporter_id": "svc-a", "assignee_id": "dev1@q.app."}
        assert list(problem(api.post(ISSUES, assigned), 400)["errors"]) == [
            "assignee_id"
        ]
        assert list(User.objects.values_list("username", flat=True)) == ["svc-a"]

    def test_one_service_whatever_the_case(self, api):
        upper = body(api.post(ISSUES, {**REPORT, "reporter_id": "SVC-A"}))
        lower = body(api.post(ISSUES, {**REPORT, "reporter_id": "svc-a"}))

        assert upper["reporterId"] == lower["reporterId"] == "svc-a"
        assert list(User.objects.values_list("username", flat=True)) == ["svc-a"]
        read = api.get(f"{ISSUES}/{upper['id']}", HTTP_X_USER_ID="SVC-A")
        assert read.status_code == 200
        patch = api.patch(
            f"{ISSUES}/{upper['id']}", {"priority": "low"}, HTTP_X_USER_ID="SVC-A"
        )
        assert patch.status_code == 200

    def test_a_mixed_case_legacy_service_keeps_working(self, api, make_user):
        legacy = make_user(role=Role.SERVICE, username="Risk-Engine")

        created = body(api.post(ISSUES, {**REPORT, "reporter_id": "risk-engine"}))

        assert created["reporterId"] == legacy.actor_id
        read = api.get(f"{ISSUES}/{created['id']}", HTTP_X_USER_ID="RISK-ENGINE")
        assert read.status_code == 200
        assert User.objects.count() == 1

    def test_an_unknown_assignee_still_becomes_a_service_lower_cased(self, api):
        report = {**REPORT, "reporter_id": "user123", "assignee_id": "Dev456"}

        created = body(api.post(ISSUES, report))

        assert created["assigneeId"] == "dev456"
        assert User.objects.get(username="dev456").role == Role.SERVICE
