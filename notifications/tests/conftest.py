"""Fixtures for the notifications tests: the issues suite's, plus read helpers."""

import pytest

from issues.tests.conftest import (  # noqa: F401  (fixtures)
    admin,
    api,
    developer,
    make_issue,
    service,
    store,
    tester,
    viewer,
)
from notifications.store import NotificationStore


@pytest.fixture
def inbox(store):  # noqa: F811
    """`inbox(user)`: every notification of `user`, newest first."""

    def read(user):
        return (
            NotificationStore()
            .page(user_id=user.actor_id, unread_only=False, limit=100, cursor=None)
            .items
        )

    return read


@pytest.fixture
def staff(make_user):
    """`staff("ada")`: a developer with username and e-mail from the name."""

    def make(name, role="developer"):
        return make_user(
            role=role,
            username=f"{name}@quantory.app",
            email=f"{name}@quantory.app",
            display_name=name.title(),
        )

    return make
