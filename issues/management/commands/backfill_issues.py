"""`manage.py backfill_issues`: make the Flask app's issues searchable and sortable."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from issues.services import issues_backfill
from issuetracker.errors import ApplicationError


class Command(BaseCommand):
    """Add search words, priority rank, version and camelCase fields to old issues."""

    help = (
        "Add the fields the tracker's queries need (search words, priority rank, "
        "version, camelCase ids, real timestamps) to issues the Flask app wrote. "
        "Safe to run again; it changes no issue's content or updatedAt."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        """Run the backfill and report its counts."""
        try:
            report = issues_backfill()
        except ApplicationError as error:
            raise CommandError(error.message) from error
        self.stdout.write(
            f"Scanned {report.scanned} issues, updated {report.repaired}, "
            f"{report.unreadable} unreadable (see the log)."
        )
