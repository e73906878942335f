"""`manage.py assign_role <email-or-username> <role> [--create]`."""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from accounts.roles import Role
from accounts.services.audit import COMMAND, command_actor
from accounts.services.users import role_parse, user_assign_role
from issuetracker.errors import ApplicationError


class Command(BaseCommand):
    """Give a user a role; with --create, add a staff member or service first."""

    help = (
        "Give a user a role: "
        + ", ".join(role.value for role in Role)
        + ". With --create, a missing user is added (an e-mail on an allowed domain,"
        " or a service id with the role `service`)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        """Who, which role, and whether to create a missing user."""
        parser.add_argument("user", help="username or e-mail")
        parser.add_argument("role", help="admin, developer, tester, viewer or service")
        parser.add_argument(
            "--create", action="store_true", help="add the user when missing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        """Call `user_assign_role` and report the result."""
        try:
            role = role_parse(options["role"])
            user = user_assign_role(
                identifier=options["user"],
                role=role,
                create=options["create"],
                actor=command_actor(),
                source=COMMAND,
            )
        except ApplicationError as error:
            raise CommandError(error.message) from None
        self.stdout.write(self.style.SUCCESS(f"{user.username} is now {user.role}."))
