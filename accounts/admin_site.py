"""The Django admin for admins only, entered through the same sign-in as the portal."""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from accounts.policy import user_can
from accounts.roles import Action


class TrackerAdminSite(admin.AdminSite):
    """Open to active users whose role may manage users; no password form of its own.

    Its login page sends people to the one sign-in (Google; in DEBUG also the
    development login), so production has no separate password door.
    """

    site_header = "AlphaFusion Issues administration"
    site_title = "AlphaFusion Issues admin"
    index_title = "Users, roles and API keys"

    def has_permission(self, request: HttpRequest) -> bool:
        """Admins (role) only; is_staff alone opens nothing."""
        return user_can(request.user, Action.MANAGE)

    def login(
        self, request: HttpRequest, extra_context: dict[str, object] | None = None
    ) -> HttpResponse:
        """Send anonymous visitors to the sign-in; refuse signed-in non-admins."""
        if request.user.is_authenticated:
            if self.has_permission(request):
                return super().login(request, extra_context)
            return render(
                request,
                "403.html",
                {"message": "The administration is for admins only."},
                status=403,
            )
        next_url = request.GET.get("next") or reverse("admin:index")
        return redirect_to_login(next_url, settings.LOGIN_URL)
