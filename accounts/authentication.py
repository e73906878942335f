"""DRF authentication by API key: `Authorization: Bearer <key>`."""

from django.contrib.auth.base_user import AbstractBaseUser
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from accounts.services.api_keys import api_key_authenticate
from issuetracker.errors import NotAuthenticated


class ApiKeyAuthentication(BaseAuthentication):
    """Authenticate a service or a script by its API key.

    No `Authorization: Bearer` header: not this class's business (other classes or
    anonymous). A Bearer header with a bad, expired or revoked key, or a key of a
    deactivated user: 401, never a fallback to anonymous.
    """

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[AbstractBaseUser, None] | None:
        """Return `(owner, None)` for a valid key, None without a Bearer header."""
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                "Send the key as `Authorization: Bearer <key>`."
            )
        try:
            key = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid API key.") from None
        try:
            return api_key_authenticate(key=key), None
        except NotAuthenticated as error:
            raise exceptions.AuthenticationFailed(error.message) from None

    def authenticate_header(self, request: Request) -> str:
        """Makes DRF answer 401 (not 403) to anonymous callers."""
        return f'{self.keyword} realm="api"'
