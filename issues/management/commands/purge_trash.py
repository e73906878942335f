"""`manage.py purge_trash [--older-than-days 30]`."""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from issues.upkeep import TRASH_DAYS, trash_purge
from issuetracker.errors import ApplicationError


class Command(BaseCommand):
    """Delete for good the issues trashed more than N days ago (default 30)."""

    help = (
        "Delete for good, with their comments and history, the issues deleted "
        f"more than --older-than-days days ago (default {TRASH_DAYS}). Each purge "
        "is audited; one interrupted half-way is finished by the next run."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        """How old a deletion must be to be purged."""
        parser.add_argument(
            "--older-than-days",
            type=int,
            default=TRASH_DAYS,
            help=f"days since the deletion (default {TRASH_DAYS})",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        """Call `trash_purge` and say how many issues went."""
        try:
            purged = trash_purge(older_than_days=options["older_than_days"])
        except ApplicationError as error:
            raise CommandError(error.message) from None
        for issue_id in purged:
            self.stdout.write(f"Purged {issue_id}")
        self.stdout.write(self.style.SUCCESS(f"Purged {len(purged)} issue(s)."))
