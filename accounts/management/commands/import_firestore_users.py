"""`manage.py import_firestore_users`: the old app's users, once (re-runs are safe)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from accounts import repository
from accounts.services.legacy_import import users_import_legacy
from issuetracker.errors import ApplicationError


class Command(BaseCommand):
    """Import the old app's Firestore `users` collection into Django users."""

    help = (
        "Create or update users from the old app's Firestore `users` collection "
        "(email, role, displayName, photoURL). Safe to run again."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        """Call `users_import_legacy` and report the counts."""
        try:
            report = users_import_legacy(records=repository.legacy_users_iter())
        except ApplicationError as error:
            raise CommandError(error.message) from None
        for reason in report.skipped:
            self.stderr.write(f"Skipped {reason}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported users: {report.created} created, {report.updated} updated, "
                f"{report.unchanged} unchanged, {len(report.skipped)} skipped."
            )
        )
