"""Export and import of every issue with its comments and history, as JSON Lines.

One line per issue, in document id order:
`{"id", "issue": {...stored document...}, "comments": [{"id", "data"}],
"activities": [{"id", "data"}]}`, keys sorted, so the same store always gives
the same bytes. Values Firestore has and JSON lacks are tagged: timestamps as
`{"@time": "<ISO 8601, UTC>"}`, references `{"@ref": path}`, bytes
`{"@bytes": base64}`, geo points `{"@geo": [lat, lng]}`; an import writes them
back as they were, so export -> import -> export is identical.

The export reads a page of issues at a time (a cursor on the document id, never
an offset) and the page's comments and activities in bulk: one collection-group
query each, ordered by document path and paged by a cursor, bounded by the page's
first issue and the next page's (so no query per issue). It writes as it goes:
memory holds one page. `after` resumes after the last id a previous run
reported. The trash, notifications and fingerprint locks
are not exported; the import rebuilds the locks of unresolved issues and the
counters.
"""

import base64
import json
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any, Final, TextIO

from google.cloud import firestore
from google.cloud.firestore_v1 import GeoPoint
from google.cloud.firestore_v1.document import DocumentReference

from issues.domain import IssueCounts, Status
from issues.store.backfill import rebuild_counts
from issues.store.counters import counter_shards
from issues.store.documents import (
    ACTIVITIES,
    COMMENTS,
    CREATED,
    DOCUMENT_ID,
    FINGERPRINT,
    FINGERPRINTS,
    ISSUE_ID,
    ISSUES,
    REPORTER,
    STATUS,
    fingerprint_key,
)
from issuetracker.errors import Conflict, InvalidInput
from issuetracker.firestore import call_options, get_client, store_errors

# Issues per export page (memory holds one, with its history): a page costs a few
# queries (its issues, then CHILD_PAGE history documents a query), and each query's
# cost grows with the store on the emulator, so fewer pages go faster.
EXPORT_PAGE: Final = 1000
# Writes per import batch (Firestore allows 500).
IMPORT_BATCH: Final = 400
IMPORT_THREADS: Final = 4
# Comments or activities read by one query of an export.
CHILD_PAGE: Final = 1000
_UNRESOLVED: Final = frozenset({str(Status.OPEN), str(Status.IN_PROGRESS)})


