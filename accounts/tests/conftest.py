"""Fixtures for the accounts tests: API clients and a scripted Google sign-in."""

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlparse

import jwt
import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.adapters import DomainLockedSocialAccountAdapter
from accounts.services.api_keys import api_key_create

GOOGLE_CLIENT_ID = "test-client.apps.googleusercontent.com"


@pytest.fixture
def api_client() -> APIClient:
    """A DRF client that enforces CSRF like a browser would."""
    return APIClient(enforce_csrf_checks=True)


@pytest.fixture
def issue_key() -> Callable[..., str]:
    """Issue an API key for a user and return the key itself."""

    def issue(owner: Any, **kwargs: Any) -> str:
        return api_key_create(owner=owner, **kwargs).key

    return issue


class _TokenResponse:
    """What Google's token endpoint answers, as `requests` would hand it over."""

    status_code = 200
    headers = {"content-type": "application/json"}

    def __init__(self, body: dict[str, Any]) -> None:
        self.body = body
        self.text = str(body)
        self.content = self.text.encode()

    def json(self) -> dict[str, Any]:
        return self.body


class _GoogleSession:
    """Stands in for the HTTP session allauth uses to reach Google's token endpoint."""

    def __init__(self, token_body: dict[str, Any]) -> None:
        self.token_body = token_body

    def __enter__(self) -> "_GoogleSession":
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def request(self, method: str, url: str, **kwargs: Any) -> _TokenResponse:
        assert url == "https://oauth2.googleapis.com/token"
        return _TokenResponse(self.token_body)


@pytest.fixture
def google_app(settings: Any) -> None:
    """A Google app configured through settings, as GOOGLE_CLIENT_ID does."""
    settings.SOCIALACCOUNT_PROVIDERS = {
        "google": {
            **settings.SOCIALACCOUNT_PROVIDERS["google"],
            "APP": {"client_id": GOOGLE_CLIENT_ID, "secret": "test-secret"},
        }
    }


@pytest.fixture
def google_login(
    client: Client, google_app: None, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Any]:
    """Run allauth's whole Google flow with a crafted ID token; return the response.

    The browser posts to the login URL, comes back to the callback with the state,
    and allauth exchanges the code for an ID token holding the given claims.
    """

    def login(
        email: str | None,
        *,
        verified: Any = True,
        sub: str = "10769150350006150715113082367",
        name: str = "Ada Lovelace",
        picture: str = "https://lh3.googleusercontent.com/a/ada",
        process: str = "login",
    ) -> Any:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": "https://accounts.google.com",
            "aud": GOOGLE_CLIENT_ID,
            "sub": sub,
            "iat": now,
            "exp": now + 3600,
            "name": name,
            "picture": picture,
        }
        if email is not None:
            claims["email"] = email
        if verified is not None:
            claims["email_verified"] = verified
        id_token = jwt.encode(
            claims, "signature-not-checked-over-direct-tls-to-google", algorithm="HS256"
        )
        body = {"access_token": "at", "id_token": id_token, "expires_in": 3600}
        monkeypatch.setattr(
            DomainLockedSocialAccountAdapter,
            "get_requests_session",
            lambda self: _GoogleSession(body),
        )
        start = client.post(f"/accounts/google/login/?process={process}")
        assert start.status_code == 302, start
        state = parse_qs(urlparse(start["Location"]).query)["state"][0]
        return client.get(
            "/accounts/google/login/callback/", {"code": "granted", "state": state}
        )

    return login
