"""Top-level URLs: the API under /api/, the admin, the portal."""

from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from issuetracker import exception_handler
from issuetracker.health import HealthView

urlpatterns = [
    path("api/health", HealthView.as_view(), name="health"),
    path("api/v1/", include("issues.urls")),
    path("api/v1/", include("notifications.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="schema", template_name="issues/api_docs.html"
        ),
        name="api-docs",
    ),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("accounts/", include("allauth.urls")),
    path("notifications/", include("notifications.urls_portal")),
    path("", include("issues.urls_portal")),
]

# Unknown URLs under /api/ answer problem+json, in DEBUG too; kept last on purpose.
urlpatterns.append(re_path(r"^api/", exception_handler.api_not_found))

handler404 = exception_handler.handler404
handler500 = exception_handler.handler500
