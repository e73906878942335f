"""Fixtures for the issues tests: users by role and issues made through services."""

import pytest

from issues import services
from issues.domain import IssueType, NewIssue, Priority


@pytest.fixture
def store(firestore_db, db):
    """An empty Firestore (emulator) and database for the test."""
    return firestore_db


@pytest.fixture
def admin(make_user):
    return make_user(role="admin")


@pytest.fixture
def developer(make_user):
    return make_user(role="developer")


@pytest.fixture
def tester(make_user):
    return make_user(role="tester")


@pytest.fixture
def viewer(make_user):
    return make_user(role="viewer")


@pytest.fixture
def service(make_user):
    return make_user(role="service", username="workflow-consumer")


@pytest.fixture
def other_service(make_user):
    return make_user(role="service", username="data-enrich")


@pytest.fixture
def make_issue(store):
    """Create an issue through the service layer: `make_issue(actor, title=...)`."""

    def make(actor, **fields):
        data = NewIssue(
            title=fields.pop("title", "Error in workflow"),
            description=fields.pop("description", "Workflow failed at step X"),
            type=IssueType(fields.pop("type", "bug")),
            priority=Priority(fields.pop("priority", "high")),
            assignee_id=fields.pop("assignee_id", None),
            tags=tuple(fields.pop("tags", ())),
            fingerprint=fields.pop("fingerprint", None),
        )
        assert not fields, f"unknown fields {fields}"
        return services.issue_create(actor=actor, data=data)

    return make


@pytest.fixture
def api(client):
    """The Django test client with JSON helpers and an optional signed-in user."""

    class Api:
        def __init__(self) -> None:
            self.client = client

        def as_user(self, user):
            client.force_login(user)
            return self

        def get(self, path, **extra):
            return client.get(path, **extra)

        def post(self, path, body, **extra):
            return client.post(path, body, content_type="application/json", **extra)

        def patch(self, path, body, **extra):
            return client.patch(path, body, content_type="application/json", **extra)

        def delete(self, path, **extra):
            return client.delete(path, **extra)

    return Api()


@pytest.fixture
def firestore_down(firestore_emulator, settings):
    """Point the client at a port nothing listens on, with a 1 s call budget."""
    import os

    from issuetracker.emulator import free_port
    from issuetracker.firestore import get_client

    settings.FIRESTORE_TIMEOUT = 1.0
    os.environ["FIRESTORE_EMULATOR_HOST"] = f"127.0.0.1:{free_port()}"
    get_client.cache_clear()
    yield
    os.environ["FIRESTORE_EMULATOR_HOST"] = firestore_emulator.address
    get_client.cache_clear()


@pytest.fixture
def reports(service, make_issue):
    """Three open service reports nobody is assigned to."""
    return [
        make_issue(service, title=f"Quote feed {name} stalls")
        for name in ("alpha", "beta", "gamma")
    ]
