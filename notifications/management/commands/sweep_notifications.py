"""`manage.py sweep_notifications`: hand off again what a process that died
between a commit and the queue (or mid-delivery) left behind. Run it every
minute from a scheduler; each run is cheap (two indexed queries) and safe."""

from argparse import ArgumentParser
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand

from notifications import services


class Command(BaseCommand):
    help = "Queue undelivered notification events and owed e-mails again."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--grace",
            type=float,
            default=60.0,
            help="Only what is older than this many seconds (default 60).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        events, owed = services.notifications_sweep(
            grace=timedelta(seconds=options["grace"])
        )
        self.stdout.write(f"Queued {events} event(s) and {owed} e-mail(s) again.")
