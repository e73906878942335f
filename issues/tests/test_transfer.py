"""Export and import: a round trip gives the same bytes; ids, timestamps, versions
and history are kept; the counters and fingerprint locks are rebuilt."""

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from issues import services, upkeep
from issues.domain import (
    Activity,
    ActivityType,
    Issue,
    IssueChanges,
    NewIssue,
    Priority,
    Status,
)
from issues.selectors import issues as selectors
from issues.store.documents import activity_to_document, issue_to_document
from issues.store.transfer import (
    FirestoreIssueTransfer,
    decode_value,
    dumps,
    encode_value,
)

pytestmark = pytest.mark.usefixtures("store")

ISSUES = 300


def populate(store: Any, developer: Any, service: Any) -> None:
    """ISSUES issues: a few through the services (commented, moved,
    fingerprinted), the rest written in batches as the store writes them."""
    for n in range(30):
        issue = services.issue_create(
            actor=service if n % 5 == 0 else developer,
            data=NewIssue(
                title=f"Issue {n} - ünïcode",
                description=f"Step {n} failed",
                priority=list(Priority)[n % 4],
                tags=("ledger", f"t{n % 3}"),
                fingerprint=f"fp-{n}" if n % 5 == 0 else None,
            ),
        )
        if n % 3 == 0:
            services.comment_add(actor=developer, issue_id=issue.id, content="seen")
        if n % 4 == 0:
            services.issue_update(
                actor=developer,
                issue_id=issue.id,
                changes=IssueChanges(status=Status.IN_PROGRESS),
            )
    now = datetime.now(UTC)
    batch = store.batch()
    for n in range(30, ISSUES):
        at = now - timedelta(minutes=n, microseconds=n)
        issue = Issue(
            id=f"bulk-{n:04d}",
            title=f"Bulk {n}",
            description="d",
            priority=list(Priority)[n % 4],
            reporter_id=developer.username,
            created_at=at,
            updated_at=at,
            first_seen_at=at,
            last_seen_at=at,
        )
        ref = store.collection("issues").document(issue.id)
        batch.set(ref, issue_to_document(issue))
        created = Activity(
            type=ActivityType.CREATED, user_id=developer.username, created_at=at
        )
        batch.set(
            ref.collection("activities").document(), activity_to_document(created)
        )
        if n % 50 == 49:
            batch.commit()
            batch = store.batch()
    batch.commit()
    upkeep.issue_counts_rebuild()


def export(path: Path, *args: str) -> bytes:
    call_command("export_issues", "--output", str(path), *args, stderr=_Sink())
    return path.read_bytes()


class _Sink:
    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> None:
        self.text += text

    def flush(self) -> None:
        return None


def test_round_trip_is_identical(
    developer, service, admin, tmp_path, firestore_emulator, store
):
    populate(store, developer, service)
    store.collection("issues").document("legacy").set(
        {"title": "old", "created_at": "2020-01-01T00:00:00Z", "status": "open"}
    )
    first = export(tmp_path / "first.jsonl")
    counts = upkeep.issue_counts_rebuild()  # the legacy document counted too
    lines = first.decode().splitlines()
    assert len(lines) == ISSUES + 1
    assert '"@time"' in lines[0]

    firestore_emulator.reset()
    out = _Sink()
    call_command("import_issues", str(tmp_path / "first.jsonl"), stdout=out)
    assert f"Imported {ISSUES + 1} issue(s)" in out.text
    second = export(tmp_path / "second.jsonl")

    assert second == first
    assert selectors.issue_counts(actor=admin) == counts
    # The fingerprint locks came back: a repeat report joins the imported issue.
    again = services.issue_report(
        actor=service,
        data=NewIssue(
            title="Issue 0 - ünïcode", description="again", fingerprint="fp-0"
        ),
    )
    assert not again.created
    assert again.issue.occurrence_count == 2


def test_import_refuses_a_project_with_issues(developer, make_issue, tmp_path):
    make_issue(developer)
    path = tmp_path / "export.jsonl"
    data = export(path)
    with pytest.raises(CommandError, match="already has issues"):
        call_command("import_issues", str(path))
    call_command("import_issues", str(path), "--allow-existing", stdout=_Sink())
    assert export(tmp_path / "again.jsonl") == data


def test_export_resumes_after_the_last_id(store, developer, service, tmp_path):
    populate(store, developer, service)
    whole = export(tmp_path / "whole.jsonl")
    lines = whole.decode().splitlines(keepends=True)
    path = tmp_path / "part.jsonl"
    path.write_text("".join(lines[:123]))
    last_id = json.loads(lines[122])["id"]
    assert export(path, "--after", last_id) == whole


def test_import_names_a_bad_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "a"}\nnot json\n')
    with pytest.raises(CommandError, match="Line 1"):
        call_command("import_issues", str(path))


def test_values_round_trip_through_their_tags(store):
    from google.cloud.firestore_v1 import GeoPoint

    value = {
        "t": datetime(2025, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
        "r": store.document("issues/x"),
        "b": b"\x00\xff",
        "g": GeoPoint(1.5, -2.25),
        "l": [1, 2.5, None, "s", {"n": True}],
    }
    decoded = decode_value(encode_value(value), store)
    assert decoded["t"] == value["t"]
    assert decoded["r"].path == "issues/x"
    assert decoded["b"] == value["b"]
    assert decoded["g"] == value["g"]
    assert decoded["l"] == value["l"]


def _read_one_by_one(store: Any) -> str:
    """The export as one query per issue and subcollection would write it."""
    lines = []
    for row in store.collection("issues").order_by("__name__").stream():
        line: dict[str, Any] = {"id": row.id, "issue": encode_value(row.to_dict())}
        for name in ("comments", "activities"):
            children = row.reference.collection(name).order_by("__name__").stream()
            line[name] = [
                {"id": child.id, "data": encode_value(child.to_dict())}
                for child in children
            ]
        lines.append(dumps(line) + "\n")
    return "".join(lines)


def test_export_reads_history_in_bulk_exactly(store, developer, admin, make_issue):
    """History is read a page of issues at a time across issues: an issue with
    more comments than one query returns, page edges, the history a trashed
    issue leaves under `issues/` and other collections' comments all end up
    where they belong."""
    made = [make_issue(developer, title=f"Issue {n}") for n in range(7)]
    for n in range(8):
        services.comment_add(actor=developer, issue_id=made[2].id, content=f"c{n}")
    for issue in made[3:6]:
        services.comment_add(actor=developer, issue_id=issue.id, content="seen")
    services.issue_delete(actor=admin, issue_id=made[4].id)
    for parent in ("aaa/x", "zzz/x", f"issues/{made[0].id}/comments/c"):
        store.document(f"{parent}/comments/stray").set({"content": "not history"})

    out = io.StringIO()
    report = FirestoreIssueTransfer(store).export(out, page_size=2, child_page=3)

    assert out.getvalue() == _read_one_by_one(store)
    assert report.issues == 6
    assert report.comments == 8 + 2
    assert made[4].id not in out.getvalue()
    assert "not history" not in out.getvalue()
    lines = out.getvalue().splitlines(keepends=True)
    resumed = io.StringIO()
    FirestoreIssueTransfer(store).export(
        resumed, after=json.loads(lines[2])["id"], page_size=2, child_page=3
    )
    assert resumed.getvalue() == "".join(lines[3:])
