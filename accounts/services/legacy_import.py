"""The one-off import of the old app's `users` documents into the user table."""

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction

from accounts.repository import LegacyUser
from accounts.roles import Role
from accounts.services.audit import COMMAND, command_actor
from accounts.services.domains import email_is_allowed
from accounts.services.google import staff_user_for_email
from accounts.services.users import role_parse, staff_user_create, user_set_role
from issuetracker.errors import Conflict, InvalidInput

logger = logging.getLogger(__name__)


@dataclass
class ImportReport:
    """What an import did; `skipped` holds one reason per skipped document."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[str] = field(default_factory=list)


def _legacy_user_apply(record: LegacyUser, report: ImportReport) -> None:
    email = record.email.strip().lower()
    if not email:
        report.skipped.append(f"{record.doc_id}: no e-mail")
        return
    if not email_is_allowed(email):
        report.skipped.append(f"{record.doc_id}: {email} is not on an allowed domain")
        return
    try:
        role = role_parse(record.role) if record.role.strip() else Role.DEVELOPER
    except InvalidInput:
        report.skipped.append(f"{record.doc_id}: unknown role {record.role!r}")
        return
    avatar_url = record.photo_url if record.photo_url.startswith("https://") else ""
    user = staff_user_for_email(email=email)
    if user is None:
        user = staff_user_create(email=email, role=role)
        user.display_name = record.display_name[:150]
        user.avatar_url = avatar_url[:500]
        user.save(update_fields=["display_name", "avatar_url"])
        report.created += 1
        return
    before = (user.role, user.display_name, user.avatar_url, user.email)
    user.display_name = record.display_name[:150] or user.display_name
    user.avatar_url = avatar_url[:500] or user.avatar_url
    user.email = user.email or email
    user.save(update_fields=["display_name", "avatar_url", "email"])
    if user.role != role:
        try:
            user_set_role(user=user, role=role, actor=command_actor(), source=COMMAND)
        except Conflict as error:
            report.skipped.append(f"{record.doc_id}: {error.message}")
            return
    if before == (user.role, user.display_name, user.avatar_url, user.email):
        report.unchanged += 1
    else:
        report.updated += 1


def users_import_legacy(*, records: Iterable[LegacyUser]) -> ImportReport:
    """Create or update users from the old app's `users` documents. Idempotent.

    Only addresses on the allowed domains are imported; the role defaults to
    developer when the document has none.
    """
    report = ImportReport()
    for record in records:
        with transaction.atomic():
            _legacy_user_apply(record, report)
    logger.info(
        "Imported users: %d created, %d updated, %d unchanged, %d skipped",
        report.created,
        report.updated,
        report.unchanged,
        len(report.skipped),
    )
    return report
