"""Notification use cases: who hears of a committed change, in the app and by
e-mail, and each person's inbox and settings.

Delivery runs in tasks (`notifications.tasks`), never in the request: the
issue services publish an event after the commit, `event_committed` hands its
id to the queue, and `event_deliver` creates the notifications (ids per event
and person, one transaction with the counters and the outbox event's removal),
then hands each immediate e-mail to the queue. `notifications_sweep` hands off
again what a dead process left: outbox events and owed e-mails older than a
minute. Every step may run twice; none sends or stores anything twice.
"""

import logging
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from django.core.cache import cache

from accounts.models import User
from accounts.policy import Actor
from accounts.roles import Role
from issues.domain import Issue, Priority
from issues.events import EventKind, IssueEvent
from issues.store import get_issue_repository
from issuetracker.errors import NotFound
from notifications import emails
from notifications.domain import (
    Delivery,
    EmailMode,
    Kind,
    Notification,
    message,
    notification_id,
    recipients,
)
from notifications.mentions import mentioned_names, new_mentions
from notifications.models import NotificationSettings, email_field
from notifications.people import display_name, notifiable, staff_named
from notifications.store import NotificationStore

logger = logging.getLogger(__name__)

HAND_OFF_GRACE: Final = timedelta(minutes=1)
EMAIL_LEASE: Final = timedelta(minutes=5)
OCCURRENCE_QUIET: Final = timedelta(hours=1)
DIGEST_MAX: Final = 200


def _now() -> datetime:
    return datetime.now(UTC)


# --- called by the issue services --------------------------------------------------


def watches_automatically(actor: Actor) -> bool:
    """Whether an actor becomes a watcher of what they report or comment on:
    staff do; services and anonymous callers do not."""
    return bool(
        getattr(actor, "is_authenticated", False)
        and getattr(actor, "role", Role.SERVICE) != Role.SERVICE
        and getattr(actor, "actor_id", "")
    )


def people_mentioned(*, text: str) -> tuple[str, ...]:
    """The ids of the active staff `text` @mentions (outside code)."""
    names = mentioned_names(text)
    return tuple(sorted(user.actor_id for user in staff_named(names)))


def report_may_notify(issue: Issue) -> bool:
    """Whether a new issue can tell anyone (what `_candidates` finds for a
    "reported" event): its assignee, people its description mentions, or the
    subscribers to critical issues. A report that cannot (a service's routine
    report) writes no outbox event and hands the queue nothing."""
    return bool(
        issue.assignee_id
        or issue.priority is Priority.CRITICAL
        or mentioned_names(issue.description)
    )


def event_committed(event: IssueEvent) -> None:
    """Hand a committed change to the queue (registered with issues.events).

    An event with an outbox document is delivered by its id. Occurrences have
    none; a storm of them hands one task a minute per issue to the queue, and
    the delivery tells each watcher at most once an hour.
    """
    from notifications import tasks

    if event.id is not None:
        tasks.deliver_event.enqueue(event.id)
    elif event.kind is EventKind.OCCURRED and cache.add(
        f"notifications:occurred:{event.issue_id}", 1, timeout=60
    ):
        tasks.deliver_occurrence.enqueue(event.issue_id, event.actor_id)


# --- delivery (tasks) -----------------------------------------------------------------


def _candidates(
    store: NotificationStore, event: Mapping[str, Any], issue: Any
) -> list[tuple[Kind, Iterable[str]]]:
    """Who might hear of an outbox event, and as what."""
    kind = event.get("kind")
    changes = {
        c.get("field"): (c.get("oldValue"), c.get("newValue"))
        for c in event.get("changes") or []
        if isinstance(c, dict)
    }
    watchers = list(issue.watcher_ids)
    found: list[tuple[Kind, Iterable[str]]] = []
    if kind == "reported":  # who may hear: `report_may_notify` must agree
        if issue.assignee_id:
            found.append((Kind.ASSIGNED, [issue.assignee_id]))
        found.append((Kind.MENTIONED, people_mentioned(text=issue.description)))
        if issue.priority is Priority.CRITICAL:
            found.append((Kind.CRITICAL, _critical_subscribers()))
    elif kind == "updated":
        if changes.get("assigneeId", (None, None))[1]:
            found.append((Kind.ASSIGNED, [str(changes["assigneeId"][1])]))
        if "description" in changes:
            old, new = changes["description"]
            names = new_mentions(str(old or ""), str(new or ""))
            found.append((Kind.MENTIONED, [u.actor_id for u in staff_named(names)]))
        if "status" in changes:
            found.append((Kind.STATUS_CHANGED, watchers))
    elif kind == "commented":
        text = store.comment_text(issue.id, str(event.get("commentId") or ""))
        found.append((Kind.MENTIONED, people_mentioned(text=text)))
        found.append((Kind.COMMENTED, watchers))
    return found


