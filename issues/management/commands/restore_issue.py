"""`manage.py restore_issue <issue-id>`."""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from issues.upkeep import issue_restore_by_operator
from issuetracker.errors import ApplicationError


class Command(BaseCommand):
    """Put a deleted issue back from the trash, with its comments and history."""

    help = (
        "Restore a deleted issue from the trash (audited as the system user "
        "running the command). See list_trash for what is there."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        """The issue's id."""
        parser.add_argument("issue_id", help="the deleted issue's id")

    def handle(self, *args: Any, **options: Any) -> None:
        """Call `issue_restore_by_operator` and name the issue."""
        try:
            issue = issue_restore_by_operator(issue_id=options["issue_id"])
        except ApplicationError as error:
            raise CommandError(error.message) from None
        self.stdout.write(self.style.SUCCESS(f"Restored {issue.id}: {issue.title}"))
