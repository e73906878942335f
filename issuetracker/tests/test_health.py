import os
import time

import pytest

from issuetracker.emulator import free_port
from issuetracker.firestore import get_client


@pytest.fixture
def firestore_down(firestore_emulator):
    """Point the client at a port nothing listens on."""
    os.environ["FIRESTORE_EMULATOR_HOST"] = f"127.0.0.1:{free_port()}"
    get_client.cache_clear()
    yield
    os.environ["FIRESTORE_EMULATOR_HOST"] = firestore_emulator.address
    get_client.cache_clear()


@pytest.mark.django_db
def test_health_is_200_when_firestore_and_database_answer(client, firestore_db):
    response = client.get("/api/health")
    assert response.status_code == 200
    assert response.json() == {
        "status": "healthy",
        "firestore": True,
        "database": True,
        "firebase_available": True,
    }
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_health_is_503_within_3_seconds_when_firestore_is_down(client, firestore_down):
    started = time.monotonic()
    response = client.get("/api/health")
    elapsed = time.monotonic() - started
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unhealthy"
    assert body["firestore"] is False
    assert body["firebase_available"] is False
    assert body["database"] is True
    assert response["Retry-After"]
    assert elapsed < 3


@pytest.mark.django_db
def test_health_refuses_other_methods(client, firestore_db):
    assert client.post("/api/health").status_code == 405
