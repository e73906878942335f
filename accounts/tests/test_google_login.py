import logging

import pytest
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth import SESSION_KEY
from django.test import Client

from accounts.models import User
from accounts.roles import Role

pytestmark = pytest.mark.django_db

REFUSED = [
    pytest.param("ada@quantory.app", False, id="unverified"),
    pytest.param("ada@quantory.app", None, id="verification-unknown"),
    pytest.param("ada@quantory.app.evil.com", True, id="suffix-domain"),
    pytest.param("ada@evilquantory.app", True, id="prefix-domain"),
    pytest.param("ada@sub.quantory.app", True, id="subdomain"),
    pytest.param("ada@gmail.com", True, id="other-domain"),
    pytest.param("quantory.app@evil.com", True, id="domain-as-local-part"),
]


def _signed_in_user(client: Client) -> User | None:
    user_id = client.session.get(SESSION_KEY)
    if user_id is None:
        return None
    return User.objects.filter(pk=user_id, is_active=True).first()


def test_first_login_creates_a_developer_named_by_the_lower_cased_email(
    client, google_login
):
    response = google_login("Ada.Lovelace@Quantory.App")

    assert response.status_code == 302
    user = User.objects.get()
    assert user.username == "ada.lovelace@quantory.app"
    assert user.email == "ada.lovelace@quantory.app"
    assert user.actor_id == "ada.lovelace@quantory.app"
    assert user.role == Role.DEVELOPER
    assert not user.is_staff
    assert not user.is_superuser
    assert not user.has_usable_password()
    assert user.display_name == "Ada Lovelace"
    assert user.avatar_url == "https://lh3.googleusercontent.com/a/ada"
    assert _signed_in_user(client) == user


@pytest.mark.parametrize(("email", "verified"), REFUSED)
def test_sign_up_is_refused(client, google_login, caplog, email, verified):
    with caplog.at_level(logging.WARNING, logger="accounts.adapters"):
        response = google_login(email, verified=verified)

    assert response.status_code == 403
    assert b"Sign-in refused" in response.content
    assert not User.objects.exists()
    assert not SocialAccount.objects.exists()
    assert _signed_in_user(client) is None
    assert "Google sign-in refused" in caplog.text


def test_sign_up_without_an_email_is_refused(client, google_login):
    response = google_login(None)

    assert response.status_code == 403
    assert not User.objects.exists()


@pytest.mark.parametrize(("email", "verified"), REFUSED)
def test_later_login_is_refused_when_the_account_no_longer_qualifies(
    client, google_login, email, verified
):
    google_login("ada@quantory.app")
    client.logout()

    response = google_login(email, verified=verified)

    assert response.status_code == 403
    assert _signed_in_user(client) is None
    assert User.objects.count() == 1


def test_later_login_is_accepted_and_refreshes_the_profile(client, google_login):
    google_login("ada@quantory.app")
    client.logout()

    response = google_login("ADA@quantory.app", name="Ada King", picture="https://x/y")

    assert response.status_code == 302
    user = User.objects.get()
    assert _signed_in_user(client) == user
    assert user.display_name == "Ada King"
    assert user.avatar_url == "https://x/y"


def test_later_login_keeps_the_role_an_admin_gave(client, google_login):
    google_login("ada@quantory.app")
    User.objects.update(role=Role.TESTER)
    client.logout()

    google_login("ada@quantory.app")

    assert User.objects.get().role == Role.TESTER


def test_first_login_attaches_to_a_user_added_beforehand(
    client, google_login, make_user
):
    added = make_user(role=Role.ADMIN, email="ada@quantory.app")

    response = google_login("Ada@Quantory.app")

    assert response.status_code == 302
    assert User.objects.count() == 1
    assert SocialAccount.objects.get().user == added
    assert _signed_in_user(client) == added
    added.refresh_from_db()
    assert added.role == Role.ADMIN


def test_a_deactivated_user_cannot_sign_in(client, google_login):
    google_login("ada@quantory.app")
    User.objects.update(is_active=False)
    client.logout()

    google_login("ada@quantory.app")

    assert _signed_in_user(client) is None


def test_allowed_domains_come_from_the_setting(client, google_login, settings):
    settings.ALLOWED_EMAIL_DOMAINS = ["alphafusion.example"]

    assert google_login("ada@quantory.app").status_code == 403
    assert google_login("ada@AlphaFusion.example").status_code == 302


def test_the_local_signup_form_does_not_exist(client):
    assert client.get("/accounts/signup/").status_code == 404
    response = client.post(
        "/accounts/login/", {"login": "admin", "password": "whatever-password"}
    )
    assert response.status_code != 302
    assert not User.objects.exists()


def test_no_second_google_account_can_be_connected(client, google_login):
    google_login("ada@quantory.app")

    response = google_login("ada.other@quantory.app", sub="2", process="connect")

    assert response.status_code == 403
    assert b"none can be added" in response.content
    assert SocialAccount.objects.count() == 1
