"""The audit log: every sensitive action by every road, append-only, read-only
in the admin, printed by `audit_log`; and the last-admin guard under concurrency."""

import contextlib
import threading
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, OperationalError, connection, connections
from django.utils import timezone

from accounts.models import AppendOnly, AuditAction, AuditEntry, User
from accounts.roles import Role
from accounts.services import users
from accounts.services.audit import audit_record
from issuetracker.errors import Conflict


def entries(action: AuditAction) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action).order_by("id"))


@pytest.mark.django_db
class TestRoads:
    def test_role_change_by_command(self, make_user):
        user = make_user(role=Role.DEVELOPER)
        call_command("assign_role", user.username, "tester", stdout=StringIO())
        (entry,) = entries(AuditAction.ROLE_CHANGED)
        assert entry.target == user.username
        assert entry.source == "command"
        assert entry.actor.endswith("(shell)")
        assert entry.details == {"from": "developer", "to": "tester"}

    def test_role_and_active_changes_in_the_admin(self, client, make_user):
        admin = make_user(role=Role.ADMIN)
        user = make_user(role=Role.DEVELOPER)
        client.force_login(admin)
        response = client.post(
            f"/admin/accounts/user/{user.pk}/change/",
            {
                "username": user.username,
                "email": user.email,
                "display_name": "",
                "avatar_url": "",
                "role": "viewer",
            },
            REMOTE_ADDR="198.51.100.4",
        )
        assert response.status_code == 302
        (role,) = entries(AuditAction.ROLE_CHANGED)
        (active,) = entries(AuditAction.ACTIVE_CHANGED)
        for entry in (role, active):
            assert (entry.actor, entry.target, entry.source) == (
                admin.username,
                user.username,
                "198.51.100.4",
            )
        assert active.details == {"from": True, "to": False}

    def test_a_refused_demotion_writes_nothing(self, make_user):
        admin = make_user(role=Role.ADMIN)
        with pytest.raises(Conflict):
            users.user_set_role(user=admin, role=Role.DEVELOPER, actor=admin)
        admin.refresh_from_db()
        assert admin.role == Role.ADMIN
        assert entries(AuditAction.ROLE_CHANGED) == []

    def test_keys_by_command(self, make_user):
        bot = make_user(role=Role.SERVICE)
        call_command("create_api_key", bot.username, stdout=StringIO())
        (created,) = entries(AuditAction.KEY_CREATED)
        assert created.source == "command"
        assert created.details["owner"] == bot.username
        call_command("revoke_api_key", created.target, stdout=StringIO())
        call_command("revoke_api_key", created.target, stdout=StringIO())
        (revoked,) = entries(AuditAction.KEY_REVOKED)  # the second did nothing
        assert revoked.target == created.target

    def test_keys_in_the_admin(self, client, make_user):
        admin = make_user(role=Role.ADMIN)
        bot = make_user(role=Role.SERVICE)
        client.force_login(admin)
        client.post(
            "/admin/accounts/apikey/add/",
            {"owner": bot.pk, "name": "prod"},
            REMOTE_ADDR="198.51.100.5",
        )
        (created,) = entries(AuditAction.KEY_CREATED)
        assert (created.actor, created.source) == (admin.username, "198.51.100.5")
        key = bot.api_keys.get()
        client.post(
            "/admin/accounts/apikey/",
            {"action": "revoke_keys", "_selected_action": [key.pk]},
            REMOTE_ADDR="198.51.100.6",
        )
        (revoked,) = entries(AuditAction.KEY_REVOKED)
        assert (revoked.actor, revoked.source) == (admin.username, "198.51.100.6")


def test_a_refused_google_sign_in_is_audited(db, google_login):
    response = google_login("eve@example.com", verified=True)
    assert response.status_code == 403
    (entry,) = entries(AuditAction.SIGN_IN_REFUSED)
    assert entry.target == "eve@example.com"
    assert entry.source == "127.0.0.1"
    assert entry.details["reason"]


@pytest.mark.django_db
class TestAppendOnly:
    def test_entries_cannot_be_changed_or_removed(self, make_user):
        entry = audit_record(
            action=AuditAction.KEY_CREATED, actor="a", target="t", source="command"
        )
        entry.target = "other"
        with pytest.raises(AppendOnly):
            entry.save()
        with pytest.raises(AppendOnly):
            entry.delete()
        with pytest.raises(AppendOnly):
            AuditEntry.objects.filter(pk=entry.pk).update(target="x")
        with pytest.raises(AppendOnly):
            AuditEntry.objects.all().delete()
        with pytest.raises(DatabaseError), connection.cursor() as cursor:
            cursor.execute(
                "UPDATE accounts_auditentry SET target = 'x' WHERE id = %s", [entry.pk]
            )

    def test_the_admin_shows_the_log_read_only(self, client, make_user):
        admin = make_user(role=Role.ADMIN)
        entry = audit_record(
            action=AuditAction.ISSUE_DELETED, actor="a", target="i1", source="c"
        )
        client.force_login(admin)
        listing = client.get("/admin/accounts/auditentry/")
        assert listing.status_code == 200
        assert b"i1" in listing.content
        assert client.get("/admin/accounts/auditentry/add/").status_code == 403
        detail = client.get(f"/admin/accounts/auditentry/{entry.pk}/change/")
        assert detail.status_code == 200
        assert b'name="target"' not in detail.content
        deleted = client.post(
            f"/admin/accounts/auditentry/{entry.pk}/delete/", {"post": "yes"}
        )
        assert deleted.status_code == 403
        assert AuditEntry.objects.filter(pk=entry.pk).exists()

    def test_audit_log_command(self):
        audit_record(
            action=AuditAction.ISSUE_DELETED, actor="a", target="old", source="c"
        )
        for n in range(3):
            audit_record(
                action=AuditAction.ISSUE_RESTORED,
                actor="b",
                target=f"new{n}",
                source="10.0.0.1",
            )
        out = StringIO()
        call_command("audit_log", "--limit", "2", stdout=out)
        lines = out.getvalue().splitlines()
        assert [line.split("\t")[3] for line in lines] == ["new2", "new1"]
        out = StringIO()
        tomorrow = (timezone.now() + timedelta(days=1)).date().isoformat()
        call_command("audit_log", "--since", tomorrow, stdout=out)
        assert out.getvalue() == ""
        with pytest.raises(CommandError):
            call_command("audit_log", "--since", "yesterday")


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_demotions_of_the_last_two_admins_leave_one(
    make_user, monkeypatch
):
    first, second = make_user(role=Role.ADMIN), make_user(role=Role.ADMIN)
    # Both requests reach their write together unless the guard serializes them.
    barrier = threading.Barrier(2)
    real_save = User.save

    def save(self: User, *args: Any, **kwargs: Any) -> None:
        if kwargs.get("update_fields") == ["role", "is_staff", "is_superuser"]:
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(timeout=1)
        real_save(self, *args, **kwargs)

    monkeypatch.setattr(User, "save", save)
    outcomes: list[str] = []

    def demote(admin: User) -> None:
        try:
            users.user_set_role(user=admin, role=Role.DEVELOPER, actor="test")
            outcomes.append("demoted")
        except Conflict:
            outcomes.append("refused")
        except OperationalError as error:  # SQLite: still locked after retries
            outcomes.append(f"failed: {error}")
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=demote, args=(admin,)) for admin in (first, second)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["demoted", "refused"]
    assert User.objects.filter(role=Role.ADMIN, is_active=True).count() == 1
    assert len(entries(AuditAction.ROLE_CHANGED)) == 1
