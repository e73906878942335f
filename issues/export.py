"""The issue list as CSV or JSON, every page, streamed.

Rows are written as each page of the list arrives (cursor pages of PAGE_MAX, one
query each), so an export of 20,000 issues never holds them all in memory and
starts at once. Columns: the list's, plus ids and timestamps.
"""

import csv
import io
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any, Final

from accounts.policy import Actor
from issues.domain import PAGE_MAX, Issue, IssueFilters
from issues.selectors import issues as selectors

COLUMNS: Final = (
    "id",
    "title",
    "status",
    "priority",
    "type",
    "assignee",
    "reporter",
    "component",
    "tags",
    "occurrences",
    "created_at",
    "updated_at",
    "resolved_at",
    "last_seen_at",
)


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def issue_row(issue: Issue) -> dict[str, Any]:
    """One issue's exported fields, by column."""
    return {
        "id": issue.id,
        "title": issue.title,
        "status": str(issue.status),
        "priority": str(issue.priority),
        "type": str(issue.type),
        "assignee": issue.assignee_id,
        "reporter": issue.reporter_id,
        "component": issue.component,
        "tags": list(issue.tags),
        "occurrences": issue.occurrence_count,
        "created_at": _time(issue.created_at),
        "updated_at": _time(issue.updated_at),
        "resolved_at": _time(issue.resolved_at),
        "last_seen_at": _time(issue.last_seen_at),
    }


def issues_all(
    *,
    actor: Actor,
    filters: IssueFilters,
    page_size: int = PAGE_MAX,
    cursor: str | None = None,
) -> Iterator[Issue]:
    """Every issue the list with `filters` shows, page after page (from
    `cursor`'s page on)."""
    while True:
        page = selectors.issue_list(
            actor=actor, filters=filters, limit=page_size, cursor=cursor
        )
        yield from page.items
        if not page.next_cursor:
            return
        cursor = page.next_cursor


def csv_lines(issues: Iterator[Issue]) -> Iterator[str]:
    """A header line, then one CSV line per issue (tags joined by ", ")."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS)

    def flushed() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writeheader()
    yield flushed()
    for issue in issues:
        row = issue_row(issue)
        row["tags"] = ", ".join(row["tags"])
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
        yield flushed()


def json_chunks(issues: Iterator[Issue]) -> Iterator[str]:
    """`{"issues": [...]}`, one issue per chunk."""
    yield '{"issues": ['
    first = True
    for issue in issues:
        yield ("" if first else ",") + "\n" + json.dumps(issue_row(issue))
        first = False
    yield "\n]}\n"
