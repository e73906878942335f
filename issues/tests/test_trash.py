"""The trash: delete keeps everything for a restore, purge removes it for good,
every step audited."""

from datetime import UTC, datetime, timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from accounts.models import AuditAction, AuditEntry
from issues import services, upkeep
from issues.domain import IssueFilters, Status
from issues.selectors import issues as selectors
from issues.selectors import trash as trash_selectors
from issues.store.trash import FirestoreIssueTrash
from issuetracker.errors import Conflict, Forbidden, NotFound, StoreUnavailable

TRASH = "/api/v1/trash"
ISSUES = "/api/v1/issues"

pytestmark = pytest.mark.usefixtures("store")


def audit(action: AuditAction) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action).order_by("id"))


def age(store: Any, issue_id: str, days: int) -> None:
    """Pretend the issue went to the trash `days` days ago."""
    store.collection("trash").document(issue_id).update(
        {"deletedAt": datetime.now(UTC) - timedelta(days=days)}
    )


def test_delete_hides_the_issue_everywhere_and_restore_brings_all_back(
    api, admin, developer, make_issue, store
):
    issue = make_issue(developer, priority="high")
    keep = make_issue(developer, priority="low")
    services.comment_add(actor=developer, issue_id=issue.id, content="first")
    before = selectors.issue_counts(actor=admin)

    response = api.as_user(admin).delete(
        f"{ISSUES}/{issue.id}", REMOTE_ADDR="203.0.113.7"
    )

    assert response.status_code == 204
    with pytest.raises(NotFound):
        selectors.issue_get(actor=admin, issue_id=issue.id)
    listed = selectors.issue_list(actor=admin, filters=IssueFilters())
    assert [i.id for i in listed.items] == [keep.id]
    assert selectors.issue_count(actor=admin, filters=IssueFilters()) == 1
    counts = selectors.issue_counts(actor=admin)
    assert counts.total == before.total - 1
    assert counts.by_status[Status.OPEN] == before.by_status[Status.OPEN] - 1
    (entry,) = audit(AuditAction.ISSUE_DELETED)
    assert (entry.actor, entry.target, entry.source) == (
        admin.username,
        issue.id,
        "203.0.113.7",
    )

    page = api.get(TRASH).json()
    assert [t["id"] for t in page["issues"]] == [issue.id]
    assert page["issues"][0]["deletedBy"] == admin.username
    assert page["issues"][0]["title"] == issue.title

    restored = api.post(f"{TRASH}/{issue.id}/restore", {}, REMOTE_ADDR="203.0.113.8")
    assert restored.status_code == 200, restored.content
    assert restored.json()["version"] == issue.version
    again = selectors.issue_get(actor=admin, issue_id=issue.id)
    assert again.title == issue.title
    assert again.created_at == issue.created_at
    comments = selectors.comment_list(actor=admin, issue_id=issue.id).items
    assert [c.content for c in comments] == ["first"]
    assert len(selectors.activity_list(actor=admin, issue_id=issue.id).items) == 2
    assert selectors.issue_counts(actor=admin) == before
    assert api.get(TRASH).json()["issues"] == []
    (entry,) = audit(AuditAction.ISSUE_RESTORED)
    assert entry.source == "203.0.113.8"


def test_trash_pages_newest_deletion_first(api, admin, make_issue):
    ids = [make_issue(admin, title=f"t{n}").id for n in range(5)]
    for issue_id in ids:
        services.issue_delete(actor=admin, issue_id=issue_id)
    first = api.as_user(admin).get(f"{TRASH}?limit=3").json()
    assert [t["id"] for t in first["issues"]] == ids[::-1][:3]
    rest = api.get(first["next"]).json()
    assert [t["id"] for t in rest["issues"]] == ids[::-1][3:]
    assert rest["next"] is None


@pytest.mark.parametrize("role", ["developer", "tester", "viewer", "service"])
def test_only_admins_see_and_restore_the_trash(api, make_user, admin, make_issue, role):
    issue = make_issue(admin)
    services.issue_delete(actor=admin, issue_id=issue.id)
    user = make_user(role=role)
    api.as_user(user)
    assert api.get(TRASH).status_code == 403
    assert api.post(f"{TRASH}/{issue.id}/restore", {}).status_code == 403
    with pytest.raises(Forbidden):
        trash_selectors.trash_list(actor=user)
    with pytest.raises(Forbidden):
        upkeep.issue_restore(actor=user, issue_id=issue.id)
    assert audit(AuditAction.ISSUE_RESTORED) == []


