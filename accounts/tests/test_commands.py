from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.models import ApiKey, User
from accounts.roles import Role
from accounts.services.api_keys import api_key_authenticate, api_key_create
from issuetracker.errors import NotAuthenticated

pytestmark = pytest.mark.django_db


def run(*args: Any, **options: Any) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


class TestAssignRole:
    def test_changes_the_role_of_a_user_named_by_email(self, make_user):
        user = make_user(role=Role.DEVELOPER, email="ada@quantory.app")

        out, _ = run("assign_role", "ADA@quantory.app", "Tester")

        assert "ada@quantory.app is now tester." in out
        user.refresh_from_db()
        assert user.role == Role.TESTER

    def test_admin_role_opens_the_django_admin(self, make_user):
        user = make_user(role=Role.VIEWER)

        run("assign_role", user.username, "admin")

        user.refresh_from_db()
        assert (user.role, user.is_staff, user.is_superuser) == ("admin", True, True)

    def test_unknown_user_is_a_command_error(self):
        with pytest.raises(CommandError, match=r"No user 'nobody@quantory\.app'"):
            run("assign_role", "nobody@quantory.app", "tester")
        assert not User.objects.exists()

    def test_unknown_role_is_a_command_error(self, make_user):
        user = make_user()

        with pytest.raises(CommandError, match="Unknown role 'owner'; choose one of"):
            run("assign_role", user.username, "owner")

    def test_create_adds_a_staff_member_who_signs_in_later(self):
        out, _ = run("assign_role", "Bob@Quantory.app", "viewer", "--create")

        user = User.objects.get()
        assert (user.username, user.email, user.role) == (
            "bob@quantory.app",
            "bob@quantory.app",
            "viewer",
        )
        assert not user.has_usable_password()
        assert "bob@quantory.app is now viewer." in out

    def test_create_adds_a_service(self):
        run("assign_role", "billing-bot", "service", "--create")

        user = User.objects.get()
        assert (user.username, user.role, user.display_name) == (
            "billing-bot",
            "service",
            "Billing Bot",
        )

    def test_create_refuses_an_email_off_the_allowed_domains(self):
        with pytest.raises(CommandError, match=r"not an e-mail on quantory\.app"):
            run("assign_role", "eve@gmail.com", "admin", "--create")
        assert not User.objects.exists()

    def test_the_last_admin_cannot_be_demoted(self, make_user):
        admin = make_user(role=Role.ADMIN)

        with pytest.raises(CommandError, match="last active admin"):
            run("assign_role", admin.username, "viewer")

    def test_missing_arguments_are_a_command_error(self):
        with pytest.raises(CommandError, match="the following arguments are required"):
            run("assign_role", "someone")


class TestListUsers:
    def test_lists_everyone_with_role_state_and_last_login(self, make_user):
        ada = make_user(role=Role.ADMIN, email="ada@quantory.app", display_name="Ada")
        ada.last_login = timezone.now().replace(year=2026, month=1, day=2, hour=3)
        ada.save()
        make_user(role=Role.SERVICE, username="bot", is_active=False)

        out, _ = run("list_users")

        lines = out.splitlines()
        assert lines[0] == "username\trole\tactive\tname\tlast login"
        assert lines[1].startswith("ada@quantory.app\tadmin\tyes\tAda\t2026-01-02 03:")
        assert lines[2] == "bot\tservice\tno\t-\tnever"
        assert lines[-1] == "2 user(s)"

    def test_filters_by_role(self, make_user):
        make_user(role=Role.TESTER, email="t@quantory.app")
        make_user(role=Role.VIEWER, email="v@quantory.app")

        out, _ = run("list_users", "--role", "TESTER")

        assert "t@quantory.app" in out
        assert "v@quantory.app" not in out
        assert out.splitlines()[-1] == "1 user(s)"

    def test_unknown_role_is_a_command_error(self):
        with pytest.raises(CommandError, match="Unknown role 'boss'"):
            run("list_users", "--role", "boss")


