"""`manage.py list_users [--role ROLE]`."""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from accounts.services.users import role_parse, users_list
from issuetracker.errors import ApplicationError

COLUMNS = ("username", "role", "active", "name", "last login")


class Command(BaseCommand):
    """List users with their role, active flag and last login."""

    help = "List users with role, active flag, display name and last login."

    def add_arguments(self, parser: ArgumentParser) -> None:
        """An optional role filter."""
        parser.add_argument("--role", help="only users with this role")

    def handle(self, *args: Any, **options: Any) -> None:
        """One tab-separated line per user, after a header line."""
        try:
            role = role_parse(options["role"]) if options["role"] else None
        except ApplicationError as error:
            raise CommandError(error.message) from None
        users = users_list(role=role)
        self.stdout.write("\t".join(COLUMNS))
        for user in users:
            last_login = (
                user.last_login.strftime("%Y-%m-%d %H:%M")
                if user.last_login
                else "never"
            )
            row = (
                user.username,
                user.role,
                "yes" if user.is_active else "no",
                user.display_name or "-",
                last_login,
            )
            self.stdout.write("\t".join(row))
        self.stdout.write(f"{len(users)} user(s)")
