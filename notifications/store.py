"""The only code that touches Firestore for notifications.

- `notifications/{id}`: the old app's `userId`, `type`, `issueId`, `message`,
  `read`, `createdAt`, plus `actorId`, `issueTitle`, `eventId`, `readAt` and
  the e-mail state: `emailDueAt` (present while an immediate e-mail is owed:
  the creation time, or the end of a sender's lease), `emailedAt`,
  `digestPending` (present while a digest owes it).
- `notificationCounts/{userId}`: `unread`, moved in the same commit as the
  notifications it counts (the badge reads one document).
- `notificationThrottles/{issueId}`: when an issue's occurrences last notified.
- `notificationDigests/{userId}_{day}`: a digest claimed (sent at most once a day).
- `issueEvents/{id}` (issues.store.outbox): read, and deleted once delivered.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from google.api_core import exceptions as google_exceptions
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter
from google.cloud.firestore_v1.query import Query
from google.cloud.firestore_v1.transaction import Transaction

from issues.domain import Page
from issues.store.documents import COMMENTS, CONTENT, ISSUES, Snapshot
from issues.store.outbox import CREATED as EVENT_CREATED
from issues.store.outbox import EVENTS
from issues.store.queries import ordered, query_key, run_page
from issuetracker.firestore import (
    call_options,
    get_client,
    run_transaction,
    store_errors,
)
from notifications.domain import Delivery, EmailMode, Kind, Notification

NOTIFICATIONS: Final = "notifications"
COUNTS: Final = "notificationCounts"
THROTTLES: Final = "notificationThrottles"
DIGESTS: Final = "notificationDigests"
USER, TYPE, ISSUE_ID, MESSAGE, READ = "userId", "type", "issueId", "message", "read"
CREATED, READ_AT, ACTOR, TITLE, EVENT = (
    "createdAt",
    "readAt",
    "actorId",
    "issueTitle",
    "eventId",
)
EMAIL_DUE, EMAILED, DIGEST_PENDING, UNREAD = (
    "emailDueAt",
    "emailedAt",
    "digestPending",
    "unread",
)
LAST_NOTIFIED: Final = "lastNotifiedAt"
NEWEST: Final = ((CREATED, Query.DESCENDING),)
# Writes per transaction stay well under Firestore's 500.
BATCH: Final = 200


def _document(delivery: Delivery, now: datetime, event_id: str) -> dict[str, Any]:
    item = delivery.notification
    document: dict[str, Any] = {
        USER: item.user_id,
        TYPE: str(item.type),
        ISSUE_ID: item.issue_id,
        MESSAGE: item.message,
        READ: False,
        CREATED: now,
        ACTOR: item.actor_id,
        TITLE: item.issue_title,
        EVENT: event_id,
    }
    if delivery.email is EmailMode.IMMEDIATE:
        document[EMAIL_DUE] = now
    elif delivery.email is EmailMode.DIGEST:
        document[DIGEST_PENDING] = True
    return document


def notification_from(row: Snapshot) -> Notification:
    """A stored notification (the old app's documents lack the added fields)."""
    data = row.to_dict() or {}
    try:
        kind = Kind(str(data.get(TYPE)))
    except ValueError:
        kind = Kind.COMMENTED
    return Notification(
        id=row.id,
        user_id=str(data.get(USER, "")),
        type=kind,
        issue_id=str(data.get(ISSUE_ID, "")),
        message=str(data.get(MESSAGE, "")),
        read=bool(data.get(READ, False)),
        created_at=data.get(CREATED),
        actor_id=str(data.get(ACTOR, "")),
        issue_title=str(data.get(TITLE, "")),
    )


class NotificationStore:
    """Notifications, their counters and the outbox as delivery sees them."""

    def __init__(self, client: firestore.Client | None = None) -> None:
        self.client = client or get_client()
        self.notifications = self.client.collection(NOTIFICATIONS)
        self.counts = self.client.collection(COUNTS)
        self.events = self.client.collection(EVENTS)

    # --- what an event is about ----------------------------------------------------

    def event(self, event_id: str) -> dict[str, Any] | None:
        """The outbox document of an undelivered event (None once delivered)."""
        with store_errors("reading an event"):
            row = self.events.document(event_id).get(**call_options())
        return (row.to_dict() or {}) if row.exists else None

    def comment_text(self, issue_id: str, comment_id: str) -> str:
        """A comment's text ("" when it is gone)."""
        ref = (
            self.client.collection(ISSUES)
            .document(issue_id)
            .collection(COMMENTS)
            .document(comment_id)
        )
        with store_errors("reading a comment"):
            row = ref.get(**call_options())
        return str((row.to_dict() or {}).get(CONTENT, "")) if row.exists else ""

    def pending_events(self, *, before: datetime, limit: int = BATCH) -> list[str]:
        """Ids of outbox events written before `before` (not handed off, or
        their delivery died), oldest first."""
        query = (
            self.events.where(filter=FieldFilter(EVENT_CREATED, "<", before))
            .order_by(EVENT_CREATED)
            .limit(limit)
            .select([])
        )
        with store_errors("listing undelivered events"):
            return [row.id for row in query.stream(**call_options())]

    def forget_event(self, event_id: str) -> None:
        """Drop an outbox event that notifies no one."""
        with store_errors("deleting an event"):
            self.events.document(event_id).delete(**call_options())

    # --- delivery -------------------------------------------------------------------

    def deliver(
        self,
        deliveries: Sequence[Delivery],
        *,
        now: datetime,
        event_id: str,
        outbox: bool = True,
        throttle: tuple[str, datetime] | None = None,
    ) -> list[Delivery]:
        """One transaction: create each notification that does not exist yet
        (ids are per event and person, so a retry creates nothing), move the
        unread counters by as many, and delete the outbox event. With `outbox`,
        an event already gone means an earlier run delivered it: nothing is
        written. With `throttle` (issue id, since), nothing is written when the
        issue notified after `since`; otherwise the time is recorded.

        Returns the notifications created.
        """
        event_ref = self.events.document(event_id)
        refs = [self.notifications.document(d.notification.id) for d in deliveries]
        throttle_ref = (
            self.client.collection(THROTTLES).document(throttle[0])
            if throttle
            else None
        )

        @firestore.transactional
        def run(transaction: Transaction) -> list[Delivery]:
            if outbox:
                event = event_ref.get(transaction=transaction, **call_options())
                if not event.exists:
                    return []
            if throttle_ref is not None and throttle is not None:
                held = throttle_ref.get(transaction=transaction, **call_options())
                last = (
                    (held.to_dict() or {}).get(LAST_NOTIFIED) if held.exists else None
                )
                if last is not None and last > throttle[1]:
                    return []
            existing = (
                {
                    row.id
                    for row in transaction.get_all(refs, **call_options())
                    if row.exists
                }
                if refs
                else set()
            )
            created: list[Delivery] = []
            per_user: dict[str, int] = {}
            for ref, delivery in zip(refs, deliveries, strict=True):
                if ref.id in existing:
                    continue
                transaction.create(ref, _document(delivery, now, event_id))
                user = delivery.notification.user_id
                per_user[user] = per_user.get(user, 0) + 1
                created.append(delivery)
            for user, step in per_user.items():
                transaction.set(
                    self.counts.document(user),
                    {UNREAD: firestore.Increment(step)},
                    merge=True,
                )
            if outbox:
                transaction.delete(event_ref)
            if throttle_ref is not None:
                transaction.set(throttle_ref, {LAST_NOTIFIED: now})
            return created

        result: list[Delivery] = run_transaction(
            self.client, run, what="delivering notifications", busy="Busy; retry."
        )
        return result

    # --- the inbox ------------------------------------------------------------------

    def page(
        self, *, user_id: str, unread_only: bool, limit: int, cursor: str | None
    ) -> Page[Notification]:
        """Newest first; `userId ==` (and `read == false`) + `createdAt desc`."""
        query = self.notifications.where(filter=FieldFilter(USER, "==", user_id))
        if unread_only:
            query = query.where(filter=FieldFilter(READ, "==", False))
        key = query_key((NOTIFICATIONS, user_id, unread_only))
        return run_page(
            ordered(query, NEWEST, key, cursor),
            orders=NEWEST,
            key=key,
            limit=limit,
            read=notification_from,
            keeps=None,
            what="listing notifications",
        )

    def unread_count(self, user_id: str) -> int:
        """The badge: one document read."""
        with store_errors("reading the unread count"):
            row = self.counts.document(user_id).get(**call_options())
        value = (row.to_dict() or {}).get(UNREAD, 0) if row.exists else 0
        return max(int(value), 0)

    def mark_read(self, *, user_id: str, notification_id: str, now: datetime) -> bool:
        """Mark one of `user_id`'s notifications read and count it off, once;
        False when there is no such notification of theirs."""
        ref = self.notifications.document(notification_id)
        counter = self.counts.document(user_id)

        @firestore.transactional
        def run(transaction: Transaction) -> bool:
            row = ref.get(transaction=transaction, **call_options())
            data = row.to_dict() or {}
            if not row.exists or data.get(USER) != user_id:
                return False
            if not data.get(READ):
                transaction.update(ref, {READ: True, READ_AT: now})
                transaction.set(counter, {UNREAD: firestore.Increment(-1)}, merge=True)
            return True

        found: bool = run_transaction(
            self.client, run, what="marking read", busy="Busy; retry."
        )
        return found

    def mark_all_read(self, *, user_id: str, now: datetime) -> int:
        """Mark every unread notification of `user_id` read, a transaction per
        `BATCH`, each moving the counter by what it marked; how many."""
        query = (
            self.notifications.where(filter=FieldFilter(USER, "==", user_id))
            .where(filter=FieldFilter(READ, "==", False))
            .order_by(CREATED, direction=Query.DESCENDING)
            .limit(BATCH)
        )
        counter = self.counts.document(user_id)

        @firestore.transactional
        def run(transaction: Transaction) -> int:
            rows = list(transaction.get(query, **call_options()))
            for row in rows:
                transaction.update(row.reference, {READ: True, READ_AT: now})
            if rows:
                transaction.set(
                    counter, {UNREAD: firestore.Increment(-len(rows))}, merge=True
                )
            return len(rows)

        total = 0
        while True:
            marked: int = run_transaction(
                self.client, run, what="marking all read", busy="Busy; retry."
            )
            total += marked
            if marked < BATCH:
                return total

    # --- e-mail ---------------------------------------------------------------------

    def due_emails(self, *, before: datetime, limit: int = BATCH) -> list[str]:
        """Ids of immediate e-mails owed since before `before` (never handed
        off, or their sender's lease ran out)."""
        query = (
            self.notifications.where(filter=FieldFilter(EMAIL_DUE, "<", before))
            .order_by(EMAIL_DUE)
            .limit(limit)
            .select([])
        )
        with store_errors("listing owed e-mails"):
            return [row.id for row in query.stream(**call_options())]

    def claim_email(
        self, notification_id: str, *, now: datetime, lease_until: datetime
    ) -> Notification | None:
        """Take the e-mail of a notification for sending until `lease_until`:
        the notification, or None when none is owed or another sender holds
        it."""
        ref = self.notifications.document(notification_id)

        @firestore.transactional
        def run(transaction: Transaction) -> Notification | None:
            row = ref.get(transaction=transaction, **call_options())
            due = (row.to_dict() or {}).get(EMAIL_DUE) if row.exists else None
            if due is None or due > now:
                return None
            transaction.update(ref, {EMAIL_DUE: lease_until})
            return notification_from(row)

        claimed: Notification | None = run_transaction(
            self.client, run, what="claiming an e-mail", busy="Busy; retry."
        )
        return claimed

    def email_sent(self, notification_id: str, *, now: datetime) -> None:
        """Record the e-mail sent: it is owed no more."""
        with store_errors("recording an e-mail"):
            self.notifications.document(notification_id).update(
                {EMAIL_DUE: firestore.DELETE_FIELD, EMAILED: now}, **call_options()
            )

    def digest_pending(self, *, user_id: str, limit: int) -> list[Notification]:
        """The notifications a person's next digest owes, oldest first."""
        query = (
            self.notifications.where(filter=FieldFilter(USER, "==", user_id))
            .where(filter=FieldFilter(DIGEST_PENDING, "==", True))
            .order_by(CREATED)
            .limit(limit)
        )
        with store_errors("listing a digest"):
            return [notification_from(row) for row in query.stream(**call_options())]

    def claim_digest(self, *, user_id: str, day: str, now: datetime) -> bool:
        """Claim `user_id`'s digest of `day` (create precondition): False when
        it was claimed already, so a second run sends nothing."""
        ref = self.client.collection(DIGESTS).document(f"{user_id}_{day}")
        with store_errors("claiming a digest"):
            try:
                ref.create({USER: user_id, CREATED: now}, **call_options())
            except google_exceptions.AlreadyExists:
                return False
        return True

    def digest_sent(self, ids: Sequence[str], *, now: datetime) -> None:
        """Record the digest sent for these notifications."""
        for start in range(0, len(ids), BATCH):
            batch = self.client.batch()
            for notification_id in ids[start : start + BATCH]:
                batch.update(
                    self.notifications.document(notification_id),
                    {DIGEST_PENDING: firestore.DELETE_FIELD, EMAILED: now},
                )
            with store_errors("recording a digest"):
                batch.commit(**call_options())
