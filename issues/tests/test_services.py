"""Use cases against the real emulator: rules, history, versions, roles."""

import threading
from datetime import UTC, datetime
from typing import Any

import pytest

from issues import access, services
from issues.domain import (
    UNSET,
    ActivityType,
    IssueChanges,
    IssueFilters,
    Priority,
    Resolution,
    Status,
)
from issues.search import search_words
from issues.selectors import issues as selectors
from issuetracker.errors import (
    Conflict,
    Forbidden,
    NotAuthenticated,
    NotFound,
    PreconditionFailed,
)


def history(actor: Any, issue_id: str) -> list[Any]:
    return selectors.activity_list(actor=actor, issue_id=issue_id).items


def test_create_sets_defaults_reporter_version_and_created_activity(
    developer, make_issue
):
    issue = make_issue(developer, tags=["a", " a ", "b", ""])
    assert issue.status is Status.OPEN
    assert issue.reporter_id == developer.actor_id
    assert issue.version == 1
    assert issue.tags == ("a", "b")
    stored = selectors.issue_get(actor=developer, issue_id=issue.id)
    assert stored == issue
    [created] = history(developer, issue.id)
    assert created.type is ActivityType.CREATED
    assert created.user_id == developer.actor_id


def test_update_records_one_activity_with_old_and_new_values(developer, make_issue):
    issue = make_issue(developer, tags=["x"])
    result = services.issue_update(
        actor=developer,
        issue_id=issue.id,
        changes=IssueChanges(priority=Priority.CRITICAL, tags=("x", "y")),
    )
    assert result.issue.version == 2
    last = history(developer, issue.id)[-1]
    assert last.type is ActivityType.UPDATED
    assert {c.field: (c.old_value, c.new_value) for c in last.changes} == {
        "priority": ("high", "critical"),
        "tags": (["x"], ["x", "y"]),
    }


def test_no_change_writes_nothing(developer, make_issue):
    issue = make_issue(developer)
    result = services.issue_update(
        actor=developer, issue_id=issue.id, changes=IssueChanges(title=issue.title)
    )
    assert result.activity is None
    assert selectors.issue_get(actor=developer, issue_id=issue.id).version == 1
    assert len(history(developer, issue.id)) == 1


def test_assigning_and_unassigning(developer, make_issue, make_user):
    make_user(role="developer", username="dev456")
    issue = make_issue(developer)
    services.issue_update(
        actor=developer, issue_id=issue.id, changes=IssueChanges(assignee_id="dev456")
    )
    services.issue_update(
        actor=developer, issue_id=issue.id, changes=IssueChanges(assignee_id=None)
    )
    assert selectors.issue_get(actor=developer, issue_id=issue.id).assignee_id is None
    assigned, unassigned = history(developer, issue.id)[1:]
    assert assigned.type is unassigned.type is ActivityType.ASSIGNED
    assert assigned.changes[0].new_value == "dev456"
    assert unassigned.changes[0].old_value == "dev456"
    assert unassigned.changes[0].new_value is None


def test_status_moves_and_resolved_at(developer, make_issue):
    issue = make_issue(developer)

    def move(status: Status) -> Any:
        return services.issue_update(
            actor=developer, issue_id=issue.id, changes=IssueChanges(status=status)
        ).issue

    assert move(Status.IN_PROGRESS).resolved_at is None
    assert move(Status.OPEN).status is Status.OPEN
    resolved = move(Status.RESOLVED)
    assert resolved.resolved_at is not None
    assert move(Status.OPEN).resolved_at is None
    move(Status.IN_PROGRESS)
    move(Status.RESOLVED)
    closed = move(Status.CLOSED)
    assert closed.resolved_at is None
    with pytest.raises(Conflict):
        move(Status.RESOLVED)
    assert move(Status.OPEN).status is Status.OPEN
    assert move(Status.CLOSED).resolved_at is None
    kinds = [a.type for a in history(developer, issue.id)]
    assert kinds.count(ActivityType.STATUS_CHANGED) == 9
    stored = selectors.issue_get(actor=developer, issue_id=issue.id)
    assert stored.resolved_at is None


def test_stale_version_is_412_and_writes_nothing(developer, make_issue):
    issue = make_issue(developer)
    with pytest.raises(PreconditionFailed):
        services.issue_update(
            actor=developer,
            issue_id=issue.id,
            changes=IssueChanges(title="New"),
            expected_version=0,
        )
    assert selectors.issue_get(actor=developer, issue_id=issue.id).title == issue.title
    assert len(history(developer, issue.id)) == 1


