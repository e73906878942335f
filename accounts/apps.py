from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Users, roles, service keys and the Google login rules."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"