class TestCreateApiKey:
    def test_prints_the_key_alone_on_the_last_line(self, make_user):
        bot = make_user(role=Role.SERVICE, username="workflow-consumer")

        out, _ = run("create_api_key", "workflow-consumer", "--name", "prod")

        key = out.splitlines()[-1]
        assert key.startswith("itk_")
        assert " " not in key
        assert api_key_authenticate(key=key) == bot
        api_key = ApiKey.objects.get()
        assert api_key.name == "prod"
        assert api_key.expires_at is None
        assert f"itk_{api_key.prefix}" in out.splitlines()[0]
        assert "does not expire" in out

    def test_expires_after_the_given_days(self, make_user):
        make_user(role=Role.DEVELOPER, email="ada@quantory.app")

        out, _ = run("create_api_key", "ada@quantory.app", "--expires-days", "30")

        expires_at = ApiKey.objects.get().expires_at
        assert expires_at is not None
        assert abs(expires_at - (timezone.now() + timedelta(days=30))) < timedelta(
            minutes=1
        )
        assert "expires" in out

    def test_unknown_user_is_a_command_error(self):
        with pytest.raises(CommandError, match="No user 'ghost'"):
            run("create_api_key", "ghost")
        assert not ApiKey.objects.exists()

    def test_a_lifetime_under_a_day_is_a_command_error(self, make_user):
        user = make_user()

        with pytest.raises(CommandError, match="at least one day"):
            run("create_api_key", user.username, "--expires-days", "0")


class TestRevokeApiKey:
    @pytest.mark.parametrize("form", ["{prefix}", "itk_{prefix}", "{key}"])
    def test_revokes_by_prefix_or_key(self, make_user, form):
        issued = api_key_create(owner=make_user(role=Role.SERVICE))
        name = form.format(prefix=issued.api_key.prefix, key=issued.key)

        out, _ = run("revoke_api_key", name)

        assert f"Revoked API key itk_{issued.api_key.prefix}" in out
        assert ApiKey.objects.get().revoked_at is not None
        with pytest.raises(NotAuthenticated):
            api_key_authenticate(key=issued.key)

    def test_revoking_twice_says_so(self, make_user):
        issued = api_key_create(owner=make_user(role=Role.SERVICE))
        run("revoke_api_key", issued.api_key.prefix)
        first = ApiKey.objects.get().revoked_at

        out, _ = run("revoke_api_key", issued.api_key.prefix)

        assert "was already revoked" in out
        assert ApiKey.objects.get().revoked_at == first

    def test_unknown_prefix_is_a_command_error(self):
        with pytest.raises(CommandError, match="No API key with prefix 'itk_00000'"):
            run("revoke_api_key", "itk_00000")


class TestEnsureDevAdmin:
    def test_creates_the_local_admin_once_and_prints_how_to_sign_in(
        self, settings, tmp_path
    ):
        settings.DEBUG = True
        settings.DATA_DIR = tmp_path

        first, _ = run("ensure_dev_admin", "--base-url", "http://127.0.0.1:8123")
        second, _ = run("ensure_dev_admin")

        admin = User.objects.get()
        password = first.strip().rsplit(" ", 1)[1]
        assert (admin.username, admin.role, admin.is_superuser) == (
            "admin",
            "admin",
            True,
        )
        assert admin.check_password(password)
        assert "http://127.0.0.1:8123/accounts/dev-login/" in first
        assert first.startswith("Created 'admin'")
        assert second.strip().endswith(password)
        assert (tmp_path / "dev-admin-password").stat().st_mode & 0o077 == 0

    def test_sets_a_fresh_password_when_the_file_is_gone(self, settings, tmp_path):
        settings.DEBUG = True
        settings.DATA_DIR = tmp_path
        run("ensure_dev_admin")
        (tmp_path / "dev-admin-password").unlink()

        out, _ = run("ensure_dev_admin")

        password = out.strip().rsplit(" ", 1)[1]
        assert User.objects.get().check_password(password)

    def test_does_nothing_without_debug(self, settings, tmp_path):
        settings.DEBUG = False
        settings.DATA_DIR = tmp_path

        out, _ = run("ensure_dev_admin")

        assert "Development sign-in is off" in out
        assert not User.objects.exists()

    def test_does_nothing_in_production(self, settings, tmp_path):
        settings.DEBUG = True
        settings.IS_PRODUCTION = True
        settings.DATA_DIR = tmp_path

        run("ensure_dev_admin")

        assert not User.objects.exists()

    def test_refuses_when_admin_is_taken_by_a_non_admin(
        self, settings, tmp_path, make_user
    ):
        settings.DEBUG = True
        settings.DATA_DIR = tmp_path
        make_user(role=Role.SERVICE, username="admin")

        with pytest.raises(CommandError, match="not an admin"):
            run("ensure_dev_admin")