def test_parallel_updates_keep_both_changes(developer, make_issue):
    issue = make_issue(developer)
    errors = []

    def change(changes):
        try:
            services.issue_update(actor=developer, issue_id=issue.id, changes=changes)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [
        threading.Thread(target=change, args=(IssueChanges(title="Parallel A"),)),
        threading.Thread(
            target=change, args=(IssueChanges(priority=Priority.CRITICAL),)
        ),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    stored = selectors.issue_get(actor=developer, issue_id=issue.id)
    assert stored.title == "Parallel A"
    assert stored.priority is Priority.CRITICAL
    assert stored.version == 3
    changed = sorted(c.field for a in history(developer, issue.id) for c in a.changes)
    assert changed == ["priority", "title"]


def test_comments_count_and_history(tester, make_issue):
    issue = make_issue(tester)
    first = services.comment_add(actor=tester, issue_id=issue.id, content="one")
    services.comment_add(actor=tester, issue_id=issue.id, content="two")
    comments = selectors.comment_list(actor=tester, issue_id=issue.id).items
    assert [c.content for c in comments] == ["one", "two"]
    assert comments[0].id == first.id
    assert selectors.issue_get(actor=tester, issue_id=issue.id).comment_count == 2
    kinds = [a.type for a in history(tester, issue.id)]
    assert kinds == [
        ActivityType.CREATED,
        ActivityType.COMMENTED,
        ActivityType.COMMENTED,
    ]


def test_comment_on_missing_issue_is_404(developer, store):
    with pytest.raises(NotFound):
        services.comment_add(actor=developer, issue_id="nope", content="x")


def test_delete_moves_to_the_trash_keeping_comments_and_activities(
    admin, make_issue, store
):
    issue = make_issue(admin)
    services.comment_add(actor=admin, issue_id=issue.id, content="bye")
    services.issue_delete(actor=admin, issue_id=issue.id)
    ref = store.collection("issues").document(issue.id)
    assert not ref.get().exists
    trashed = store.collection("trash").document(issue.id).get().to_dict()
    assert trashed["title"] == issue.title
    assert trashed["deletedBy"] == admin.username
    assert len(list(ref.collection("comments").stream())) == 1
    # the commented entry (the created one is derived from the issue)
    assert len(list(ref.collection("activities").stream())) == 1
    with pytest.raises(NotFound):
        services.issue_delete(actor=admin, issue_id=issue.id)


def test_count_uses_equality_filters(developer, make_issue):
    make_issue(developer)
    make_issue(developer, priority="low")
    assert selectors.issue_count(actor=developer, filters=IssueFilters()) == 2
    low = IssueFilters(priority=Priority.LOW)
    assert selectors.issue_count(actor=developer, filters=low) == 1


# --- roles: a negative test per rule -----------------------------------------------


def test_anonymous_callers_must_authenticate(store):
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(NotAuthenticated):
        selectors.issue_list(actor=AnonymousUser(), filters=IssueFilters())


def test_viewer_may_read_but_not_create_comment_or_edit(viewer, developer, make_issue):
    issue = make_issue(developer)
    assert selectors.issue_get(actor=viewer, issue_id=issue.id).id == issue.id
    with pytest.raises(Forbidden):
        make_issue(viewer)
    with pytest.raises(Forbidden):
        services.comment_add(actor=viewer, issue_id=issue.id, content="x")
    with pytest.raises(Forbidden):
        services.issue_update(
            actor=viewer, issue_id=issue.id, changes=IssueChanges(title="x")
        )


def test_tester_may_only_close_or_reopen_resolved_issues(tester, developer, make_issue):
    issue = make_issue(developer)
    with pytest.raises(Forbidden):
        services.issue_update(
            actor=tester, issue_id=issue.id, changes=IssueChanges(title="x")
        )
    with pytest.raises(Forbidden):
        services.issue_update(
            actor=tester,
            issue_id=issue.id,
            changes=IssueChanges(status=Status.IN_PROGRESS),
        )
    for status in (Status.IN_PROGRESS, Status.RESOLVED):
        services.issue_update(
            actor=developer, issue_id=issue.id, changes=IssueChanges(status=status)
        )
    with pytest.raises(Forbidden):  # close plus another field
        services.issue_update(
            actor=tester,
            issue_id=issue.id,
            changes=IssueChanges(status=Status.CLOSED, priority=Priority.LOW),
        )
    closed = services.issue_update(
        actor=tester, issue_id=issue.id, changes=IssueChanges(status=Status.CLOSED)
    )
    assert closed.issue.status is Status.CLOSED
    with pytest.raises(Forbidden):  # closed is not resolved: no reopen for testers
        services.issue_update(
            actor=tester, issue_id=issue.id, changes=IssueChanges(status=Status.OPEN)
        )


def test_service_reads_and_edits_only_its_own_issues(
    service, other_service, developer, make_issue
):
    own = make_issue(service)
    theirs = make_issue(other_service)
    staff = make_issue(developer)
    assert selectors.issue_get(actor=service, issue_id=own.id).id == own.id
    for issue in (theirs, staff):
        with pytest.raises(NotFound):
            selectors.issue_get(actor=service, issue_id=issue.id)
        with pytest.raises(NotFound):
            selectors.comment_list(actor=service, issue_id=issue.id)
        with pytest.raises(NotFound):
            services.comment_add(actor=service, issue_id=issue.id, content="x")
        with pytest.raises(NotFound):
            services.issue_update(
                actor=service,
                issue_id=issue.id,
                changes=IssueChanges(priority=Priority.LOW),
            )
    listed = selectors.issue_list(actor=service, filters=IssueFilters()).items
    assert [i.id for i in listed] == [own.id]
    other = IssueFilters(reporter_id=developer.actor_id)
    assert selectors.issue_list(actor=service, filters=other).items == []
    updated = services.issue_update(
        actor=service,
        issue_id=own.id,
        changes=IssueChanges(status=Status.IN_PROGRESS, priority=Priority.LOW),
    )
    assert updated.issue.priority is Priority.LOW
    with pytest.raises(Forbidden):
        services.issue_update(
            actor=service, issue_id=own.id, changes=IssueChanges(title="renamed")
        )
    with pytest.raises(Forbidden):
        services.issue_delete(actor=service, issue_id=own.id)


def test_service_may_not_close_or_reopen_its_own_resolved_issue(
    service, developer, make_issue
):
    own = make_issue(service)
    for status in (Status.IN_PROGRESS, Status.RESOLVED):  # its own moves up to here
        own = services.issue_update(
            actor=service, issue_id=own.id, changes=IssueChanges(status=status)
        ).issue
    assert own.status is Status.RESOLVED
    assert access.status_moves(actor=service, issue=own) == []
    assert access.status_moves(actor=developer, issue=own) == [
        Status.OPEN,
        Status.CLOSED,
    ]
    for status in (Status.CLOSED, Status.OPEN):
        for changes in (
            IssueChanges(status=status),
            IssueChanges(status=status, priority=Priority.LOW),
            IssueChanges(status=status, resolution=Resolution.WONT_FIX)
            if status is Status.CLOSED
            else IssueChanges(status=status),
        ):
            with pytest.raises(Forbidden):
                services.issue_update(actor=service, issue_id=own.id, changes=changes)
    stored = selectors.issue_get(actor=service, issue_id=own.id)
    assert (stored.status, stored.version) == (Status.RESOLVED, own.version)
    lowered = services.issue_update(
        actor=service, issue_id=own.id, changes=IssueChanges(priority=Priority.LOW)
    )
    assert lowered.issue.priority is Priority.LOW


def test_only_admins_delete(developer, make_issue):
    issue = make_issue(developer)
    with pytest.raises(Forbidden):
        services.issue_delete(actor=developer, issue_id=issue.id)


def test_delete_checks_the_role_first_and_reads_the_issue_once(
    admin, developer, make_issue, monkeypatch
):
    from google.cloud.firestore_v1.document import DocumentReference

    issue = make_issue(developer)
    reads: list[str] = []
    real_get = DocumentReference.get

    def counted(self: DocumentReference, *args: Any, **kwargs: Any) -> Any:
        reads.append(self.id)
        return real_get(self, *args, **kwargs)

    monkeypatch.setattr(DocumentReference, "get", counted)
    for actor, issue_id in ((developer, issue.id), (developer, "nope")):
        with pytest.raises(Forbidden):
            services.issue_delete(actor=actor, issue_id=issue_id)
    assert reads == []
    services.issue_delete(actor=admin, issue_id=issue.id)
    assert reads == [issue.id]
    with pytest.raises(NotFound):
        services.issue_delete(actor=admin, issue_id="nope")


def test_portal_helpers_follow_the_roles(tester, developer, service, make_issue):
    issue = make_issue(developer)
    assert access.status_moves(actor=developer, issue=issue) == [
        Status.IN_PROGRESS,
        Status.RESOLVED,
        Status.CLOSED,
    ]
    assert access.status_moves(actor=tester, issue=issue) == []
    assert access.editable_fields(actor=tester, issue=issue) == frozenset()
    assert "title" in access.editable_fields(actor=developer, issue=issue)
    own = make_issue(service)
    assert access.editable_fields(actor=service, issue=own) == {
        "priority",
        "resolution",
        "duplicate_of",
    }


def test_search_words_fold_case_accents_and_punctuation():
    assert search_words("Café crash", "order_id=42 a I") == [
        "42",
        "cafe",
        "crash",
        "id",
        "order",
    ]


def test_unset_is_not_none():
    assert IssueChanges().given() == {}
    assert IssueChanges(assignee_id=None).given() == {"assignee_id": None}
    assert UNSET is not None
    assert datetime.now(UTC)
