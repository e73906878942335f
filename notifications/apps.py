from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    """In-app and e-mail notifications, stored in Firestore."""

    name = "notifications"

    def ready(self) -> None:
        """Hear of every committed issue change."""
        from issues import events
        from notifications.services import event_committed

        events.on_committed(event_committed)
