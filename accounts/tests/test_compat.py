import pytest
from django.contrib.auth.models import AnonymousUser

from accounts.models import User
from accounts.roles import Role
from accounts.services.compat import (
    actor_for_request,
    service_user_find,
    service_user_for,
)
from issuetracker.errors import Forbidden, InvalidInput, NotAuthenticated

pytestmark = pytest.mark.django_db


class TestServiceUserFor:
    def test_creates_a_service_with_a_display_name_from_the_id(self):
        user = service_user_for(service_id="workflow-consumer")

        assert user.username == "workflow-consumer"
        assert user.actor_id == "workflow-consumer"
        assert user.role == Role.SERVICE
        assert user.display_name == "Workflow Consumer"
        assert not user.is_staff
        assert not user.has_usable_password()

    def test_returns_the_same_user_on_later_calls(self):
        first = service_user_for(service_id="risk_engine.v2")

        assert service_user_for(service_id="risk_engine.v2") == first
        assert User.objects.count() == 1
        assert first.display_name == "Risk Engine V2"

    @pytest.mark.parametrize(
        "service_id",
        ["ada@quantory.app", "Ada@QUANTORY.APP", "bot@sub.quantory.app"],
    )
    def test_refuses_emails_on_an_allowed_domain(self, service_id):
        with pytest.raises(Forbidden):
            service_user_for(service_id=service_id)
        assert not User.objects.exists()

    def test_refuses_an_email_on_another_domain_too(self):
        with pytest.raises(InvalidInput) as refused:
            service_user_for(service_id="bot@example.com")
        assert "not an e-mail" in refused.value.message
        assert not User.objects.exists()

    @pytest.mark.parametrize(
        ("service_id", "field"),
        [
            ("\u0430dmin", "reporter_id"),  # Cyrillic small a
            ("\uff41dmin", "author_id"),  # fullwidth small a
            ("dev1@quantory.app.", "X-User-Id"),  # trailing dot: not staff's domain
            ("caf\u00e9-bot", "assignee_id"),
            ("-leading-dash", "reporter_id"),
            (".hidden", "reporter_id"),
        ],
    )
    def test_refuses_look_alikes_naming_the_field_and_rule(self, service_id, field):
        with pytest.raises(InvalidInput) as refused:
            service_user_for(service_id=service_id, field=field)
        assert list(refused.value.errors) == [field]
        assert "ASCII letters, digits" in refused.value.errors[field][0]
        assert not User.objects.exists()

    def test_one_service_whatever_the_letter_case(self):
        upper = service_user_for(service_id="SVC-A")
        lower = service_user_for(service_id="svc-a")

        assert upper == lower
        assert upper.username == "svc-a"
        assert upper.display_name == "Svc A"
        assert User.objects.count() == 1

    def test_a_mixed_case_legacy_service_keeps_its_spelling(self, make_user):
        legacy = make_user(role=Role.SERVICE, username="Risk-Engine")

        for spelling in ("Risk-Engine", "risk-engine", "RISK-ENGINE"):
            assert service_user_for(service_id=spelling) == legacy
            assert service_user_find(service_id=spelling) == legacy
        assert User.objects.count() == 1

    @pytest.mark.parametrize("role", [r for r in Role if r != Role.SERVICE])
    def test_refuses_the_name_of_a_non_service_user(self, make_user, role):
        make_user(role=role, username="Admin")

        with pytest.raises(Forbidden):
            service_user_for(service_id="Admin")
        with pytest.raises(Forbidden):
            service_user_for(service_id="admin")

    def test_refuses_a_deactivated_service(self, make_user):
        make_user(role=Role.SERVICE, username="old-bot", is_active=False)

        with pytest.raises(Forbidden):
            service_user_for(service_id="old-bot")

    @pytest.mark.parametrize("service_id", ["", "x" * 101, "has space", "semi;colon"])
    def test_refuses_malformed_ids(self, service_id):
        with pytest.raises(InvalidInput):
            service_user_for(service_id=service_id)

    def test_accepts_an_id_of_100_characters(self):
        assert service_user_for(service_id="x" * 100).username == "x" * 100


