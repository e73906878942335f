"""import_firestore_users against the real Firestore emulator."""

import socket
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from accounts import repository
from accounts.models import User
from accounts.roles import Role
from issuetracker.firestore import get_client

pytestmark = pytest.mark.django_db

OLD_USERS: dict[str, dict[str, Any]] = {
    "uid-ada": {
        "email": "Ada@Quantory.app",
        "role": "admin",
        "displayName": "Ada Lovelace",
        "photoURL": "https://lh3.googleusercontent.com/a/ada",
    },
    "uid-bob": {"email": "bob@quantory.app", "displayName": "Bob"},
    "uid-cy": {"email": "cy@quantory.app", "role": "Tester", "photoURL": "http://x"},
    "uid-eve": {"email": "eve@gmail.com", "role": "admin"},
    "uid-sub": {"email": "sub@dev.quantory.app", "role": "developer"},
    "uid-odd": {"email": "odd@quantory.app", "role": "owner"},
    "uid-none": {"displayName": "No Mail"},
}


def _seed(client: Any, users: dict[str, dict[str, Any]]) -> None:
    for doc_id, data in users.items():
        client.collection("users").document(doc_id).set(data)


def _import() -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_firestore_users", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_imports_staff_on_the_allowed_domains_and_reports_counts(firestore_db):
    _seed(firestore_db, OLD_USERS)

    out, err = _import()

    assert "3 created, 0 updated, 0 unchanged, 4 skipped" in out
    ada = User.objects.get(username="ada@quantory.app")
    assert (ada.email, ada.role, ada.display_name) == (
        "ada@quantory.app",
        "admin",
        "Ada Lovelace",
    )
    assert ada.avatar_url == "https://lh3.googleusercontent.com/a/ada"
    assert ada.is_staff
    assert ada.is_superuser
    assert not ada.has_usable_password()
    assert User.objects.get(username="bob@quantory.app").role == Role.DEVELOPER
    cy = User.objects.get(username="cy@quantory.app")
    assert (cy.role, cy.avatar_url) == ("tester", "")
    assert "uid-eve: eve@gmail.com is not on an allowed domain" in err
    assert "uid-sub: sub@dev.quantory.app is not on an allowed domain" in err
    assert "uid-odd: unknown role 'owner'" in err
    assert "uid-none: no e-mail" in err


def test_running_again_changes_nothing(firestore_db):
    _seed(firestore_db, OLD_USERS)
    _import()

    out, _ = _import()

    assert "0 created, 0 updated, 3 unchanged, 4 skipped" in out
    assert User.objects.count() == 3


def test_updates_users_who_signed_in_before_the_import(firestore_db, make_user):
    make_user(role=Role.DEVELOPER, email="ada@quantory.app", display_name="A.")
    _seed(firestore_db, {"uid-ada": OLD_USERS["uid-ada"]})

    out, _ = _import()

    assert "0 created, 1 updated, 0 unchanged, 0 skipped" in out
    ada = User.objects.get()
    assert (ada.role, ada.display_name) == ("admin", "Ada Lovelace")


def test_an_empty_collection_imports_nothing(firestore_db):
    out, _ = _import()

    assert "0 created, 0 updated, 0 unchanged, 0 skipped" in out


def test_reads_every_page(firestore_db):
    _seed(
        firestore_db, {f"uid-{n:02}": {"email": f"u{n}@quantory.app"} for n in range(5)}
    )

    records = list(repository.legacy_users_iter(page_size=2))

    assert [record.doc_id for record in records] == [f"uid-{n:02}" for n in range(5)]


def test_an_unreachable_firestore_is_a_command_error(monkeypatch, settings):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", f"127.0.0.1:{port}")
    settings.FIRESTORE_TIMEOUT = 0.5
    get_client.cache_clear()
    try:
        with pytest.raises(CommandError, match="Firestore did not answer"):
            _import()
    finally:
        get_client.cache_clear()
