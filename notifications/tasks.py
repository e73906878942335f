"""Background work: each task takes ids, may run twice, and calls one service.

Run by `manage.py db_worker` (django-tasks-db: the relational database is the
queue). A worker that dies mid-task leaves its work to
`manage.py sweep_notifications`.
"""

from django_tasks import task

from notifications import services


@task()
def deliver_event(event_id: str) -> int:
    """Create the notifications of one committed issue change."""
    return services.event_deliver(event_id=event_id)


@task()
def deliver_occurrence(issue_id: str, actor_id: str) -> int:
    """Tell watchers an issue occurred again (at most once an hour)."""
    return services.occurrence_deliver(issue_id=issue_id, actor_id=actor_id)


@task()
def send_email(notification_id: str) -> bool:
    """Send one notification's immediate e-mail."""
    return services.email_send(notification_id=notification_id)


@task()
def send_digests(day: str) -> int:
    """Hand every person's digest of `day` to the queue."""
    return services.digests_enqueue(day=day)


@task()
def send_digest(user_id: str, day: str) -> bool:
    """Send one person's digest of `day`."""
    return services.digest_send(user_id=user_id, day=day)


@task()
def sweep() -> tuple[int, int]:
    """Hand off again what a dead process left behind."""
    return services.notifications_sweep()
