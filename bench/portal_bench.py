"""Portal benchmark: page render time with 100 and with 20,000 issues in the store.

Starts its own Firestore emulator and a throwaway SQLite database. Pages are
requested through Django's test client, so each number is the whole server side
of a page: session, services, Firestore queries and template rendering (no
network, no browser). Run with `make bench`; docs/benchmarks.md has the results.
"""

import logging
import os
import re
import statistics
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from harness import machine, run_isolated, timed

RUNS = int(os.environ.get("BENCH_PAGE_RUNS", "30"))
# Comma-separated words: only the pages and calls whose names hold one are timed
# (`BENCH_ONLY=triage,first page`); the first-chart count runs when "chart" is one.
ONLY = tuple(word for word in os.environ.get("BENCH_ONLY", "").split(",") if word)
SIZES = tuple(
    int(size) for size in os.environ.get("BENCH_SIZES", "100,20000").split(",")
)


def wanted(name: str) -> bool:
    """Whether BENCH_ONLY leaves the page or call `name` in."""
    return not ONLY or any(word in name for word in ONLY)


def main() -> None:
    """Start the emulator, run the measurements, stop it."""
    run_isolated("portal", run)


def run(emulator_address: str) -> None:
    """The measurements, once Django and the emulator are up."""
    import django

    django.setup()
    from django.core.cache import cache
    from django.core.management import call_command
    from django.test import Client

    from accounts.models import User
    from issues import services, upkeep
    from issues.domain import (
        Activity,
        ActivityType,
        FieldChange,
        Issue,
        IssueFilters,
        IssueType,
        NewIssue,
        Priority,
        Sort,
        Status,
    )
    from issues.hourly import hour_key
    from issues.selectors import issues as selectors
    from issues.store.dashboard import get_dashboard_store
    from issues.store.documents import (
        ACTIVITIES,
        activity_to_document,
        issue_to_document,
    )
    from issues.store.firestore import FirestoreIssueRepository
    from issuetracker.concurrency import run_side_by_side
    from issuetracker.firestore import call_options, get_client

    call_command("migrate", verbosity=0)
    # A 503 is counted in the table; its log lines would only interleave with it.
    for name in ("django.request", "issuetracker.firestore"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    me = User.objects.create(username="bench@quantory.app", role="developer")
    for n in range(5):
        User.objects.create(username=f"service-{n}", role="service")
    client = Client()
    client.force_login(me)
    db = get_client()
    issues = db.collection("issues")
    repo = FirestoreIssueRepository()
    statuses, priorities, kinds = list(Status), list(Priority), list(IssueType)
    now = datetime.now(UTC)

    print(machine() + "\n")

    def seed(total: int) -> None:
        """Issues spread over 60 days, each with its `created` history entry and,
        for resolved ones, the move into `resolved` (what the chart counts)."""
        existing = repo.count(filters=IssueFilters())
        batch, pending = db.batch(), 0
        for n in range(existing, total):
            created = now - timedelta(minutes=(n * 4321) % (60 * 24 * 60))
            status = statuses[n % 4]
            issue = Issue(
                id=repo.new_id(),
                title=f"Issue {n} in service {n % 37}",
                description=f"Seeded issue number {n} for the **portal** benchmark",
                status=status,
                priority=priorities[(n // 4) % 4],
                type=kinds[n % 4],
                reporter_id=f"service-{n % 5}" if n % 3 == 0 else me.actor_id,
                assignee_id=None if n % 3 == 0 else me.actor_id,
                tags=(f"t{n % 7}",),
                created_at=created,
                updated_at=created,
                version=1,
                # A day of occurrences for the triage queue's sparklines.
                hourly_occurrences=tuple(
                    (hour_key(now - timedelta(hours=h)), 1 + (n + h) % 4)
                    for h in range(0, 24, 3)
                ),
            )
            ref = issues.document(issue.id)
            batch.set(ref, issue_to_document(issue))
            entries = [Activity(ActivityType.CREATED, me.actor_id, (), created)]
            if status in {Status.RESOLVED, Status.CLOSED}:
                change = FieldChange("status", "in-progress", "resolved")
                moment = created + timedelta(hours=5)
                entries.append(
                    Activity(
                        ActivityType.STATUS_CHANGED, me.actor_id, (change,), moment
                    )
                )
            for entry in entries:
                batch.set(
                    ref.collection(ACTIVITIES).document(), activity_to_document(entry)
                )
            pending += len(entries) + 1
            if pending >= 450:
                batch.commit(**call_options())
                batch, pending = db.batch(), 0
        if pending:
            batch.commit(**call_options())

    def later_page(hops: int, path: str = "/issues/") -> str | None:
        """The URL of the page `hops` cursors after `path` (its first page), or
        None when the list is shorter."""
        first = path
        for _ in range(hops):
            html = client.get(path).content.decode()
            found = re.search(r'href="[^"]*(\?cursor=[^"]+)"', html)
            if not found:
                return None
            path = first + found.group(1).replace("&amp;", "&")
        return path

    meter = install_meter()
    for total in SIZES:
        seed(total)
        # Seeding writes documents directly, as the Flask app did: recount them,
        # as `manage.py backfill_issues` does after a migration.
        started = time.perf_counter()
        upkeep.issue_counts_rebuild()
        rebuild_ms = (time.perf_counter() - started) * 1000
        cache.clear()
        stored = repo.count(filters=IssueFilters())
        print(f"{stored} issues: counters rebuilt in {rebuild_ms:.0f} ms")
        featured = services.issue_create(
            actor=me,
            data=NewIssue(
                title="Featured issue", description="With **ten** comments", tags=("x",)
            ),
        )
        for n in range(10):
            services.comment_add(
                actor=me, issue_id=featured.id, content=f"Comment **{n}** on the issue"
            )
        cases: dict[str, str | None] = {
            "issue list, first page": "/issues/",
            "issue list, page 4 (cursor)": later_page(3),
            "list status=open&sort=priority": "/issues/?status=open&sort=priority",
            "list q=seeded+portal&tag=t3": "/issues/?q=seeded+portal&tag=t3",
            "issue page (10 comments)": f"/issues/{featured.id}/",
            "dashboard (chart from cache)": "/",
            "triage queue, first page (50)": "/triage/",
            "triage queue, page 2 (cursor)": later_page(1, "/triage/"),
            "chart, today recounted": "/dashboard/chart/?fragment=1",
        }
        pages = {
            name: path
            for name, path in cases.items()
            if path is not None and wanted(name)
        }
        # The chart's past days are counted once, then kept; time that first count.
        cache.clear()
        tries, started = 0, time.perf_counter()
        while wanted("chart") and tries < 10:
            tries += 1
            if client.get("/dashboard/chart/?fragment=1").status_code == 200:
                break
        if tries:
            first_chart = (time.perf_counter() - started) * 1000
            print(
                f"{stored} issues: first chart (30 days = 60 counts, nothing cached) "
                f"{first_chart:.0f} ms in {tries} request{'s' if tries > 1 else ''}"
            )
        print(f"{stored} issues stored, {RUNS} runs each (whole page, server side):")
        print(
            f"  {'page':32} {'median':>8} {'p95':>8} {'own':>8}   Firestore per "
            "page: calls, docs read, time in calls (summed)"
        )
        today_key = f"portal:chart:v1:{datetime.now(UTC).date().isoformat()}"
        for name, path in pages.items():
            codes: list[int] = []

            def get(
                path: str = path,
                chart: bool = "chart" in name,
                codes: Any = codes,
                today_key: str = today_key,
            ) -> None:
                if chart:
                    cache.delete(today_key)  # today is recounted every minute
                codes.append(client.get(path).status_code)

            for _ in range(3):
                get()  # warm up
            codes.clear()
            meter.reset()
            samples = timed(get, RUNS)
            failed = [code for code in codes if code != 200]
            calls, docs, firestore_ms = meter.per_page(RUNS)
            note = f"   {len(failed)} of {RUNS} answered {failed[0]}" if failed else ""
            median = statistics.median(samples)
            # The page's own time (Django, templates, the ORM): what is not spent
            # waiting on Firestore. Only for pages whose calls run one at a time.
            own = f"{median - firestore_ms:5.1f} ms" if calls <= 1 else "parallel"
            print(
                f"  {name:32} {median:6.1f} ms "
                f"{sorted(samples)[int(len(samples) * 0.95)]:6.1f} ms {own:>8}   "
                f"{calls:5.1f} calls {docs:6.1f} docs {firestore_ms:7.1f} ms{note}"
            )
        # The dashboard's calls one at a time: the counters it reads (against the
        # eight aggregation queries they replaced, side by side as the page ran
        # them) and its three lists and the unpicked service issues.
        aggregations = [
            partial(selectors.issue_count, actor=me, filters=filters)
            for filters in (
                *(IssueFilters(status=status) for status in Status),
                *(IssueFilters(priority=priority) for priority in Priority),
            )
        ]

        def listing(filters: IssueFilters) -> Callable[[], object]:
            return partial(selectors.issue_list, actor=me, filters=filters, limit=8)

        counts_cases: dict[str, Callable[[], object]] = {
            "counts: counters (dashboard now)": partial(
                selectors.issue_counts, actor=me
            ),
            "counts: 8 aggregations (before)": partial(run_side_by_side, aggregations),
            "list: mine, open": listing(
                IssueFilters(
                    assignee_id=me.actor_id, status=Status.OPEN, sort=Sort.UPDATED
                )
            ),
            "list: mine, in progress": listing(
                IssueFilters(
                    assignee_id=me.actor_id,
                    status=Status.IN_PROGRESS,
                    sort=Sort.UPDATED,
                )
            ),
            "list: recently updated": listing(IssueFilters(sort=Sort.UPDATED)),
            "list: unpicked from services": partial(
                get_dashboard_store().unassigned_open_by,
                reporter_ids=[f"service-{n}" for n in range(5)],
                limit=8,
            ),
        }
        for name, action in counts_cases.items():
            if not wanted(name):
                continue
            action()  # warm up
            meter.reset()
            samples = timed(action, RUNS)
            calls, docs, firestore_ms = meter.per_page(RUNS)
            print(
                f"  {name:32} {statistics.median(samples):6.1f} ms "
                f"{sorted(samples)[int(len(samples) * 0.95)]:6.1f} ms {'':>8}   "
                f"{calls:5.1f} calls {docs:6.1f} docs {firestore_ms:7.1f} ms"
            )
        print()


class Meter:
    """Counts Firestore calls, documents read and time spent in them (all threads)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Start counting again."""
        self.calls, self.docs, self.seconds = 0, 0, 0.0

    def add(self, docs: int, seconds: float) -> None:
        """Record one call."""
        with self.lock:
            self.calls += 1
            self.docs += docs
            self.seconds += seconds

    def per_page(self, pages: int) -> tuple[float, float, float]:
        """Calls, documents and milliseconds per page."""
        return self.calls / pages, self.docs / pages, self.seconds * 1000 / pages


def install_meter() -> Meter:
    """Wrap the client's query, aggregation and document reads with a Meter.

    An aggregation counts as one document read (Firestore bills one read per
    batch of up to 1,000 index entries it counts); `get_all` as one call reading
    each document it returns.
    """
    from google.cloud.firestore_v1.aggregation import AggregationQuery
    from google.cloud.firestore_v1.client import Client
    from google.cloud.firestore_v1.document import DocumentReference
    from google.cloud.firestore_v1.query import Query

    meter = Meter()
    stream, aggregate, document, get_all = (
        Query.stream,
        AggregationQuery.get,
        DocumentReference.get,
        Client.get_all,
    )

    def metered_stream(self: Any, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        rows = list(stream(self, *args, **kwargs))
        meter.add(len(rows), time.perf_counter() - started)
        return iter(rows)

    def metered_aggregate(self: Any, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        result = aggregate(self, *args, **kwargs)
        meter.add(1, time.perf_counter() - started)
        return result

    def metered_document(self: Any, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        result = document(self, *args, **kwargs)
        meter.add(1, time.perf_counter() - started)
        return result

    def metered_get_all(self: Any, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        rows = list(get_all(self, *args, **kwargs))
        meter.add(len(rows), time.perf_counter() - started)
        return iter(rows)

    Query.stream = metered_stream  # type: ignore[method-assign]
    Client.get_all = metered_get_all  # type: ignore[method-assign]
    AggregationQuery.get = metered_aggregate  # type: ignore[method-assign]
    DocumentReference.get = metered_document  # type: ignore[method-assign]
    return meter


if __name__ == "__main__":
    main()
