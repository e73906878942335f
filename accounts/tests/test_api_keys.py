import hashlib
import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts import keys
from accounts.models import ApiKey
from accounts.roles import Role
from accounts.services.api_keys import (
    api_key_authenticate,
    api_key_cache_clear,
    api_key_create,
    api_key_expiry,
    api_key_revoke,
)
from issuetracker.errors import InvalidInput, NotAuthenticated

pytestmark = pytest.mark.django_db


@pytest.fixture
def bot(make_user):
    return make_user(role=Role.SERVICE, username="workflow-consumer")


def _bearer(key: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


class TestFormat:
    def test_keys_are_random_and_carry_their_prefix(self):
        prefix, key = keys.key_new()
        other_prefix, other = keys.key_new()

        assert key != other
        assert prefix != other_prefix
        assert key.startswith(f"itk_{prefix}_")
        assert len(key) > 50
        assert keys.key_prefix(key) == prefix

    @pytest.mark.parametrize(
        "value", ["", "itk_", "itk_0123456789", "abc_0123456789_x", "itk_XYZ3456789_x"]
    )
    def test_malformed_keys_have_no_prefix(self, value):
        assert keys.key_prefix(value) is None


class TestStorage:
    def test_only_the_sha256_is_stored(self, bot):
        issued = api_key_create(owner=bot, name="ci")

        stored = ApiKey.objects.get()
        assert stored.key_hash == hashlib.sha256(issued.key.encode()).hexdigest()
        assert issued.key not in {stored.key_hash, stored.prefix, stored.name}
        # The secret is token_urlsafe, which has "_" of its own: cut after the prefix.
        secret = issued.key.removeprefix(f"{keys.KEY_MARK}{stored.prefix}_")
        assert len(secret) >= 32
        for field in ApiKey._meta.concrete_fields:
            assert secret not in str(getattr(stored, field.attname))

    def test_creation_logs_the_prefix_never_the_key(self, bot, caplog):
        with caplog.at_level(logging.DEBUG):
            issued = api_key_create(owner=bot)
            api_key_authenticate(key=issued.key)

        assert issued.api_key.prefix in caplog.text
        assert issued.key not in caplog.text

    def test_expiry_must_lie_ahead(self, bot):
        with pytest.raises(InvalidInput):
            api_key_create(owner=bot, expires_at=timezone.now())
        with pytest.raises(InvalidInput):
            api_key_expiry(days=0)


class TestAuthenticate:
    def test_a_valid_key_names_its_owner(self, bot):
        key = api_key_create(owner=bot).key

        assert api_key_authenticate(key=key) == bot

    def test_a_wrong_secret_with_a_real_prefix_is_refused(self, bot):
        key = api_key_create(owner=bot).key

        with pytest.raises(NotAuthenticated):
            api_key_authenticate(key=key[:-2] + "zz")

    def test_an_expired_key_is_refused(self, bot):
        issued = api_key_create(
            owner=bot, expires_at=timezone.now() + timedelta(days=1)
        )
        ApiKey.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

        with pytest.raises(NotAuthenticated, match="expired"):
            api_key_authenticate(key=issued.key)

    def test_last_used_is_recorded_at_most_once_a_minute(self, bot):
        issued = api_key_create(owner=bot)
        assert issued.api_key.last_used_at is None

        api_key_authenticate(key=issued.key)
        first = ApiKey.objects.get().last_used_at
        api_key_authenticate(key=issued.key)
        assert first is not None
        assert ApiKey.objects.get().last_used_at == first

        # A minute on: the key is read again (its cache lasts seconds), and
        # its use recorded again.
        ApiKey.objects.update(last_used_at=first - timedelta(minutes=2))
        api_key_cache_clear()
        api_key_authenticate(key=issued.key)
        later = ApiKey.objects.get().last_used_at
        assert later is not None
        assert later > first


@pytest.mark.urls("accounts.tests.urls")
class TestBearerAuthentication:
    def test_a_valid_key_authenticates(self, api_client, bot, issue_key):
        response = api_client.get("/whoami", **_bearer(issue_key(bot)))

        assert response.status_code == 200
        assert response.json() == {"actor": "workflow-consumer"}

    def test_a_key_posts_without_csrf(self, api_client, bot, issue_key):
        response = api_client.post(
            "/whoami", {}, format="json", **_bearer(issue_key(bot))
        )

        assert response.status_code == 201

    @pytest.mark.parametrize(
        "header",
        [
            "Bearer itk_0123456789_nope",
            "Bearer not-a-key",
            "Bearer",
            "Bearer two parts",
            "bearer itk_0123456789_nope",
        ],
    )
    def test_a_bad_key_is_401_not_anonymous(self, api_client, header):
        response = api_client.get("/whoami", HTTP_AUTHORIZATION=header)

        assert response.status_code == 401
        assert response["WWW-Authenticate"] == 'Bearer realm="api"'

    def test_a_bad_key_is_401_even_in_compat_mode(self, api_client, settings):
        settings.ALLOW_ANONYMOUS_SERVICES = True

        response = api_client.post(
            "/compat",
            {"reporter_id": "workflow-consumer"},
            format="json",
            HTTP_AUTHORIZATION="Bearer itk_0123456789_nope",
        )

        assert response.status_code == 401

    def test_revocation_takes_effect_on_the_next_request(
        self, api_client, bot, issue_key
    ):
        key = issue_key(bot)
        assert api_client.get("/whoami", **_bearer(key)).status_code == 200

        api_key_revoke(api_key=ApiKey.objects.get())

        assert api_client.get("/whoami", **_bearer(key)).status_code == 401

    def test_an_expired_key_is_401(self, api_client, bot, issue_key):
        key = issue_key(bot, expires_at=timezone.now() + timedelta(days=1))
        ApiKey.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

        assert api_client.get("/whoami", **_bearer(key)).status_code == 401

    def test_deactivating_the_owner_takes_effect_on_the_next_request(
        self, api_client, bot, issue_key
    ):
        key = issue_key(bot)
        assert api_client.get("/whoami", **_bearer(key)).status_code == 200

        bot.is_active = False
        bot.save()

        assert api_client.get("/whoami", **_bearer(key)).status_code == 401

    def test_use_is_recorded(self, api_client, bot, issue_key):
        key = issue_key(bot)

        api_client.get("/whoami", **_bearer(key))

        assert ApiKey.objects.get().last_used_at is not None

    def test_a_staff_key_acts_with_the_staff_role(
        self, api_client, make_user, issue_key
    ):
        developer = make_user(role=Role.DEVELOPER)
        key = issue_key(developer)

        assert api_client.delete("/delete", **_bearer(key)).status_code == 403


@pytest.mark.urls("accounts.tests.urls")
class TestSessionAuthentication:
    def test_a_session_writes_only_with_the_csrf_token(self, api_client, make_user):
        user = make_user(role=Role.DEVELOPER, password="a-long-local-password")
        api_client.login(username=user.username, password="a-long-local-password")

        assert api_client.get("/whoami").status_code == 200
        refused = api_client.post("/whoami", {}, format="json")
        assert refused.status_code == 403
        assert "CSRF" in refused.json()["error"]

    def test_deactivating_a_user_ends_the_session_on_the_next_request(
        self, api_client, make_user
    ):
        user = make_user(role=Role.DEVELOPER, password="a-long-local-password")
        api_client.login(username=user.username, password="a-long-local-password")
        assert api_client.get("/whoami").status_code == 200

        user.is_active = False
        user.save()

        assert api_client.get("/whoami").status_code == 401
