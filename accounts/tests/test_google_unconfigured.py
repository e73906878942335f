"""Without a Google app the sign-in start says what to configure, not a 500."""

import pytest
from allauth.socialaccount.models import SocialApp
from django.test import Client

pytestmark = pytest.mark.django_db

CONFIGURE = ("GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET", "Social application")


@pytest.fixture
def no_google_app(settings):
    providers = dict(settings.SOCIALACCOUNT_PROVIDERS)
    providers["google"] = {k: v for k, v in providers["google"].items() if k != "APP"}
    settings.SOCIALACCOUNT_PROVIDERS = providers
    SocialApp.objects.all().delete()


@pytest.mark.parametrize("method", ["get", "post"])
def test_google_login_without_an_app_is_a_503_page_saying_what_to_set(
    no_google_app, method
):
    browser = Client(raise_request_exception=False)
    response = getattr(browser, method)("/accounts/google/login/?process=login")
    assert response.status_code == 503
    page = response.content.decode()
    for name in CONFIGURE:
        assert name in page


def test_the_sign_in_page_says_what_to_configure(no_google_app):
    page = Client().get("/accounts/login/").content.decode()
    assert "not configured" in page
    for name in CONFIGURE:
        assert name in page


def test_a_social_application_in_the_admin_is_enough(no_google_app):
    SocialApp.objects.create(
        provider="google", name="Google", client_id="id", secret="secret"
    )
    response = Client().post("/accounts/google/login/?process=login")
    assert response.status_code == 302
    assert response["Location"].startswith("https://accounts.google.com/")
