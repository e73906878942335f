from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class AccountsConfig(AppConfig):
    """Users, roles, service keys and the Google login rules."""

    default = True
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"

    def ready(self) -> None:
        """Register the deploy checks of the accounts settings."""
        from accounts import checks  # noqa: F401 - registers with @register


class TrackerAdminConfig(admin_apps.AdminConfig):
    """`django.contrib.admin` with the tracker's site (admins only, one sign-in)."""

    default = False
    default_site = "accounts.admin_site.TrackerAdminSite"
