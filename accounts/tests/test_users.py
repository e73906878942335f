import pytest

from accounts.models import User
from accounts.roles import Role
from accounts.services.users import (
    role_parse,
    staff_usernames_active,
    user_assign_role,
    user_get,
    user_set_active,
    user_set_role,
)
from issuetracker.errors import Conflict, InvalidInput, NotFound

pytestmark = pytest.mark.django_db


class TestRoles:
    def test_role_parse_accepts_any_case(self):
        assert role_parse(" Tester ") is Role.TESTER

    def test_role_parse_names_the_choices(self):
        with pytest.raises(InvalidInput, match="admin, developer, tester"):
            role_parse("owner")

    def test_admin_role_opens_the_admin_and_leaving_it_closes_it(self, make_user):
        user = make_user(role=Role.DEVELOPER)
        make_user(role=Role.ADMIN)

        user_set_role(user=user, role=Role.ADMIN)
        assert (user.is_staff, user.is_superuser) == (True, True)
        user_set_role(user=user, role=Role.VIEWER)
        user.refresh_from_db()
        assert (user.role, user.is_staff, user.is_superuser) == ("viewer", False, False)

    def test_the_last_active_admin_keeps_the_role(self, make_user):
        admin = make_user(role=Role.ADMIN)
        make_user(role=Role.ADMIN, is_active=False)

        with pytest.raises(Conflict):
            user_set_role(user=admin, role=Role.DEVELOPER)
        admin.refresh_from_db()
        assert admin.role == Role.ADMIN

    def test_the_last_active_admin_stays_active(self, make_user):
        admin = make_user(role=Role.ADMIN)
        make_user(role=Role.ADMIN, is_active=False)

        with pytest.raises(Conflict):
            user_set_active(actor=admin, user=admin, active=False)
        admin.refresh_from_db()
        assert admin.is_active

    def test_users_are_deactivated_and_reactivated(self, make_user):
        admin = make_user(role=Role.ADMIN)
        other_admin = make_user(role=Role.ADMIN)

        user_set_active(actor=admin, user=other_admin, active=False)
        other_admin.refresh_from_db()
        assert not other_admin.is_active
        user_set_active(actor=admin, user=other_admin, active=True)
        other_admin.refresh_from_db()
        assert other_admin.is_active

    def test_staff_usernames_active_reads_one_column_of_active_staff(
        self, make_user, django_assert_num_queries
    ):
        make_user(role=Role.VIEWER, username="vic@quantory.app")
        make_user(role=Role.ADMIN, username="ada@quantory.app")
        make_user(role=Role.TESTER, username="gone@quantory.app", is_active=False)
        make_user(role=Role.SERVICE, username="workflow-consumer")

        with django_assert_num_queries(1) as captured:
            usernames = staff_usernames_active()

        assert usernames == ["ada@quantory.app", "vic@quantory.app"]
        assert "password" not in captured.captured_queries[0]["sql"]

    def test_user_get_finds_by_username_or_email_in_any_case(self, make_user):
        user = make_user(email="Ada@quantory.app", username="ada@quantory.app")

        assert user_get(identifier="ADA@quantory.app") == user
        with pytest.raises(NotFound):
            user_get(identifier="bob@quantory.app")

    def test_create_refuses_emails_off_the_allowed_domains(self):
        with pytest.raises(InvalidInput):
            user_assign_role(identifier="ada@gmail.com", role=Role.TESTER, create=True)
        assert not User.objects.exists()
