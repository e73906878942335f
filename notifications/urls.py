"""`/api/v1/notifications...` and `/api/v1/issues/{id}/watch` (under /api/v1/)."""

from django.urls import path

from notifications.api import NotificationViewSet, WatchViewSet

app_name = "notifications-api"

urlpatterns = [
    path(
        "notifications",
        NotificationViewSet.as_view({"get": "list"}),
        name="notification-list",
    ),
    path(
        "notifications/read-all",
        NotificationViewSet.as_view({"post": "read_all"}),
        name="notification-read-all",
    ),
    path(
        "notifications/<str:notification_id>/read",
        NotificationViewSet.as_view({"post": "read"}),
        name="notification-read",
    ),
    path(
        "issues/<issue_id:issue_id>/watch",
        WatchViewSet.as_view({"post": "create", "delete": "destroy"}),
        name="issue-watch",
    ),
]
