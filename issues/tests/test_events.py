"""The post-commit hook point: one event per committed write, none for a refused one."""

from collections.abc import Iterator

import pytest

from issues import events, services
from issues.domain import IssueChanges, NewIssue, Priority
from issues.events import EventKind, IssueEvent
from issuetracker.errors import Forbidden, NotFound, PreconditionFailed


@pytest.fixture
def published() -> Iterator[list[IssueEvent]]:
    seen: list[IssueEvent] = []
    events.on_committed(seen.append)
    yield seen
    events.disconnect(seen.append)


def test_publish_without_handlers_does_nothing():
    events.publish(IssueEvent(kind=EventKind.UPDATED, issue_id="x", actor_id="y"))


def test_each_committed_write_publishes_once(store, developer, admin, published):
    issue = services.issue_create(
        actor=developer, data=NewIssue(title="T", description="D")
    )
    services.issue_update(
        actor=developer,
        issue_id=issue.id,
        changes=IssueChanges(priority=Priority.HIGH),
    )
    comment = services.comment_add(actor=developer, issue_id=issue.id, content="c")
    services.issue_delete(actor=admin, issue_id=issue.id)
    assert [(e.kind, e.issue_id) for e in published] == [
        (EventKind.REPORTED, issue.id),
        (EventKind.UPDATED, issue.id),
        (EventKind.COMMENTED, issue.id),
        (EventKind.DELETED, issue.id),
    ]
    assert published[1].actor_id == developer.actor_id
    assert published[1].changes["priority"] == ("medium", "high")
    assert published[2].comment_id == comment.id
    assert published[3].actor_id == admin.actor_id


def test_a_repeat_report_publishes_an_occurrence(store, developer, published):
    data = NewIssue(title="Crash", description="D", fingerprint="f-1")
    first = services.issue_report(actor=developer, data=data)
    again = services.issue_report(actor=developer, data=data)
    assert again.issue.id == first.issue.id
    assert [e.kind for e in published] == [EventKind.REPORTED, EventKind.OCCURRED]


def test_refused_and_empty_writes_publish_nothing(
    store, developer, viewer, tester, admin, make_issue, published
):
    issue = make_issue(developer)
    published.clear()
    with pytest.raises(Forbidden):
        services.issue_create(actor=viewer, data=NewIssue(title="T", description="D"))
    with pytest.raises(Forbidden):
        services.issue_update(
            actor=tester, issue_id=issue.id, changes=IssueChanges(title="No")
        )
    with pytest.raises(PreconditionFailed):
        services.issue_update(
            actor=developer,
            issue_id=issue.id,
            changes=IssueChanges(title="Stale"),
            expected_version=99,
        )
    with pytest.raises(Forbidden):
        services.comment_add(actor=viewer, issue_id=issue.id, content="c")
    with pytest.raises(NotFound):
        services.issue_delete(actor=admin, issue_id="missing")
    services.issue_update(
        actor=developer, issue_id=issue.id, changes=IssueChanges(title=issue.title)
    )
    assert published == []


def test_a_failing_handler_does_not_undo_the_write(store, developer, published):
    def broken(event: IssueEvent) -> None:
        raise RuntimeError("handler bug")

    events.on_committed(broken)
    try:
        issue = services.issue_create(
            actor=developer, data=NewIssue(title="T", description="D")
        )
    finally:
        events.disconnect(broken)
    assert [e.issue_id for e in published] == [issue.id]
