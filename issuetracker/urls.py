"""Top-level URLs: the API under /api/, the admin, the portal."""

from django.contrib import admin
from django.urls import path

from issuetracker.health import HealthView

urlpatterns = [
    path("api/health", HealthView.as_view(), name="health"),
    path("admin/", admin.site.urls),
]
