import re

import pytest
from django.test import Client

from accounts.models import ApiKey, User
from accounts.roles import Role
from accounts.services.api_keys import api_key_authenticate, api_key_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client: Client, make_user) -> Client:
    client.force_login(make_user(role=Role.ADMIN, email="root@quantory.app"))
    return client


class TestEntrance:
    def test_anonymous_visitors_are_sent_to_the_one_sign_in(self, client):
        response = client.get("/admin/", follow=True)

        assert response.redirect_chain[-1][0] == "/accounts/login/?next=/admin/"

    def test_the_admin_has_no_password_door(self, client, make_user):
        make_user(role=Role.ADMIN, username="root", password="a-long-admin-password")

        response = client.post(
            "/admin/login/", {"username": "root", "password": "a-long-admin-password"}
        )

        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
        assert "_auth_user_id" not in client.session

    @pytest.mark.parametrize("role", [r for r in Role if r != Role.ADMIN])
    def test_other_roles_are_refused_even_with_django_flags(
        self, client, make_user, role
    ):
        user = make_user(role=role)
        User.objects.filter(pk=user.pk).update(is_staff=True, is_superuser=True)
        client.force_login(user)

        assert client.get("/admin/").status_code == 302
        assert client.get("/admin/login/").status_code == 403
        assert client.get("/admin/accounts/user/").status_code == 302

    def test_an_inactive_admin_is_refused(self, client, make_user):
        client.force_login(make_user(role=Role.ADMIN))
        User.objects.update(is_active=False)

        assert client.get("/admin/").status_code == 302

    def test_admins_get_in(self, admin_client):
        assert admin_client.get("/admin/").status_code == 200


class TestUsers:
    def test_list_shows_role_active_and_last_login_and_filters_by_role(
        self, admin_client, make_user
    ):
        make_user(role=Role.TESTER, email="tess@quantory.app")
        make_user(role=Role.VIEWER, email="vic@quantory.app")

        page = admin_client.get("/admin/accounts/user/?role__exact=tester")

        text = page.content.decode()
        assert "tess@quantory.app" in text
        assert "vic@quantory.app" not in text
        for column in ("column-role", "column-is_active", "column-last_login"):
            assert column in text

    def test_an_admin_changes_a_role(self, admin_client, make_user):
        user = make_user(role=Role.DEVELOPER, email="dev@quantory.app")

        response = admin_client.post(
            f"/admin/accounts/user/{user.pk}/change/",
            {
                "username": user.username,
                "email": user.email,
                "display_name": "Dev",
                "avatar_url": "",
                "role": "admin",
                "is_active": "on",
            },
        )

        assert response.status_code == 302
        user.refresh_from_db()
        assert (user.role, user.is_staff, user.is_superuser) == ("admin", True, True)
        assert user.display_name == "Dev"

    def test_the_last_admin_cannot_demote_themself(self, client, make_user):
        admin = make_user(role=Role.ADMIN)
        client.force_login(admin)

        response = client.post(
            f"/admin/accounts/user/{admin.pk}/change/",
            {
                "username": admin.username,
                "email": admin.email,
                "role": "viewer",
                "is_active": "on",
            },
            follow=True,
        )

        assert "last active admin" in response.content.decode()
        admin.refresh_from_db()
        assert admin.role == Role.ADMIN

    def test_the_last_admin_cannot_deactivate_themself(self, client, make_user):
        admin = make_user(role=Role.ADMIN)
        client.force_login(admin)

        response = client.post(
            f"/admin/accounts/user/{admin.pk}/change/",
            {"username": admin.username, "email": admin.email, "role": "admin"},
            follow=True,
        )

        assert "last active admin" in response.content.decode()
        admin.refresh_from_db()
        assert admin.is_active

    def test_an_admin_deactivates_another_while_one_admin_stays(
        self, admin_client, make_user
    ):
        other_admin = make_user(role=Role.ADMIN, email="second@quantory.app")

        response = admin_client.post(
            f"/admin/accounts/user/{other_admin.pk}/change/",
            {
                "username": other_admin.username,
                "email": other_admin.email,
                "role": "admin",
            },
        )

        assert response.status_code == 302
        other_admin.refresh_from_db()
        assert not other_admin.is_active

    def test_the_username_cannot_be_changed(self, admin_client, make_user):
        user = make_user(role=Role.DEVELOPER, email="dev@quantory.app")
        username = user.username

        response = admin_client.post(
            f"/admin/accounts/user/{user.pk}/change/",
            {
                "username": "renamed@quantory.app",
                "email": user.email,
                "display_name": "Dev",
                "role": "developer",
                "is_active": "on",
            },
        )

        assert response.status_code == 302
        user.refresh_from_db()
        assert (user.username, user.display_name) == (username, "Dev")

    def test_users_are_neither_added_nor_deleted_here(self, admin_client, make_user):
        user = make_user()

        assert admin_client.get("/admin/accounts/user/add/").status_code == 403
        assert (
            admin_client.get(f"/admin/accounts/user/{user.pk}/delete/").status_code
            == 403
        )


class TestApiKeys:
    def test_a_new_key_is_shown_once_and_stored_as_a_hash(
        self, admin_client, make_user
    ):
        bot = make_user(role=Role.SERVICE, username="workflow-consumer")

        response = admin_client.post(
            "/admin/accounts/apikey/add/",
            {"owner": bot.pk, "name": "prod", "expires_in_days": "90"},
        )

        assert response.status_code == 200
        match = re.search(
            r'<code id="api-key">([^<]+)</code>', response.content.decode()
        )
        assert match
        key = match.group(1)
        assert api_key_authenticate(key=key) == bot
        api_key = ApiKey.objects.get()
        assert (api_key.name, api_key.owner) == ("prod", bot)
        assert api_key.expires_at is not None
        assert key not in admin_client.get("/admin/accounts/apikey/").content.decode()
        detail = admin_client.get(f"/admin/accounts/apikey/{api_key.pk}/change/")
        assert key not in detail.content.decode()

    def test_a_key_is_revoked_with_the_action(self, admin_client, make_user):
        issued = api_key_create(owner=make_user(role=Role.SERVICE))

        response = admin_client.post(
            "/admin/accounts/apikey/",
            {"action": "revoke_keys", "_selected_action": [issued.api_key.pk]},
            follow=True,
        )

        assert "Revoked 1 API key(s)." in response.content.decode()
        assert ApiKey.objects.get().revoked_at is not None

    def test_a_key_cannot_be_edited_or_deleted(self, admin_client, make_user):
        issued = api_key_create(owner=make_user(role=Role.SERVICE), name="a")
        url = f"/admin/accounts/apikey/{issued.api_key.pk}/"

        admin_client.post(f"{url}change/", {"name": "b"})

        assert ApiKey.objects.get().name == "a"
        assert admin_client.get(f"{url}delete/").status_code == 403
