"""What the portal's view tests share: signing in by role, reading an issue
back, and the header htmx sends."""

from typing import Any

from django.test import Client

from issues.domain import Issue
from issues.selectors import issues as selectors

HX = {"HTTP_HX_REQUEST": "true"}


def signed_in(client: Client, make_user: Any, role: str) -> Any:
    """A new user of `role`, signed in on `client`."""
    user = make_user(role=role)
    client.force_login(user)
    return user


def current(actor: Any, issue: Issue) -> Issue:
    """`issue` as stored now, read as `actor`."""
    return selectors.issue_get(actor=actor, issue_id=issue.id)
