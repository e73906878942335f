"""Suite-wide fixtures: one Firestore emulator per run, empty data for each test."""

import os
from collections.abc import Iterator

import pytest
from django.conf import settings
from google.cloud import firestore

from issuetracker.emulator import FirestoreEmulator
from issuetracker.firestore import get_client


@pytest.fixture(scope="session")
def firestore_emulator() -> Iterator[FirestoreEmulator]:
    """Start the suite's own emulator (whatever the environment points at) once."""
    emulator = FirestoreEmulator(project=settings.GOOGLE_CLOUD_PROJECT).start()
    previous = os.environ.get("FIRESTORE_EMULATOR_HOST")
    os.environ["FIRESTORE_EMULATOR_HOST"] = emulator.address
    get_client.cache_clear()
    yield emulator
    emulator.stop(export=False)
    get_client.cache_clear()
    if previous is None:
        os.environ.pop("FIRESTORE_EMULATOR_HOST", None)
    else:
        os.environ["FIRESTORE_EMULATOR_HOST"] = previous


@pytest.fixture
def firestore_db(firestore_emulator: FirestoreEmulator) -> firestore.Client:
    """The project's client against the emulator, with no documents in it."""
    firestore_emulator.reset()
    return get_client()
