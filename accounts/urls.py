"""Account URLs, mounted under /accounts/ beside allauth's."""

from django.urls import path

from accounts import views

urlpatterns = [
    path("dev-login/", views.dev_login, name="dev_login"),
]