def _status_detail(event: Mapping[str, Any]) -> str:
    changes = {
        c.get("field"): c.get("newValue")
        for c in event.get("changes") or []
        if isinstance(c, dict)
    }
    detail = f" to {changes.get('status')}" if changes.get("status") else ""
    if changes.get("resolution"):
        detail += f" ({changes['resolution']})"
    return detail


def _settings_of(users: Iterable[User]) -> dict[int, NotificationSettings]:
    ids = [user.pk for user in users]
    return {s.user_id: s for s in NotificationSettings.objects.filter(user_id__in=ids)}


def _deliveries(
    chosen: Mapping[str, Kind],
    *,
    event_id: str,
    issue: Any,
    actor_id: str,
    detail: str = "",
) -> list[Delivery]:
    """A Delivery per active staff member `chosen` names (others are dropped)."""
    people = notifiable(chosen)
    chosen_settings = _settings_of(people.values())
    actor = display_name(actor_id)
    found = []
    for user_id, user in sorted(people.items()):
        kind = chosen[user_id]
        choice = chosen_settings.get(user.pk) or NotificationSettings(user=user)
        mode = choice.email_mode(kind) if user.email else EmailMode.OFF
        text = message(
            kind,
            actor=actor,
            title=issue.title,
            detail=detail if kind in {Kind.STATUS_CHANGED, Kind.OCCURRED} else "",
        )
        item = Notification(
            id=notification_id(event_id, user_id),
            user_id=user_id,
            type=kind,
            issue_id=issue.id,
            message=text,
            actor_id=actor_id,
            issue_title=issue.title,
        )
        found.append(Delivery(notification=item, email=mode))
    return found


def _critical_subscribers() -> list[str]:
    users = User.objects.filter(
        notification_settings__critical_issues=True, is_active=True
    ).exclude(role=Role.SERVICE)
    return [user.actor_id for user in users]


def _hand_off_emails(created: Iterable[Delivery]) -> None:
    from notifications import tasks

    for delivery in created:
        if delivery.email is EmailMode.IMMEDIATE:
            tasks.send_email.enqueue(delivery.notification.id)


def event_deliver(*, event_id: str) -> int:
    """Create the notifications of one outbox event; how many were created
    (0 when an earlier run delivered it)."""
    store = NotificationStore()
    event = store.event(event_id)
    if event is None:
        return 0
    issue = get_issue_repository().get(str(event.get("issueId", "")))
    if issue is None:  # deleted since: nothing to tell
        store.forget_event(event_id)
        return 0
    actor_id = str(event.get("actorId", ""))
    chosen = recipients(_candidates(store, event, issue), actor_id=actor_id)
    deliveries = _deliveries(
        chosen,
        event_id=event_id,
        issue=issue,
        actor_id=actor_id,
        detail=_status_detail(event),
    )
    created = store.deliver(deliveries, now=_now(), event_id=event_id)
    _hand_off_emails(created)
    return len(created)


def occurrence_deliver(*, issue_id: str, actor_id: str) -> int:
    """Tell an issue's watchers it occurred again, at most once an hour."""
    issue = get_issue_repository().get(issue_id)
    if issue is None:
        return 0
    now = _now()
    chosen = recipients([(Kind.OCCURRED, issue.watcher_ids)], actor_id=actor_id)
    event_id = f"occurred-{issue_id}-{now:%Y%m%d%H}"
    deliveries = _deliveries(
        chosen,
        event_id=event_id,
        issue=issue,
        actor_id=actor_id,
        detail=f" ({issue.occurrence_count} times in all)",
    )
    created = NotificationStore().deliver(
        deliveries,
        now=now,
        event_id=event_id,
        outbox=False,
        throttle=(issue_id, now - OCCURRENCE_QUIET),
    )
    _hand_off_emails(created)
    return len(created)