def encode_value(value: Any) -> Any:
    """A stored value as JSON, Firestore's own types tagged."""
    if isinstance(value, datetime):
        return {"@time": value.astimezone(UTC).isoformat()}
    if isinstance(value, DocumentReference):
        return {"@ref": value.path}
    if isinstance(value, bytes):
        return {"@bytes": base64.b64encode(value).decode()}
    if isinstance(value, GeoPoint):
        return {"@geo": [value.latitude, value.longitude]}
    if isinstance(value, Mapping):
        return {str(k): encode_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [encode_value(v) for v in value]
    return value


def decode_value(value: Any, client: firestore.Client) -> Any:
    """`encode_value` reversed."""
    if isinstance(value, dict):
        if len(value) == 1:
            ((tag, inner),) = value.items()
            if tag == "@time":
                return datetime.fromisoformat(inner)
            if tag == "@ref":
                return client.document(inner)
            if tag == "@bytes":
                return base64.b64decode(inner)
            if tag == "@geo":
                return GeoPoint(inner[0], inner[1])
        return {k: decode_value(v, client) for k, v in value.items()}
    if isinstance(value, list):
        return [decode_value(v, client) for v in value]
    return value


@dataclass(frozen=True)
class _Range:
    """Issues from `first` up to, not including, `following` (None: the end)."""

    first: DocumentReference
    following: DocumentReference | None


@dataclass(frozen=True)
class TransferReport:
    """How many issues, comments and activities went through; the last id."""

    issues: int
    comments: int
    activities: int
    last_id: str | None = None
    counts: IssueCounts | None = None


class FirestoreIssueTransfer:
    """Export to and import from JSON Lines (see the module docstring)."""

    def __init__(self, client: firestore.Client | None = None) -> None:
        self.client = client or get_client()
        self.issues = self.client.collection(ISSUES)

    def export(
        self,
        out: TextIO,
        *,
        after: str | None = None,
        page_size: int = EXPORT_PAGE,
        child_page: int = CHILD_PAGE,
        on_page: Callable[[str, int], None] | None = None,
    ) -> TransferReport:
        """Write every issue after `after` (by id) to `out`, a page at a time;
        `on_page(last_id, issues_so_far)` after each page is written."""
        issues = comments = activities = 0
        last_id = after
        with ThreadPoolExecutor(max_workers=2) as pool:
            while True:
                query = self.issues.order_by(DOCUMENT_ID)
                if last_id:
                    query = query.start_after(
                        {DOCUMENT_ID: self.issues.document(last_id)}
                    )
                with store_errors("exporting issues"):
                    # One issue more than the page: it bounds the page's history.
                    rows = list(query.limit(page_size + 1).stream(**call_options()))
                    rows, following = rows[:page_size], rows[page_size:]
                    if not rows:
                        break
                    bounds = _Range(
                        rows[0].reference, following[0].reference if following else None
                    )
                    by_comments, by_activities = pool.map(
                        partial(self._children, bounds=bounds, child_page=child_page),
                        (COMMENTS, ACTIVITIES),
                    )
                for row in rows:
                    row_comments = by_comments.get(row.id, [])
                    row_activities = by_activities.get(row.id, [])
                    line = {
                        "id": row.id,
                        "issue": encode_value(row.to_dict() or {}),
                        "comments": row_comments,
                        "activities": row_activities,
                    }
                    out.write(dumps(line) + "\n")
                    comments += len(row_comments)
                    activities += len(row_activities)
                issues += len(rows)
                last_id = rows[-1].id
                out.flush()
                if on_page is not None:
                    on_page(last_id, issues)
                if not following:
                    break
        return TransferReport(issues, comments, activities, last_id)

    def _children(
        self, name: str, bounds: "_Range", child_page: int
    ) -> dict[str, list[Any]]:
        """The `name` documents of the issues in `bounds`, by issue id, each
        list in id order: one collection-group query ordered by path, paged by
        a cursor (`child_page` documents a query).

        An issue's path sorts just before its subcollections' documents, so the
        range holds the history of the issues in it and of nothing else but
        trashed issues (their history stays under `issues/`; no line asks for
        it). Without an upper bound the range ends where `issues/` does.
        """
        query = (
            self.client.collection_group(name)
            .order_by(DOCUMENT_ID)
            .start_at({DOCUMENT_ID: bounds.first})
        )
        if bounds.following is not None:
            query = query.end_before({DOCUMENT_ID: bounds.following})
        found: dict[str, list[Any]] = {}
        while True:
            rows = list(query.limit(child_page).stream(**call_options()))
            for row in rows:
                path = row.reference.path.split("/")
                if path[0] != ISSUES:
                    return found
                if len(path) == 4:
                    found.setdefault(path[1], []).append(
                        {"id": row.id, "data": encode_value(row.to_dict() or {})}
                    )
            if len(rows) < child_page:
                return found
            query = query.start_after({DOCUMENT_ID: rows[-1].reference})

    def is_empty(self) -> bool:
        """Whether no issue is stored (one id read at most)."""
        with store_errors("checking for issues"):
            rows = list(self.issues.select([]).limit(1).stream(**call_options()))
        return not rows

    def import_(
        self, lines: Iterable[str], *, allow_existing: bool = False
    ) -> TransferReport:
        """Write the issues in `lines` (an export) with their ids, then rebuild
        the counters. Conflict when issues are stored, unless `allow_existing`
        (then an imported issue replaces the stored one with its id)."""
        if not allow_existing and not self.is_empty():
            raise Conflict(
                "The project already has issues; import into an empty project "
                "(or allow importing over existing issues)."
            )
        issues = comments = activities = 0
        last_id = None
        with _BatchWriter(self.client) as writer:
            for number, entry in _entries(lines):
                try:
                    issue_id = str(entry["id"])
                    document = decode_value(entry["issue"], self.client)
                    ref = self.issues.document(issue_id)
                    writer.set(ref, document)
                    for name, rows in (
                        (COMMENTS, entry["comments"]),
                        (ACTIVITIES, entry["activities"]),
                    ):
                        for row in rows:
                            data = decode_value(row["data"], self.client)
                            writer.set(
                                ref.collection(name).document(str(row["id"])), data
                            )
                except (KeyError, TypeError, ValueError) as error:
                    raise InvalidInput(
                        f"Line {number} is not an exported issue: {error}"
                    ) from None
                self._lock(writer, issue_id, document)
                issues += 1
                comments += len(entry["comments"])
                activities += len(entry["activities"])
                last_id = issue_id
        counts = rebuild_counts(self.client, self.issues, counter_shards(self.client))
        return TransferReport(issues, comments, activities, last_id, counts)

    def _lock(
        self, writer: "_BatchWriter", issue_id: str, document: Mapping[str, Any]
    ) -> None:
        """The fingerprint lock an unresolved fingerprinted issue holds."""
        reporter, fingerprint = document.get(REPORTER), document.get(FINGERPRINT)
        if document.get(STATUS) not in _UNRESOLVED:
            return
        if (
            not isinstance(reporter, str)
            or not isinstance(fingerprint, str)
            or not fingerprint
        ):
            return
        writer.set(
            self.client.collection(FINGERPRINTS).document(
                fingerprint_key(reporter, fingerprint)
            ),
            {
                ISSUE_ID: issue_id,
                REPORTER: reporter,
                FINGERPRINT: fingerprint,
                CREATED: document.get(CREATED),
            },
        )


def dumps(value: Any) -> str:
    """One JSON line: keys sorted, no spaces, text as it is."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _entries(lines: Iterable[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError as error:
            raise InvalidInput(f"Line {number} is not JSON: {error}") from None
        if not isinstance(entry, dict):
            raise InvalidInput(f"Line {number} is not an exported issue.")
        yield number, entry


class _BatchWriter:
    """Sets documents in batches of IMPORT_BATCH writes, committing up to
    IMPORT_THREADS batches at once (the emulator and Firestore take writes to
    different documents in parallel); memory holds at most twice that many."""

    def __init__(self, client: firestore.Client) -> None:
        self.client = client
        self.batch = client.batch()
        self.pending = 0
        self.pool = ThreadPoolExecutor(max_workers=IMPORT_THREADS)
        self.commits: deque[Future[Any]] = deque()

    def set(self, ref: DocumentReference, data: Mapping[str, Any]) -> None:
        self.batch.set(ref, dict(data))
        self.pending += 1
        if self.pending >= IMPORT_BATCH:
            self._send()

    def _send(self) -> None:
        if self.pending:
            self.commits.append(self.pool.submit(_commit, self.batch))
            self.batch = self.client.batch()
            self.pending = 0
        while len(self.commits) > 2 * IMPORT_THREADS:
            self.commits.popleft().result()

    def __enter__(self) -> "_BatchWriter":
        return self

    def __exit__(self, kind: type[BaseException] | None, *rest: object) -> None:
        """Without an error: send what is left and wait for every commit (the
        first failure raises). With one: drop the open batch, let the commits
        sent finish."""
        try:
            if kind is None:
                self._send()
            while self.commits:
                commit = self.commits.popleft()
                if kind is None:
                    commit.result()
        finally:
            self.pool.shutdown(wait=True, cancel_futures=kind is not None)


def _commit(batch: Any) -> None:
    with store_errors("importing issues"):
        batch.commit(**call_options())


def get_issue_transfer() -> FirestoreIssueTransfer:
    """The export and import the services use."""
    return FirestoreIssueTransfer()
