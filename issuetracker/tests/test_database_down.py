"""When the relational database stops answering, callers get a clear 503."""

import pytest
from django.db import OperationalError
from django.db.backends.utils import CursorWrapper

from accounts.services.api_keys import api_key_create


@pytest.fixture
def database_down(monkeypatch):
    """Every query from now on fails as a dropped PostgreSQL connection does."""

    def refuse(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    def down():
        monkeypatch.setattr(CursorWrapper, "execute", refuse)
        monkeypatch.setattr(CursorWrapper, "executemany", refuse)

    return down


@pytest.mark.django_db
def test_api_answers_503_problem_when_the_database_is_down(
    client, make_user, firestore_db, database_down
):
    issued = api_key_create(owner=make_user(role="service"))
    database_down()
    response = client.get("/api/v1/issues", HTTP_AUTHORIZATION=f"Bearer {issued.key}")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    assert response["Retry-After"]
    assert response.json()["code"] == "unavailable"
    assert "database" in response.json()["error"]


@pytest.mark.django_db
def test_portal_shows_the_503_page_when_the_database_is_down(
    client, make_user, firestore_db, database_down
):
    client.force_login(make_user(role="developer"))
    database_down()
    response = client.get("/issues/")
    assert response.status_code == 503
    assert response["Retry-After"]
    assert b"The database is not answering" in response.content