def test_restore_refuses_an_absent_entry_and_a_taken_id(api, admin, make_issue, store):
    response = api.as_user(admin).post(f"{TRASH}/nope/restore", {})
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    issue = make_issue(admin)
    services.issue_delete(actor=admin, issue_id=issue.id)
    store.collection("issues").document(issue.id).set(
        {"title": "new", "status": "open"}
    )
    response = api.post(f"{TRASH}/{issue.id}/restore", {})
    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    assert store.collection("trash").document(issue.id).get().exists
    assert audit(AuditAction.ISSUE_RESTORED) == []  # rolled back with the refusal


def test_a_failed_delete_writes_no_audit_entry(admin, make_issue, monkeypatch):
    issue = make_issue(admin)

    def fail(self: Any, **kwargs: Any) -> bool:
        raise StoreUnavailable("down")

    monkeypatch.setattr(FirestoreIssueTrash, "move", fail)
    with pytest.raises(StoreUnavailable):
        services.issue_delete(actor=admin, issue_id=issue.id)
    assert audit(AuditAction.ISSUE_DELETED) == []
    monkeypatch.undo()
    with pytest.raises(NotFound):
        services.issue_delete(actor=admin, issue_id="missing")
    assert audit(AuditAction.ISSUE_DELETED) == []


def test_purge_removes_only_what_is_older_than_30_days(admin, make_issue, store):
    old, recent = make_issue(admin), make_issue(admin)
    services.comment_add(actor=admin, issue_id=old.id, content="c")
    for issue in (old, recent):
        services.issue_delete(actor=admin, issue_id=issue.id)
    age(store, old.id, 31)
    age(store, recent.id, 29)
    out = StringIO()
    call_command("purge_trash", stdout=out)
    assert "Purged 1 issue(s)." in out.getvalue()
    ref = store.collection("issues").document(old.id)
    assert not store.collection("trash").document(old.id).get().exists
    assert list(ref.collection("comments").stream()) == []
    assert list(ref.collection("activities").stream()) == []
    assert store.collection("trash").document(recent.id).get().exists
    (entry,) = audit(AuditAction.ISSUE_PURGED)
    assert (entry.target, entry.source) == (old.id, "command")
    with pytest.raises(NotFound):
        upkeep.issue_restore(actor=admin, issue_id=old.id)
    call_command("purge_trash", "--older-than-days", "0", stdout=StringIO())
    assert not store.collection("trash").document(recent.id).get().exists


def test_an_interrupted_purge_leaves_the_entry_to_finish_and_never_restores_it(
    admin, make_issue, store, monkeypatch
):
    issue = make_issue(admin)
    services.comment_add(actor=admin, issue_id=issue.id, content="c")
    services.issue_delete(actor=admin, issue_id=issue.id)
    age(store, issue.id, 40)
    real = FirestoreIssueTrash._delete_all
    calls = []

    def fail_after_comments(self: Any, collection: Any) -> None:
        calls.append(collection.id)
        real(self, collection)
        if collection.id == "comments":
            raise StoreUnavailable("down")

    monkeypatch.setattr(FirestoreIssueTrash, "_delete_all", fail_after_comments)
    with pytest.raises(CommandError):
        call_command("purge_trash", stdout=StringIO())
    entry = store.collection("trash").document(issue.id).get()
    assert entry.exists
    assert entry.to_dict()["purging"] is True
    assert audit(AuditAction.ISSUE_PURGED) == []
    with pytest.raises(Conflict):
        upkeep.issue_restore(actor=admin, issue_id=issue.id)
    monkeypatch.setattr(FirestoreIssueTrash, "_delete_all", real)
    call_command("purge_trash", stdout=StringIO())
    assert not store.collection("trash").document(issue.id).get().exists
    ref = store.collection("issues").document(issue.id)
    assert list(ref.collection("activities").stream()) == []
    assert len(audit(AuditAction.ISSUE_PURGED)) == 1


def test_list_and_restore_commands(admin, make_issue):
    issue = make_issue(admin, title="Ledger drift")
    services.issue_delete(actor=admin, issue_id=issue.id)
    out = StringIO()
    call_command("list_trash", stdout=out)
    assert issue.id in out.getvalue()
    assert "Ledger drift" in out.getvalue()
    out = StringIO()
    call_command("restore_issue", issue.id, stdout=out)
    assert f"Restored {issue.id}" in out.getvalue()
    assert selectors.issue_get(actor=admin, issue_id=issue.id).title == "Ledger drift"
    (entry,) = audit(AuditAction.ISSUE_RESTORED)
    assert entry.source == "command"
    assert entry.actor.endswith("(shell)")
    with pytest.raises(CommandError, match="trash"):
        call_command("restore_issue", issue.id, stdout=StringIO())
