"""`manage.py export_issues [--output FILE] [--after ID]`."""

import sys
from argparse import ArgumentParser
from contextlib import ExitStack
from typing import Any, TextIO, cast

from django.core.management.base import BaseCommand, CommandError

from issues.upkeep import issues_export
from issuetracker.errors import ApplicationError


class Command(BaseCommand):
    """Every issue with its comments and history as JSON Lines, page by page."""

    help = (
        "Write every issue with its comments and history as JSON Lines (one issue "
        "a line, in id order) to --output or standard output. Progress and the "
        "last exported id go to standard error; after an interruption, run again "
        "with --after <last id> and the same --output to append the rest."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        """Where to write, and after which id to start."""
        parser.add_argument("--output", help="file to write (appended to with --after)")
        parser.add_argument("--after", help="resume after this issue id")

    def handle(self, *args: Any, **options: Any) -> None:
        """Call `issues_export`, reporting each page's last id."""
        after = options["after"]

        def progress(last_id: str, exported: int) -> None:
            self.stderr.write(f"exported {exported} issue(s); last id {last_id}")

        with ExitStack() as stack:
            out: TextIO = sys.stdout
            if options["output"]:
                mode = "a" if after else "w"
                file = open(options["output"], mode, encoding="utf-8")  # noqa: SIM115
                out = cast(TextIO, stack.enter_context(file))
            try:
                report = issues_export(out=out, after=after, on_page=progress)
            except ApplicationError as error:
                raise CommandError(error.message) from None
        self.stderr.write(
            f"Exported {report.issues} issue(s), {report.comments} comment(s), "
            f"{report.activities} activit(ies). Last id: {report.last_id or '-'}"
        )
