"""Who is told of each committed change, once, never the actor or a service;
watchers written with the change. Tasks run at once (the immediate backend)."""

from datetime import timedelta
from typing import Any

import pytest

from issues import services
from issues.domain import IssueChanges, NewIssue, Priority, Status
from issues.store import get_issue_repository
from issues.store.outbox import EVENTS
from notifications import services as notify
from notifications.domain import Kind
from notifications.store import NOTIFICATIONS, NotificationStore

pytestmark = pytest.mark.django_db


def kinds(items: list[Any]) -> list[Kind]:
    return [item.type for item in items]


def watchers(issue_id: str) -> set[str]:
    stored = get_issue_repository().get(issue_id)
    assert stored is not None
    return set(stored.watcher_ids)


def test_assigning_tells_the_assignee_who_now_watches(staff, make_issue, inbox, store):
    ada, bob = staff("ada"), staff("bob")
    issue = make_issue(ada)
    services.issue_update(
        actor=ada, issue_id=issue.id, changes=IssueChanges(assignee_id=bob.actor_id)
    )
    assert kinds(inbox(bob)) == [Kind.ASSIGNED]
    assert "Ada assigned you" in inbox(bob)[0].message
    assert inbox(ada) == []  # never the actor
    assert watchers(issue.id) == {ada.actor_id, bob.actor_id}
    assert list(store.collection(EVENTS).stream()) == []  # delivered, outbox empty


def test_reporting_with_an_assignee_and_mentions(staff, make_issue, inbox):
    ada, bob, cy = staff("ada"), staff("bob"), staff("cy")
    issue = make_issue(ada, assignee_id=bob.actor_id, description="ping @cy and @bob")
    assert kinds(inbox(bob)) == [Kind.ASSIGNED]  # one notification, the strongest
    assert kinds(inbox(cy)) == [Kind.MENTIONED]
    assert set(issue.watcher_ids) == {ada.actor_id, bob.actor_id, cy.actor_id}


def test_comments_tell_watchers_and_mentioned_once_each(staff, make_issue, inbox):
    ada, bob, cy, dan = staff("ada"), staff("bob"), staff("cy"), staff("dan")
    issue = make_issue(ada)
    services.comment_add(actor=bob, issue_id=issue.id, content="me too")
    services.comment_add(actor=cy, issue_id=issue.id, content="hey @ada @dan `@bob`")
    assert kinds(inbox(ada)) == [Kind.MENTIONED, Kind.COMMENTED]
    assert kinds(inbox(bob)) == [Kind.COMMENTED]  # a watcher since commenting
    assert kinds(inbox(dan)) == [Kind.MENTIONED]
    assert inbox(cy) == []
    assert watchers(issue.id) == {ada.actor_id, bob.actor_id, cy.actor_id, dan.actor_id}


def test_mention_by_email_local_part(make_user, make_issue, inbox, staff):
    ada = staff("ada")
    grace = make_user(username="g.hopper@quantory.app", email="g.hopper@quantory.app")
    make_issue(ada, description="@g.hopper can you look?")
    assert kinds(inbox(grace)) == [Kind.MENTIONED]


def test_status_change_tells_watchers_with_the_new_status(staff, make_issue, inbox):
    ada, bob = staff("ada"), staff("bob")
    issue = make_issue(ada)
    services.issue_update(
        actor=bob, issue_id=issue.id, changes=IssueChanges(status=Status.IN_PROGRESS)
    )
    assert kinds(inbox(ada)) == [Kind.STATUS_CHANGED]
    assert "to in-progress" in inbox(ada)[0].message


def test_edited_description_tells_only_the_newly_mentioned(staff, make_issue, inbox):
    ada, bob, cy = staff("ada"), staff("bob"), staff("cy")
    issue = make_issue(ada, description="cc @bob")
    services.issue_update(
        actor=ada,
        issue_id=issue.id,
        changes=IssueChanges(description="cc @bob and @cy"),
    )
    assert kinds(inbox(bob)) == [Kind.MENTIONED]
    assert kinds(inbox(cy)) == [Kind.MENTIONED]
    assert cy.actor_id in watchers(issue.id)


def test_services_are_told_nothing(staff, make_user, inbox, store):
    ada = staff("ada")
    bot = make_user(role="service", username="workflow-consumer")
    data = NewIssue(title="t", description="d", assignee_id=bot.actor_id)
    services.issue_create(actor=ada, data=data)
    assert inbox(bot) == []
    own = services.issue_create(actor=bot, data=NewIssue(title="t", description="d"))
    services.comment_add(actor=bot, issue_id=own.id, content="@ada hello")
    assert kinds(inbox(ada)) == [Kind.MENTIONED]
    assert "Workflow Consumer mentioned you" in inbox(ada)[0].message


def test_a_service_report_makes_no_watcher_of_the_reporter(make_user, inbox, store):
    bot = make_user(role="service", username="data-enrich")
    issue = services.issue_create(actor=bot, data=NewIssue(title="t", description="d"))
    assert issue.watcher_ids == ()


