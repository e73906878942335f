"""Notifications as plain values and the pure rules of who hears of what."""

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final


class Kind(StrEnum):
    """What a notification tells (stored as `type`)."""

    ASSIGNED = "assigned"
    MENTIONED = "mentioned"
    STATUS_CHANGED = "status-changed"
    COMMENTED = "commented"
    CRITICAL = "critical"
    OCCURRED = "occurred"


class EmailMode(StrEnum):
    """How a person wants e-mail about one kind."""

    OFF = "off"
    IMMEDIATE = "immediate"
    DIGEST = "digest"


DEFAULT_EMAIL: Final[Mapping[Kind, EmailMode]] = {
    Kind.ASSIGNED: EmailMode.IMMEDIATE,
    Kind.MENTIONED: EmailMode.IMMEDIATE,
    Kind.STATUS_CHANGED: EmailMode.DIGEST,
    Kind.COMMENTED: EmailMode.DIGEST,
    Kind.CRITICAL: EmailMode.DIGEST,
    Kind.OCCURRED: EmailMode.DIGEST,
}

# One action tells each person one thing: the first kind of this order that
# applies to them.
PRECEDENCE: Final = (
    Kind.ASSIGNED,
    Kind.MENTIONED,
    Kind.STATUS_CHANGED,
    Kind.COMMENTED,
    Kind.CRITICAL,
    Kind.OCCURRED,
)


@dataclass(frozen=True)
class Notification:
    """One notification of one person."""

    id: str
    user_id: str
    type: Kind
    issue_id: str
    message: str
    read: bool = False
    created_at: datetime | None = None
    actor_id: str = ""
    issue_title: str = ""


@dataclass(frozen=True)
class Delivery:
    """A notification to create, with how it is e-mailed."""

    notification: Notification
    email: EmailMode


def notification_id(event_id: str, user_id: str) -> str:
    """The id of `user_id`'s notification of one event: the same on every retry,
    so a second delivery finds it and creates nothing."""
    return hashlib.sha256(f"{event_id}\n{user_id}".encode()).hexdigest()[:40]


def recipients(
    candidates: Iterable[tuple[Kind, Iterable[str]]], *, actor_id: str
) -> dict[str, Kind]:
    """Who hears of one action, and as what: each person once, with the kind
    of highest precedence; never the actor."""
    chosen: dict[str, Kind] = {}
    for kind, people in candidates:
        for person in people:
            if not person or person == actor_id:
                continue
            held = chosen.get(person)
            if held is None or PRECEDENCE.index(kind) < PRECEDENCE.index(held):
                chosen[person] = kind
    return chosen


def message(kind: Kind, *, actor: str, title: str, detail: str = "") -> str:
    """The one-line text of a notification (people by display name)."""
    texts = {
        Kind.ASSIGNED: f"{actor} assigned you to “{title}”",
        Kind.MENTIONED: f"{actor} mentioned you in “{title}”",
        Kind.STATUS_CHANGED: f"{actor} changed the status of “{title}”{detail}",
        Kind.COMMENTED: f"{actor} commented on “{title}”",
        Kind.CRITICAL: f"{actor} reported a critical issue: “{title}”",
        Kind.OCCURRED: f"“{title}” occurred again{detail}",
    }
    return texts[kind]
