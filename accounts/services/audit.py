"""The audit log: who did what, when and from where, for the actions that matter.

Deletes, restores and purges of issues, role and active-flag changes, API key
creation and revocation, and refused sign-ins each add one `AuditEntry`,
whichever road they came by (API, portal, admin, command). Entries are only
ever added (`audit_record`) and read (`audit_entries`); the model refuses
changes and the database refuses updates.

`source` says where from: the client IP of a request (`request_source`), or
`command` for management commands, whose actor is the system user running them
(`command_actor`).
"""

import getpass
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from accounts.models import AuditAction, AuditEntry
from issuetracker.clientip import meta_client_ip

COMMAND: Final = "command"
# An action a service performed with no request and no command behind it.
SYSTEM: Final = "system"
AUDIT_LIMIT_MAX: Final = 10_000


def request_source(meta: Mapping[str, Any]) -> str:
    """The client IP of a request, from its `META`, as the rate limits and the
    logs see it (`issuetracker.clientip`: `TRUSTED_PROXIES` decides whether the
    forwarded address counts)."""
    return (meta_client_ip(meta) or "unknown")[:64]


def command_actor() -> str:
    """Who runs a management command: the system user (`command` if unknown)."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = ""
    return f"{name or 'unknown'} (shell)"


def actor_label(actor: Any) -> str:
    """The actor id of a user (its username), or the label given as text."""
    if actor is None:
        return SYSTEM
    if isinstance(actor, str):
        return actor
    return str(getattr(actor, "actor_id", "") or getattr(actor, "username", ""))


def audit_record(
    *,
    action: AuditAction,
    actor: Any,
    target: str,
    source: str,
    details: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Add one entry; `actor` is a user, a label (`command_actor()`) or None."""
    return AuditEntry.objects.create(
        action=action,
        actor=actor_label(actor)[:254],
        target=target[:254],
        source=(source or SYSTEM)[:64],
        details=dict(details or {}),
    )


def audit_entries(
    *, since: datetime | None = None, limit: int = 100
) -> list[AuditEntry]:
    """The newest `limit` entries (since `since` when given), newest first."""
    entries = AuditEntry.objects.order_by("-created_at", "-id")
    if since is not None:
        entries = entries.filter(created_at__gte=since)
    return list(entries[: max(1, min(limit, AUDIT_LIMIT_MAX))])
