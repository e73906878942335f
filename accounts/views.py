"""Account pages: the DEBUG-only development sign-in; Google's sign-in start."""

from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.models import SocialApp
from allauth.socialaccount.providers.google.provider import GoogleProvider
from allauth.socialaccount.providers.google.views import oauth2_login
from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth.forms import AuthenticationForm
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from accounts.services.dev_admin import dev_login_enabled

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _next_url(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url(settings.LOGIN_REDIRECT_URL)


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def dev_login(request: HttpRequest) -> HttpResponse:
    """Username and password sign-in for local users; 404 unless DEBUG is on."""
    if not dev_login_enabled():
        raise Http404("The development sign-in is off.")
    form = AuthenticationForm(request, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        login(request, form.get_user(), backend=MODEL_BACKEND)
        return HttpResponseRedirect(_next_url(request))
    return render(
        request, "accounts/dev_login.html", {"form": form, "next": _next_url(request)}
    )


def google_login(request: HttpRequest) -> HttpResponse:
    """allauth's Google sign-in start, or, with no Google app configured, a 503
    page saying what to configure (allauth itself fails with a 500)."""
    try:
        get_adapter(request).get_app(request, provider=GoogleProvider.id)
    except SocialApp.DoesNotExist:
        return render(request, "account/google_unconfigured.html", status=503)
    response: HttpResponse = oauth2_login(request)
    return response
