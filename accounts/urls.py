"""Account URLs, mounted under /accounts/ before allauth's (which they override)."""

from django.urls import path

from accounts import views

urlpatterns = [
    path("dev-login/", views.dev_login, name="dev_login"),
    path("google/login/", views.google_login, name="google_login"),
]
