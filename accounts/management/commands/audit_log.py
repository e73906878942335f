"""`manage.py audit_log [--since DATE] [--limit N]`."""

import json
from argparse import ArgumentParser
from datetime import UTC, datetime, time
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_date, parse_datetime

from accounts.services.audit import AUDIT_LIMIT_MAX, audit_entries


def _since(value: str) -> datetime:
    """An ISO date (midnight UTC) or date-time (UTC unless it says otherwise)."""
    moment = parse_datetime(value)
    if moment is None:
        day = parse_date(value)
        if day is None:
            raise CommandError(f"--since {value!r} is not an ISO date or date-time.")
        moment = datetime.combine(day, time.min)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Command(BaseCommand):
    """Print the audit log, newest first: when, who, what, target, from where."""

    help = (
        "Print the audit log (deletes, restores, purges, role and active changes, "
        "API keys, refused sign-ins), newest first."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        """Since when, and how many entries at most."""
        parser.add_argument(
            "--since", help="ISO date or date-time (UTC), e.g. 2025-01-31"
        )
        parser.add_argument(
            "--limit", type=int, default=100, help="at most this many (default 100)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        """Call `audit_entries` and print one line per entry."""
        limit = options["limit"]
        if not 1 <= limit <= AUDIT_LIMIT_MAX:
            raise CommandError(f"--limit must be between 1 and {AUDIT_LIMIT_MAX}.")
        since = _since(options["since"]) if options["since"] else None
        for entry in audit_entries(since=since, limit=limit):
            details = json.dumps(entry.details, sort_keys=True) if entry.details else ""
            self.stdout.write(
                "\t".join(
                    (
                        entry.created_at.astimezone(UTC).isoformat(),
                        entry.actor or "-",
                        entry.action,
                        entry.target or "-",
                        entry.source,
                        details,
                    )
                ).rstrip()
            )
