"""`manage.py send_notification_digests`: queue today's digest e-mails (run
daily by a scheduler; running it twice a day sends each digest once)."""

from argparse import ArgumentParser
from datetime import UTC, date, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from notifications import tasks


class Command(BaseCommand):
    help = "Queue each person's daily digest of notification e-mails."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--day",
            help="The digest's day, YYYY-MM-DD (default: today, UTC).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        day = options["day"] or datetime.now(UTC).date().isoformat()
        try:
            date.fromisoformat(day)
        except ValueError as error:
            raise CommandError(f"--day must be YYYY-MM-DD, got {day!r}.") from error
        tasks.send_digests.enqueue(day)
        self.stdout.write(f"Queued the digests of {day}.")
