"""`manage.py backfill_issues`: make the Flask app's issues searchable and sortable,
and rebuild the issue counters the dashboard reads."""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from issues.upkeep import issue_counts_rebuild, issues_backfill
from issuetracker.errors import ApplicationError


class Command(BaseCommand):
    """Add search words, priority rank, version and camelCase fields to old issues,
    then recount the issue counters."""

    help = (
        "Add the fields the tracker's queries need (search words, priority rank, "
        "version, camelCase ids, real timestamps) to issues the Flask app wrote, "
        "then rebuild the issue counters (by status, by priority, in all) from "
        "aggregation counts. Safe to run again; it changes no issue's content or "
        "updatedAt."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        """`--counters-only` skips the scan of every issue."""
        parser.add_argument(
            "--counters-only",
            action="store_true",
            help="Only rebuild the counters (a few aggregation queries), for "
            "example after editing issues in the Firestore console.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        """Run the backfill and the recount, and report their counts."""
        try:
            if not options["counters_only"]:
                report = issues_backfill()
                self.stdout.write(
                    f"Scanned {report.scanned} issues, updated {report.repaired}, "
                    f"{report.unreadable} unreadable (see the log)."
                )
            counts = issue_counts_rebuild()
        except ApplicationError as error:
            raise CommandError(error.message) from error
        by_status = ", ".join(f"{s} {n}" for s, n in counts.by_status.items())
        by_priority = ", ".join(f"{p} {n}" for p, n in counts.by_priority.items())
        self.stdout.write(
            f"Counters rebuilt: {counts.total} issues; by status: {by_status}; "
            f"by priority: {by_priority}."
        )