def test_new_critical_issues_reach_subscribers_only(staff, inbox, store):
    ada, bob, cy = staff("ada"), staff("bob"), staff("cy")
    notify.settings_update(user=bob, email={}, critical_issues=True)
    data = NewIssue(title="Down", description="all down", priority=Priority.CRITICAL)
    services.issue_create(actor=ada, data=data)
    assert kinds(inbox(bob)) == [Kind.CRITICAL]
    assert inbox(cy) == []
    notify.settings_update(user=ada, email={}, critical_issues=True)
    services.issue_create(actor=ada, data=data)
    assert inbox(ada) == []  # not of their own report


def test_a_retried_delivery_creates_nothing_twice(staff, make_issue, inbox, store):
    """The task runs again with its outbox event back (a worker died after the
    commit was sent but before it was acknowledged): no duplicate, no double
    count on the badge."""
    ada, bob = staff("ada"), staff("bob")
    issue = make_issue(ada)
    events = store.collection(EVENTS)
    saved = {}

    def keep(doc_id: str, data: Any) -> None:
        saved[doc_id] = data

    # Deliver by hand: capture the outbox event before the task runs it.
    from issues import events as issue_events

    issue_events.disconnect(notify.event_committed)
    try:
        services.comment_add(actor=bob, issue_id=issue.id, content="first")
    finally:
        issue_events.on_committed(notify.event_committed)
    [row] = list(events.stream())
    keep(row.id, row.to_dict())
    assert notify.event_deliver(event_id=row.id) == 1
    assert notify.event_deliver(event_id=row.id) == 0  # outbox gone: done
    events.document(row.id).set(saved[row.id])  # as if the commit were lost
    assert notify.event_deliver(event_id=row.id) == 0
    assert kinds(inbox(ada)) == [Kind.COMMENTED]
    assert notify.unread_count(user=ada) == 1


def test_the_sweep_delivers_what_was_never_handed_off(staff, make_issue, inbox):
    """A process dies between the commit and the queue: the outbox event stays,
    and the sweep hands it off once it is a minute old."""
    from issues import events as issue_events

    ada, bob = staff("ada"), staff("bob")
    issue = make_issue(ada)
    issue_events.disconnect(notify.event_committed)
    try:
        services.comment_add(actor=bob, issue_id=issue.id, content="lost?")
    finally:
        issue_events.on_committed(notify.event_committed)
    assert inbox(ada) == []
    assert notify.notifications_sweep() == (0, 0)  # too young yet
    assert notify.notifications_sweep(grace=timedelta(0)) == (1, 0)
    assert kinds(inbox(ada)) == [Kind.COMMENTED]


def test_a_storm_of_occurrences_notifies_once_an_hour(make_user, staff, inbox, store):
    bot = make_user(role="service", username="pricing-engine")
    ada = staff("ada")
    data = NewIssue(title="Timeout", description="d", fingerprint="fp-1")
    issue = services.issue_create(actor=bot, data=data)
    services.issue_watch(actor=ada, issue_id=issue.id, watching=True)
    for _ in range(5):
        services.issue_report(actor=bot, data=data)
    assert kinds(inbox(ada)) == [Kind.OCCURRED]
    # Even when the queue gate (a minute in the cache) lets another through.
    from django.core.cache import cache

    cache.clear()
    services.issue_report(actor=bot, data=data)
    assert notify.occurrence_deliver(issue_id=issue.id, actor_id=bot.actor_id) == 0
    assert kinds(inbox(ada)) == [Kind.OCCURRED]


def test_watch_and_unwatch(staff, make_issue, inbox):
    ada, bob = staff("ada"), staff("bob")
    issue = make_issue(ada)
    services.issue_watch(actor=bob, issue_id=issue.id, watching=True)
    services.issue_update(
        actor=ada, issue_id=issue.id, changes=IssueChanges(status=Status.IN_PROGRESS)
    )
    assert kinds(inbox(bob)) == [Kind.STATUS_CHANGED]
    services.issue_watch(actor=bob, issue_id=issue.id, watching=False)
    services.issue_update(
        actor=ada, issue_id=issue.id, changes=IssueChanges(status=Status.RESOLVED)
    )
    assert kinds(inbox(bob)) == [Kind.STATUS_CHANGED]


def test_deleted_issue_events_are_dropped(staff, make_issue, store):
    ada = staff("ada", role="admin")
    issue = make_issue(ada)
    store.collection(EVENTS).document("e1").set(
        {"kind": "commented", "issueId": "gone", "actorId": "x", "createdAt": None}
    )
    assert notify.event_deliver(event_id="e1") == 0
    assert not store.collection(EVENTS).document("e1").get().exists
    assert issue.id
    assert list(store.collection(NOTIFICATIONS).stream()) == []
    assert NotificationStore().unread_count(ada.actor_id) == 0
