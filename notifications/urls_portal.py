"""The portal's notification pages."""

from django.urls import path

from notifications import views

app_name = "notifications"

urlpatterns = [
    path("", views.InboxView.as_view(), name="inbox"),
    path("read-all/", views.ReadAllView.as_view(), name="read-all"),
    path("<str:notification_id>/read/", views.ReadView.as_view(), name="read"),
    path("settings/", views.SettingsView.as_view(), name="settings"),
    path(
        "unsubscribe/<str:token>/",
        views.UnsubscribeView.as_view(),
        name="unsubscribe",
    ),
    path("watch/<issue_id:issue_id>/", views.WatchView.as_view(), name="watch"),
]
