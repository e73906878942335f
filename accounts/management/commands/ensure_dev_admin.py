"""`manage.py ensure_dev_admin`: the local admin for the development sign-in."""

from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from accounts.services.dev_admin import dev_admin_ensure, dev_login_enabled
from issuetracker.errors import ApplicationError

DEV_ADMIN_FILE = "dev-admin-password"


class Command(BaseCommand):
    """Create the local admin once and print how to sign in (DEBUG only)."""

    help = (
        "Development only: create a local admin once (its password kept in "
        "DATA_DIR/dev-admin-password) and print how to sign in."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        """The address the server listens on, for the printed link."""
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")

    def handle(self, *args: Any, **options: Any) -> None:
        """Call `dev_admin_ensure` and print the sign-in link and credentials."""
        if not dev_login_enabled():
            # `make run` with DEBUG off still starts; there is just no local admin.
            self.stdout.write(
                "Development sign-in is off (DEBUG is off); sign in with Google."
            )
            return
        try:
            dev_admin = dev_admin_ensure(
                password_file=settings.DATA_DIR / DEV_ADMIN_FILE
            )
        except ApplicationError as error:
            raise CommandError(error.message) from None
        url = options["base_url"].rstrip("/") + reverse("dev_login")
        verb = "Created" if dev_admin.created else "Local admin ready:"
        self.stdout.write(
            f"{verb} {dev_admin.user.username!r} (role admin). Sign in at {url} "
            f"with username {dev_admin.user.username} and password "
            f"{dev_admin.password}"
        )
