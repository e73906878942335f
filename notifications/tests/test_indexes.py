"""Every notifications query has its composite index, and no notifications
index is unused (the check of issues/tests/test_indexes.py)."""

from datetime import UTC, datetime

from issues.tests.test_indexes import declared, required, sent  # noqa: F401
from notifications.store import NotificationStore


def test_notification_queries_have_their_indexes_and_no_more(store, sent):  # noqa: F811
    notes = NotificationStore()
    now = datetime.now(UTC)
    for unread in (False, True):
        notes.page(user_id="ada", unread_only=unread, limit=5, cursor=None)
    notes.mark_all_read(user_id="ada", now=now)
    notes.digest_pending(user_id="ada", limit=5)
    notes.due_emails(before=now)
    notes.pending_events(before=now)
    needed = set().union(*(required(query) for query in sent))
    assert not needed - declared(), f"add to firestore.indexes.json: {needed}"
    ours = {i for i in declared() if i[0] == "notifications"}
    assert ours <= needed, f"unused: {ours - needed}"