class TestActorForRequest:
    def test_an_authenticated_caller_is_the_actor_whatever_it_claims(self, make_user):
        developer = make_user(role=Role.DEVELOPER)

        actor = actor_for_request(user=developer, claimed_id="other-service")

        assert actor == developer
        assert not User.objects.filter(username="other-service").exists()

    def test_compat_on_makes_the_claimed_service_the_actor(self, settings):
        settings.ALLOW_ANONYMOUS_SERVICES = True

        actor = actor_for_request(user=AnonymousUser(), claimed_id="workflow-consumer")

        assert actor.username == "workflow-consumer"
        assert actor.role == Role.SERVICE

    def test_a_read_looks_the_service_up_and_creates_nothing(self, settings, make_user):
        settings.ALLOW_ANONYMOUS_SERVICES = True
        known = make_user(role=Role.SERVICE, username="known-bot")

        found = actor_for_request(
            user=AnonymousUser(), claimed_id="known-bot", create=False
        )
        unknown = actor_for_request(
            user=AnonymousUser(), claimed_id="new-bot", create=False
        )

        assert found == known
        assert unknown._state.adding  # never saved
        assert (unknown.actor_id, unknown.role) == ("new-bot", Role.SERVICE)
        assert not User.objects.filter(username="new-bot").exists()

    def test_a_read_refuses_what_a_write_refuses(self, make_user):
        make_user(role=Role.SERVICE, username="old-bot", is_active=False)
        make_user(role=Role.DEVELOPER, username="Admin")

        for service_id in ("old-bot", "Old-Bot", "admin", "ada@quantory.app"):
            with pytest.raises(Forbidden):
                service_user_find(service_id=service_id)
        with pytest.raises(InvalidInput):
            service_user_find(service_id="no spaces")
        with pytest.raises(InvalidInput) as refused:
            service_user_find(service_id="\u0430dmin")
        assert list(refused.value.errors) == ["X-User-Id"]

    def test_a_read_in_another_case_acts_as_the_service(self, settings):
        settings.ALLOW_ANONYMOUS_SERVICES = True
        written = actor_for_request(user=AnonymousUser(), claimed_id="svc-a")

        read = actor_for_request(user=AnonymousUser(), claimed_id="SVC-A", create=False)
        unknown = actor_for_request(
            user=AnonymousUser(), claimed_id="New-Bot", create=False
        )

        assert read == written
        assert unknown.actor_id == "new-bot"
        assert User.objects.count() == 1

    def test_compat_on_without_a_claimed_id_is_unauthenticated(self, settings):
        settings.ALLOW_ANONYMOUS_SERVICES = True

        with pytest.raises(NotAuthenticated):
            actor_for_request(user=AnonymousUser(), claimed_id=None)

    def test_compat_on_cannot_impersonate_staff(self, settings, make_user):
        settings.ALLOW_ANONYMOUS_SERVICES = True
        make_user(role=Role.ADMIN, username="boss@quantory.app")

        with pytest.raises(Forbidden):
            actor_for_request(user=None, claimed_id="boss@quantory.app")

    def test_compat_off_refuses_anonymous_callers(self, settings):
        settings.ALLOW_ANONYMOUS_SERVICES = False

        with pytest.raises(NotAuthenticated):
            actor_for_request(user=AnonymousUser(), claimed_id="workflow")
        assert not User.objects.exists()

    def test_an_inactive_user_is_not_an_actor(self, make_user):
        with pytest.raises(NotAuthenticated):
            actor_for_request(user=make_user(is_active=False), claimed_id=None)


@pytest.mark.urls("accounts.tests.urls")
class TestCompatibilityOverHttp:
    def test_on_anonymous_create_acts_as_the_named_service(self, api_client, settings):
        settings.ALLOW_ANONYMOUS_SERVICES = True

        response = api_client.post(
            "/compat", {"reporter_id": "workflow-consumer"}, format="json"
        )

        assert response.status_code == 201
        assert response.json() == {"actor": "workflow-consumer", "role": "service"}

    def test_on_a_staff_email_is_refused_with_403(self, api_client, settings):
        settings.ALLOW_ANONYMOUS_SERVICES = True

        response = api_client.post(
            "/compat", {"reporter_id": "ceo@quantory.app"}, format="json"
        )

        assert response.status_code == 403

    def test_off_anonymous_create_is_401(self, api_client, settings):
        settings.ALLOW_ANONYMOUS_SERVICES = False

        response = api_client.post(
            "/compat", {"reporter_id": "workflow-consumer"}, format="json"
        )

        assert response.status_code == 401
        assert not User.objects.exists()

    def test_a_key_holder_is_the_actor_not_the_named_service(
        self, api_client, settings, make_user, issue_key
    ):
        settings.ALLOW_ANONYMOUS_SERVICES = True
        bot = make_user(role=Role.SERVICE, username="ingest-bot")
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_key(bot)}")

        response = api_client.post("/compat", {"reporter_id": "spoofed"}, format="json")

        assert response.json()["actor"] == "ingest-bot"
        assert not User.objects.filter(username="spoofed").exists()

    def test_a_viewer_session_is_forbidden_to_create(self, api_client, make_user):
        api_client.force_authenticate(make_user(role=Role.VIEWER))

        assert api_client.post("/compat", {}, format="json").status_code == 403
