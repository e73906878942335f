"""`manage.py backfill_issues` on documents the Flask app wrote."""

from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from issues.domain import IssueFilters, Sort
from issues.search import query_words
from issues.selectors import issues as selectors
from issues.selectors import triage


def run() -> str:
    out = StringIO()
    call_command("backfill_issues", stdout=out)
    return out.getvalue()


def test_old_issues_become_searchable_and_sortable(
    store, developer, service, make_issue
):
    store.collection("issues").document("old").set(
        {
            "title": "Broker timeout",
            "description": "From the Flask app",
            "status": "open",
            "priority": "critical",
            "reporter_id": "workflow-consumer",
            "createdAt": "2024-01-01T12:00:00Z",
        }
    )
    store.collection("issues").document("bad").set({"title": 3})
    make_issue(developer, priority="low")

    def ids(filters: IssueFilters) -> list[str]:
        page = selectors.issue_list(actor=developer, filters=filters)
        return [issue.id for issue in page.items]

    search = IssueFilters(words=query_words("broker"))
    assert ids(search) == []
    assert "old" not in ids(IssueFilters(sort=Sort.PRIORITY))

    assert run().startswith("Scanned 3 issues, updated 1, 1 unreadable")
    assert ids(search) == ["old"]
    assert ids(IssueFilters(sort=Sort.PRIORITY))[0] == "old"
    assert ids(IssueFilters(reporter_id="workflow-consumer")) == ["old"]
    queue = triage.triage_queue(actor=developer)
    assert [row.issue.id for group in queue.groups for row in group.rows] == ["old"]
    stored = store.collection("issues").document("old").get().to_dict()
    assert stored["createdAt"] == datetime(2024, 1, 1, 12, tzinfo=UTC)
    assert stored["version"] == 0
    assert "updatedAt" not in stored or stored["updatedAt"] == stored["createdAt"]

    assert run().startswith("Scanned 3 issues, updated 0, 1 unreadable")


def test_firestore_down_is_a_command_error(firestore_down, db):
    with pytest.raises(CommandError, match="did not answer"):
        run()
    out = StringIO()
    with pytest.raises(CommandError, match="did not answer"):
        call_command("backfill_issues", "--counters-only", stdout=out)
