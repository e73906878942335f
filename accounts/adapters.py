"""allauth adapters: Google is the only way in, locked to the allowed domains."""

import logging
from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialLogin
from allauth.socialaccount.providers.base import AuthProcess
from django.conf import settings
from django.http import HttpRequest
from django.shortcuts import render

from accounts.models import AuditAction, User
from accounts.roles import Role
from accounts.services.audit import audit_record, request_source
from accounts.services.google import (
    LoginRefused,
    google_login_check,
    staff_profile_refresh,
    staff_user_for_email,
)
from issuetracker.clientip import client_ip

logger = logging.getLogger(__name__)


def _primary_address(sociallogin: SocialLogin) -> tuple[str | None, bool]:
    addresses = list(sociallogin.email_addresses)
    address = next((a for a in addresses if a.primary), None) or next(
        iter(addresses), None
    )
    if address is None:
        return None, False
    return address.email, bool(address.verified)


def _profile(sociallogin: SocialLogin) -> tuple[str, str]:
    data = sociallogin.account.extra_data or {}
    name = str(data.get("name") or "").strip()
    picture = str(data.get("picture") or "").strip()
    return name, picture if picture.startswith("https://") else ""


class NoSignupAccountAdapter(DefaultAccountAdapter):  # type: ignore[misc]
    """Local accounts: no sign-up form, ever (Google creates users)."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        """Closed: the only sign-up path is a first Google login."""
        return False

    def get_client_ip(self, request: HttpRequest) -> str:
        """The address allauth's sign-in limits count: the one rate limits use."""
        return client_ip(request)


class DomainLockedSocialAccountAdapter(DefaultSocialAccountAdapter):  # type: ignore[misc]
    """Admits verified Google e-mails on ALLOWED_EMAIL_DOMAINS, on every login."""

    def pre_social_login(self, request: HttpRequest, sociallogin: SocialLogin) -> None:
        """Refuse other accounts; attach a first login to a user added beforehand."""
        email, verified = _primary_address(sociallogin)
        try:
            email = google_login_check(email=email, verified=verified)
            if sociallogin.state.get("process") == AuthProcess.CONNECT:
                # One Google account per user, linked by its address at sign-in.
                raise LoginRefused(
                    "Google accounts are linked when you sign in; none can be added."
                )
        except LoginRefused as refusal:
            logger.warning(
                "Google sign-in refused for %r (verified=%s): %s",
                email,
                verified,
                refusal.message,
            )
            audit_record(
                action=AuditAction.SIGN_IN_REFUSED,
                actor=email or "",
                target=email or "",
                source=request_source(request.META),
                details={"reason": refusal.message, "verified": verified},
            )
            response = render(
                request,
                "accounts/login_refused.html",
                {
                    "reason": refusal.message,
                    "email": email,
                    "allowed_domains": settings.ALLOWED_EMAIL_DOMAINS,
                },
                status=403,
            )
            raise ImmediateHttpResponse(response) from None
        name, picture = _profile(sociallogin)
        if sociallogin.is_existing:
            user = sociallogin.user
        else:
            user = staff_user_for_email(email=email)
            if user is not None:
                sociallogin.connect(request, user)
        if isinstance(user, User):
            staff_profile_refresh(user=user, display_name=name, avatar_url=picture)

    def is_open_for_signup(
        self, request: HttpRequest, sociallogin: SocialLogin
    ) -> bool:
        """Open to Google logins that passed `pre_social_login`."""
        return True

    def populate_user(
        self, request: HttpRequest, sociallogin: SocialLogin, data: dict[str, Any]
    ) -> User:
        """A first login becomes a developer named by the lower-cased e-mail."""
        user: User = super().populate_user(request, sociallogin, data)
        email = (data.get("email") or "").strip().lower()
        name, picture = _profile(sociallogin)
        user.username = email
        user.email = email
        user.role = Role.DEVELOPER
        user.is_staff = user.is_superuser = False
        user.display_name = name[:150]
        user.avatar_url = picture[:500]
        return user
