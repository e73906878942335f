"""The event outbox: `issueEvents/{eventId}`, written in the same commit as the
change it describes.

Notifications read it after the commit (a task named by the event id) and delete
it when delivered; a sweep hands off what a process that died between the commit
and the hand-off left behind. Occurrences write no event (a storm of reports
would double its writes); their notifications are throttled and best effort.
"""

from typing import Any, Final

from issues.domain import Activity
from issues.store.documents import activity_to_document

EVENTS: Final = "issueEvents"
KIND, ISSUE_ID, ACTOR, CHANGES = "kind", "issueId", "actorId", "changes"
COMMENT_ID, CREATED = "commentId", "createdAt"


def event_document(
    *, kind: str, issue_id: str, activity: Activity, comment_id: str | None = None
) -> dict[str, Any]:
    """The outbox document of one committed change (its activity's fields)."""
    stored = activity_to_document(activity)
    return {
        KIND: kind,
        ISSUE_ID: issue_id,
        ACTOR: activity.user_id,
        CHANGES: stored["changes"],
        COMMENT_ID: comment_id,
        CREATED: activity.created_at,
    }
