"""The portal's inbox, settings, watch button and the sign-in-free unsubscribe."""

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from issues import services as issue_services
from issues.views import PortalView
from issuetracker.errors import NotFound
from notifications import emails, services
from notifications.forms import SettingsForm

PAGE = 25


class InboxView(PortalView):
    """`/notifications/`: newest first, cursor pages, unread marked."""

    def get(self, request: HttpRequest) -> HttpResponse:
        """Render one page of the viewer's notifications."""
        unread_only = request.GET.get("unread") == "1"
        page = services.notification_list(
            user=request.user,
            unread_only=unread_only,
            limit=PAGE,
            cursor=request.GET.get("cursor") or None,
        )
        context = {"page": page, "unread_only": unread_only}
        return render(request, "notifications/inbox.html", context)


def _back(request: HttpRequest) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("notifications:inbox"))


class ReadView(PortalView):
    """`POST /notifications/<id>/read/`: mark one read, then go to its issue
    (`?open=1`) or back to the inbox."""

    def post(self, request: HttpRequest, notification_id: str) -> HttpResponse:
        """Mark it read."""
        services.notification_read(user=request.user, notification_id=notification_id)
        issue_id = request.POST.get("issue_id")
        if request.POST.get("open") and issue_id:
            return HttpResponseRedirect(reverse("portal:issue-detail", args=[issue_id]))
        return _back(request)


class ReadAllView(PortalView):
    """`POST /notifications/read-all/`."""

    def post(self, request: HttpRequest) -> HttpResponse:
        """Mark all read."""
        marked = services.notifications_read_all(user=request.user)
        messages.success(request, f"{marked} marked read.")
        return _back(request)


class SettingsView(PortalView):
    """`/notifications/settings/`: e-mail per kind, critical-issue alerts."""

    def get(self, request: HttpRequest) -> HttpResponse:
        """Show the settings."""
        found = services.settings_get(user=request.user)  # type: ignore[arg-type]
        form = SettingsForm(initial=SettingsForm.initial_for(found))
        return render(request, "notifications/settings.html", {"form": form})

    def post(self, request: HttpRequest) -> HttpResponse:
        """Save them."""
        form = SettingsForm(request.POST)
        if not form.is_valid():
            return render(
                request, "notifications/settings.html", {"form": form}, status=400
            )
        services.settings_update(
            user=request.user,  # type: ignore[arg-type]
            email=form.email(),
            critical_issues=form.cleaned_data["critical_issues"],
        )
        messages.success(request, "Notification settings saved.")
        return HttpResponseRedirect(reverse("notifications:settings"))


class WatchView(PortalView):
    """`POST /notifications/watch/<issue id>/`: watch (`watching=1`) or not."""

    def post(self, request: HttpRequest, issue_id: str) -> HttpResponse:
        """Change watching, back to the issue."""
        watching = request.POST.get("watching") == "1"
        issue_services.issue_watch(
            actor=request.user, issue_id=issue_id, watching=watching
        )
        messages.success(
            request, "You watch this issue." if watching else "You stopped watching."
        )
        return HttpResponseRedirect(reverse("portal:issue-detail", args=[issue_id]))


@method_decorator(csrf_exempt, name="dispatch")
class UnsubscribeView(View):
    """The e-mails' unsubscribe link: no sign-in (the signed token is the
    proof). GET shows a button (link scanners must not unsubscribe anyone);
    POST, from the button or a mail client's one-click (RFC 8058), switches
    the e-mails off."""

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        """The confirmation page."""
        if emails.read_unsubscribe_token(token) is None:
            return render(request, "404.html", status=404)
        return render(request, "notifications/unsubscribe.html", {"done": False})

    def post(self, request: HttpRequest, token: str, **_: Any) -> HttpResponse:
        """Switch the e-mails off."""
        try:
            kinds = services.unsubscribe(token=token)
        except NotFound:
            return render(request, "404.html", status=404)
        context = {"done": True, "kinds": [str(kind) for kind in kinds]}
        return render(request, "notifications/unsubscribe.html", context)
