"""`manage.py revoke_api_key <key-prefix>`."""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from accounts.services.api_keys import api_key_get, api_key_revoke
from accounts.services.audit import COMMAND, command_actor
from issuetracker.errors import ApplicationError


class Command(BaseCommand):
    """Revoke an API key; it stops working on the next request."""

    help = "Revoke an API key named by its prefix (itk_0123abcd45 or 0123abcd45)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        """The key's prefix, as `list` output and the admin show it."""
        parser.add_argument("prefix", help="the key's prefix, with or without itk_")

    def handle(self, *args: Any, **options: Any) -> None:
        """Call `api_key_revoke` and say what happened."""
        try:
            api_key = api_key_get(prefix=options["prefix"])
            revoked = api_key_revoke(
                api_key=api_key, actor=command_actor(), source=COMMAND
            )
        except ApplicationError as error:
            raise CommandError(error.message) from None
        label = f"itk_{api_key.prefix} of {api_key.owner.username}"
        if revoked:
            self.stdout.write(self.style.SUCCESS(f"Revoked API key {label}."))
        else:
            self.stdout.write(f"API key {label} was already revoked.")
