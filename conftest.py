"""Suite-wide fixtures: one Firestore emulator per run; empty data and cache a test."""

import itertools
import os
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import override_settings
from google.cloud import firestore

from issuetracker.emulator import FirestoreEmulator, free_port
from issuetracker.firestore import get_client
from issuetracker.testing import chromium_browser, require_chromium

if TYPE_CHECKING:
    from playwright.sync_api import Browser

    from accounts.models import User
    from accounts.roles import Role


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip (or in CI fail) `browser` tests without Chromium before their fixtures
    start an emulator and a live server for nothing."""
    if item.get_closest_marker("browser"):
        require_chromium()


@pytest.fixture(scope="module")
def browser() -> "Iterator[Browser]":
    """One Chromium for a module (starting it is the slow part)."""
    with chromium_browser() as chromium:
        yield chromium


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


@pytest.fixture(scope="session")
def django_db_modify_db_settings(
    django_db_modify_db_settings_parallel_suffix: None,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """SQLite tests use a file, not memory, so a worker started in a child
    process (the notifications worker test) can open the test database."""
    from django.db import connections

    database = connections["default"].settings_dict
    if database["ENGINE"] == "django.db.backends.sqlite3":
        path = tmp_path_factory.mktemp("db") / "test.sqlite3"
        database.setdefault("TEST", {})["NAME"] = str(path)


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Every test starts with an empty cache: no rate-limit counts or cached pages."""
    cache.clear()


IMMEDIATE_TASKS = {
    "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}
}


@pytest.fixture(autouse=True)
def _immediate_tasks() -> Iterator[None]:
    """Tasks run where they are enqueued (the worker tests start real workers
    with the database backend instead)."""
    with override_settings(TASKS=IMMEDIATE_TASKS):
        yield


@pytest.fixture
def cache_down() -> Iterator[None]:
    """The production cache backend pointed at a Redis port nothing listens on."""
    caches = {
        "default": {
            "BACKEND": "issuetracker.cache.ForgivingRedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    with override_settings(CACHES=caches):
        yield


@pytest.fixture(autouse=True)
def _unbuffered_writes(settings: Any) -> None:
    """Every report writes at once unless a test turns the ingest buffer on, so
    tests read what they wrote straight from Firestore."""
    settings.INGEST_BUFFER_SECONDS = 0


@pytest.fixture(autouse=True)
def _no_cached_callers() -> None:
    """API keys and service users found by an earlier test are forgotten: their
    rows went with that test's database."""
    from accounts.services import api_keys, compat

    api_keys.api_key_cache_clear()
    compat.service_cache_clear()


@pytest.fixture
def firestore_db(firestore_emulator: FirestoreEmulator) -> firestore.Client:
    """The project's client against the emulator, with no documents in it (and
    nothing of an earlier test left in the ingest buffer)."""
    from issues.store.buffers import write_buffer

    write_buffer().discard()
    firestore_emulator.reset()
    return get_client()


@pytest.fixture
def make_user(db: None) -> "Callable[..., User]":
    """Factory of saved users: `make_user(role="tester")`, `make_user(username=...)`.

    Staff get an e-mail on the first allowed domain as username; services get
    `service-N`. Admins can use the Django admin, as `assign_role` arranges.
    """
    from accounts.models import User
    from accounts.roles import Role

    counter = itertools.count(1)

    def make(
        *,
        role: "Role | str" = "developer",
        username: str | None = None,
        email: str | None = None,
        is_active: bool = True,
        password: str | None = None,
        display_name: str = "",
    ) -> User:
        role = Role(role)
        n = next(counter)
        if role is Role.SERVICE:
            username = username or f"service-{n}"
            email = email or ""
        else:
            email = email or f"{role.value}{n}@{settings.ALLOWED_EMAIL_DOMAINS[0]}"
            username = username or email.lower()
        user = User(
            username=username,
            email=email,
            role=role,
            is_active=is_active,
            is_staff=role is Role.ADMIN,
            is_superuser=role is Role.ADMIN,
            display_name=display_name,
        )
        if password is None:
            user.set_unusable_password()
        else:
            user.set_password(password)
        user.save()
        return user

    return make
