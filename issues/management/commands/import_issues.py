"""`manage.py import_issues FILE [--allow-existing]`."""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from issues.upkeep import issues_import
from issuetracker.errors import ApplicationError


class Command(BaseCommand):
    """Write an export back: ids, timestamps, versions and history as they were."""

    help = (
        "Import an export_issues file into an empty project (refused when issues "
        "exist, unless --allow-existing), keeping every id, timestamp and version, "
        "then rebuild the issue counters."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        """The file, and whether existing issues may be overwritten."""
        parser.add_argument("file", help="a JSON Lines file from export_issues")
        parser.add_argument(
            "--allow-existing",
            action="store_true",
            help="import although issues exist (same ids are replaced)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        """Call `issues_import` on the file, line by line."""
        try:
            with open(options["file"], encoding="utf-8") as lines:
                report = issues_import(
                    lines=lines, allow_existing=options["allow_existing"]
                )
        except OSError as error:
            raise CommandError(f"Cannot read {options['file']}: {error}") from None
        except ApplicationError as error:
            raise CommandError(error.message) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {report.issues} issue(s), {report.comments} comment(s), "
                f"{report.activities} activit(ies); counters rebuilt "
                f"({report.counts.total if report.counts else 0} in all)."
            )
        )
