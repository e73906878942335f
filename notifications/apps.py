from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    """In-app and e-mail notifications, stored in Firestore."""

    name = "notifications"
