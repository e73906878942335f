"""`manage.py create_api_key <email-or-username> [--name NAME] [--expires-days N]`."""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from accounts.services.api_keys import api_key_create, api_key_expiry
from accounts.services.audit import COMMAND, command_actor
from accounts.services.users import user_get
from issuetracker.errors import ApplicationError


class Command(BaseCommand):
    """Issue an API key; the key alone is printed on the last line, once."""

    help = (
        "Create an API key for a user (a service, or a staff member for scripts). "
        "The key is printed alone on the last line and never shown again."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        """Owner, a name for the key and an optional lifetime."""
        parser.add_argument("user", help="username or e-mail of the key's owner")
        parser.add_argument("--name", default="", help="what the key is for")
        parser.add_argument(
            "--expires-days", type=int, default=None, help="lifetime in days"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        """Call `api_key_create`; describe the key, then print it alone."""
        try:
            owner = user_get(identifier=options["user"])
            issued = api_key_create(
                owner=owner,
                name=options["name"],
                expires_at=api_key_expiry(days=options["expires_days"]),
                actor=command_actor(),
                source=COMMAND,
            )
        except ApplicationError as error:
            raise CommandError(error.message) from None
        api_key = issued.api_key
        expiry = (
            f"expires {api_key.expires_at:%Y-%m-%d %H:%M} UTC"
            if api_key.expires_at
            else "does not expire"
        )
        self.stdout.write(
            f"Created API key itk_{api_key.prefix} for {owner.username} "
            f"({owner.role}); it {expiry}. Copy it now, it is not shown again:"
        )
        self.stdout.write(issued.key)
