"""`manage.py list_trash [--limit N]`."""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from issues.domain import PAGE_MAX
from issues.upkeep import trash_page
from issuetracker.errors import ApplicationError


class Command(BaseCommand):
    """Print the trash, most recently deleted first: id, when, by whom, title."""

    help = "List deleted issues, most recently deleted first (restore_issue <id>)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        """How many to print."""
        parser.add_argument(
            "--limit", type=int, default=PAGE_MAX, help=f"at most (1-{PAGE_MAX})"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        """Call `trash_page` and print one line per issue."""
        try:
            page = trash_page(limit=options["limit"])
        except ApplicationError as error:
            raise CommandError(error.message) from None
        for trashed in page.items:
            self.stdout.write(
                f"{trashed.issue.id}\t{trashed.deleted_at.isoformat()}\t"
                f"{trashed.deleted_by}\t{trashed.issue.title}"
            )
        if page.next_cursor:
            self.stdout.write("(more; raise --limit)")
