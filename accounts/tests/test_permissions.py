import pytest
from django.contrib.auth.models import AnonymousUser

from accounts.policy import require, user_can
from accounts.roles import Action, Role
from issuetracker.errors import Forbidden, NotAuthenticated

pytestmark = pytest.mark.django_db


def test_user_can_follows_the_role(make_user):
    developer = make_user(role=Role.DEVELOPER)
    viewer = make_user(role=Role.VIEWER)

    assert user_can(developer, Action.EDIT, owner_id="someone-else")
    assert not user_can(viewer, Action.CREATE)


def test_own_means_the_owner_id_is_the_users_actor_id(make_user):
    service = make_user(role=Role.SERVICE, username="workflow-consumer")

    assert user_can(service, Action.READ, owner_id="workflow-consumer")
    assert user_can(service, Action.EDIT, owner_id="workflow-consumer")
    assert not user_can(service, Action.READ, owner_id="other-service")
    assert not user_can(service, Action.EDIT, owner_id="Workflow-Consumer")
    assert not user_can(service, Action.READ)
    assert not user_can(service, Action.CLOSE_OR_REOPEN, owner_id="workflow-consumer")
    assert not user_can(service, Action.DELETE, owner_id="workflow-consumer")


@pytest.mark.parametrize("action", list(Action))
def test_anonymous_and_inactive_users_can_do_nothing(make_user, action):
    inactive_admin = make_user(role=Role.ADMIN, is_active=False)

    assert not user_can(AnonymousUser(), action)
    assert not user_can(None, action)
    assert not user_can(inactive_admin, action, owner_id=inactive_admin.actor_id)


def test_require_raises_not_authenticated_for_anonymous_and_inactive(make_user):
    with pytest.raises(NotAuthenticated):
        require(AnonymousUser(), Action.READ)
    with pytest.raises(NotAuthenticated):
        require(make_user(role=Role.ADMIN, is_active=False), Action.READ)


def test_require_raises_forbidden_when_the_role_forbids(make_user):
    tester = make_user(role=Role.TESTER)

    require(tester, Action.CLOSE_OR_REOPEN)
    with pytest.raises(Forbidden):
        require(tester, Action.EDIT, owner_id=tester.actor_id)


def test_require_lets_a_service_edit_its_own_issue_only(make_user):
    service = make_user(role=Role.SERVICE)

    require(service, Action.EDIT, owner_id=service.actor_id)
    with pytest.raises(Forbidden):
        require(service, Action.EDIT, owner_id="another-service")


@pytest.mark.urls("accounts.tests.urls")
class TestPermissionClasses:
    def test_default_refuses_anonymous_with_401(self, api_client):
        response = api_client.get("/whoami")

        assert response.status_code == 401
        assert response["WWW-Authenticate"] == 'Bearer realm="api"'

    @pytest.mark.parametrize("role", list(Role))
    def test_default_admits_every_active_role(self, api_client, make_user, role):
        user = make_user(role=role)
        api_client.force_authenticate(user)

        assert api_client.get("/whoami").json() == {"actor": user.actor_id}

    def test_role_check_answers_403_to_a_known_caller(self, api_client, make_user):
        api_client.force_authenticate(make_user(role=Role.DEVELOPER))

        assert api_client.delete("/delete").status_code == 403
        assert api_client.get("/manage").status_code == 403

    def test_role_check_admits_the_role_that_may(self, api_client, make_user):
        api_client.force_authenticate(make_user(role=Role.ADMIN))

        assert api_client.delete("/delete").status_code == 204
        assert api_client.get("/manage").status_code == 200

    def test_role_check_answers_401_to_anonymous(self, api_client):
        assert api_client.delete("/delete").status_code == 401

    def test_an_own_grant_covers_the_callers_own_issues_only(
        self, api_client, make_user
    ):
        service = make_user(role=Role.SERVICE)
        api_client.force_authenticate(service)

        own = api_client.patch("/edit", {"owner": service.actor_id}, format="json")
        other = api_client.patch("/edit", {"owner": "someone"}, format="json")

        assert own.status_code == 200
        assert other.status_code == 403
        assert other.json()["code"] == "forbidden"

    def test_viewer_is_stopped_at_the_edit_gate(self, api_client, make_user):
        api_client.force_authenticate(make_user(role=Role.VIEWER))

        assert api_client.patch("/edit", {}, format="json").status_code == 403
