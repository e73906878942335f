import pytest
from django.contrib.auth import SESSION_KEY

from accounts.roles import Role

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-local-password"


@pytest.fixture
def local_admin(make_user):
    return make_user(role=Role.ADMIN, username="admin", password=PASSWORD)


@pytest.fixture
def debug(settings):
    settings.DEBUG = True
    settings.DEV_LOGIN_ENABLED = True
    settings.IS_PRODUCTION = False


def test_signs_a_local_user_in_while_debug_is_on(client, debug, local_admin):
    response = client.post(
        "/accounts/dev-login/",
        {"username": "admin", "password": PASSWORD, "next": "/admin/"},
    )

    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.session[SESSION_KEY] == str(local_admin.pk)


def test_shows_the_form(client, debug):
    response = client.get("/accounts/dev-login/")

    assert response.status_code == 200
    assert b'name="password"' in response.content


def test_a_wrong_password_signs_nobody_in(client, debug, local_admin):
    response = client.post(
        "/accounts/dev-login/", {"username": "admin", "password": "wrong-password"}
    )

    assert response.status_code == 200
    assert SESSION_KEY not in client.session


def test_an_outside_next_url_is_ignored(client, debug, local_admin):
    response = client.post(
        "/accounts/dev-login/",
        {"username": "admin", "password": PASSWORD, "next": "https://evil.example/"},
    )

    assert response["Location"] == "/"


def test_google_users_have_no_password_to_use(client, debug, make_user):
    make_user(role=Role.ADMIN, email="ada@quantory.app")

    client.post(
        "/accounts/dev-login/", {"username": "ada@quantory.app", "password": ""}
    )

    assert SESSION_KEY not in client.session


@pytest.mark.parametrize(
    "flags",
    [
        {"DEBUG": False},
        {"DEV_LOGIN_ENABLED": False},
        {"IS_PRODUCTION": True},
    ],
    ids=["debug-off", "disabled", "production"],
)
def test_is_gone_unless_debug_is_on_outside_production(
    client, settings, debug, local_admin, flags
):
    for name, value in flags.items():
        setattr(settings, name, value)

    get = client.get("/accounts/dev-login/")
    post = client.post(
        "/accounts/dev-login/", {"username": "admin", "password": PASSWORD}
    )

    assert get.status_code == 404
    assert post.status_code == 404
    assert SESSION_KEY not in client.session