def email_send(*, notification_id: str) -> bool:
    """Send the immediate e-mail of one notification, once: claimed for a
    lease, sent, recorded. Whether it was sent now."""
    store = NotificationStore()
    now = _now()
    item = store.claim_email(notification_id, now=now, lease_until=now + EMAIL_LEASE)
    if item is None:
        return False
    user = notifiable([item.user_id]).get(item.user_id)
    choice = (
        NotificationSettings.objects.filter(user=user).first() if user else None
    ) or NotificationSettings()
    sent = False
    if (
        user is not None
        and user.email
        and choice.email_mode(item.type) is not (EmailMode.OFF)
    ):
        emails.notification_email(to=user.email, item=item).send()
        sent = True
    store.email_sent(notification_id, now=_now())
    return sent


def digests_enqueue(*, day: str) -> int:
    """Hand each active staff member's digest of `day` to the queue."""
    from notifications import tasks

    users = User.objects.filter(is_active=True).exclude(role=Role.SERVICE)
    count = 0
    for user in users.exclude(email=""):
        tasks.send_digest.enqueue(user.actor_id, day)
        count += 1
    return count


def digest_send(*, user_id: str, day: str) -> bool:
    """Send `user_id` one e-mail of the notifications their digest owes, at
    most once a day; whether it was sent."""
    store = NotificationStore()
    items = store.digest_pending(user_id=user_id, limit=DIGEST_MAX)
    user = notifiable([user_id]).get(user_id)
    if not items or user is None or not user.email:
        return False
    if not store.claim_digest(user_id=user_id, day=day, now=_now()):
        return False
    emails.digest_email(to=user.email, user_id=user_id, day=day, items=items).send()
    store.digest_sent([item.id for item in items], now=_now())
    return True


def notifications_sweep(*, grace: timedelta = HAND_OFF_GRACE) -> tuple[int, int]:
    """Hand off again the events and e-mails older than `grace` that nobody
    finished (a process died): (events, e-mails) handed off."""
    from notifications import tasks

    store = NotificationStore()
    before = _now() - grace
    events = store.pending_events(before=before)
    for event_id in events:
        tasks.deliver_event.enqueue(event_id)
    owed = store.due_emails(before=before)
    for notification_id_ in owed:
        tasks.send_email.enqueue(notification_id_)
    return len(events), len(owed)


# --- the inbox ------------------------------------------------------------------------


def unread_count(*, user: Actor) -> int:
    """The number on the badge (one document read)."""
    return NotificationStore().unread_count(str(getattr(user, "actor_id", "")))


def notification_list(
    *, user: Actor, unread_only: bool = False, limit: int = 25, cursor: str | None
) -> Any:
    """A page of the caller's own notifications, newest first."""
    return NotificationStore().page(
        user_id=str(getattr(user, "actor_id", "")),
        unread_only=unread_only,
        limit=limit,
        cursor=cursor,
    )


def notification_read(*, user: Actor, notification_id: str) -> None:
    """Mark one of the caller's notifications read (404 for anyone else's)."""
    if not NotificationStore().mark_read(
        user_id=str(getattr(user, "actor_id", "")),
        notification_id=notification_id,
        now=_now(),
    ):
        raise NotFound("No notification with this id.")


def notifications_read_all(*, user: Actor) -> int:
    """Mark all the caller's notifications read; how many were unread."""
    return NotificationStore().mark_all_read(
        user_id=str(getattr(user, "actor_id", "")), now=_now()
    )


# --- settings -------------------------------------------------------------------------


def settings_get(*, user: User) -> NotificationSettings:
    """The person's settings (the defaults until they save some)."""
    found, _ = NotificationSettings.objects.get_or_create(user=user)
    return found


def settings_update(
    *, user: User, email: Mapping[Kind, EmailMode], critical_issues: bool
) -> NotificationSettings:
    """Save how the person wants to be told."""
    found = settings_get(user=user)
    for kind, mode in email.items():
        setattr(found, email_field(kind), mode.value)
    found.critical_issues = critical_issues
    found.save()
    return found


def unsubscribe(*, token: str) -> list[Kind]:
    """Switch off the e-mails a signed token names (no sign-in needed); the
    kinds switched off. 404 for a token we did not sign."""
    read = emails.read_unsubscribe_token(token)
    user = User.objects.filter(username=read[0]).first() if read else None
    if read is None or user is None:
        raise NotFound("This unsubscribe link is not valid.")
    kinds = emails.kinds_named(read[1])
    settings_update(
        user=user,
        email=dict.fromkeys(kinds, EmailMode.OFF),
        critical_issues=settings_get(user=user).critical_issues,
    )
    return kinds
