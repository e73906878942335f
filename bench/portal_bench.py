"""Portal benchmark: page render time with 100 and with 20,000 issues in the store.

Starts its own Firestore emulator and a throwaway SQLite database. Pages are
requested through Django's test client, so each number is the whole server side
of a page: session, services, Firestore queries and template rendering (no
network, no browser). Run with `make bench`; docs/benchmarks.md has the results.
"""

import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RUNS = int(os.environ.get("BENCH_PAGE_RUNS", "30"))
SIZES = tuple(
    int(size) for size in os.environ.get("BENCH_SIZES", "100,20000").split(",")
)


def timed(action: Callable[[], object], runs: int) -> list[float]:
    """Milliseconds of each of `runs` calls."""
    results = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        results.append((time.perf_counter() - started) * 1000)
    return results


def summary(samples: list[float]) -> str:
    """Median and 95th percentile, in milliseconds."""
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"median {statistics.median(ordered):7.1f} ms   p95 {p95:7.1f} ms"


def main() -> None:
    """Start the emulator, run the measurements, stop it."""
    data_dir = tempfile.mkdtemp(prefix="portal-bench-")
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "issuetracker.settings",
            "DJANGO_ENV": "development",
            "DATA_DIR": data_dir,
            "DATABASE_URL": "",
            "DEBUG": "false",
            "ALLOWED_HOSTS": "testserver",
            "LOG_LEVEL": "WARNING",
        }
    )
    from issuetracker.emulator import FirestoreEmulator

    emulator = FirestoreEmulator(project="demo-issuetracker").start()
    os.environ["FIRESTORE_EMULATOR_HOST"] = emulator.address
    try:
        run()
    finally:
        emulator.stop(export=False)


def run() -> None:
    """The measurements, once Django and the emulator are up."""
    import django

    django.setup()
    from django.core.cache import cache
    from django.core.management import call_command
    from django.test import Client

    from accounts.models import User
    from issues import services
    from issues.domain import (
        Activity,
        ActivityType,
        FieldChange,
        Issue,
        IssueFilters,
        IssueType,
        Priority,
        Status,
    )
    from issues.repository import (
        ACTIVITIES,
        FirestoreIssueRepository,
        activity_to_document,
        issue_to_document,
    )
    from issuetracker.firestore import call_options, get_client

    call_command("migrate", verbosity=0)
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

    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, {platform.platform()}\n"
    )

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

    def page(path: str) -> Callable[[], None]:
        def get() -> None:
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)

        return get

    def later_page(hops: int) -> str:
        """The URL of the list page `hops` cursors in."""
        path = "/issues/"
        for _ in range(hops):
            html = client.get(path).content.decode()
            start = html.index('href="?cursor=') + len('href="')
            path = "/issues/" + html[start : html.index('"', start)].replace(
                "&amp;", "&"
            )
        return path

    def dashboard_cold() -> None:
        cache.clear()
        page("/")()

    for total in SIZES:
        seed(total)
        stored = repo.count(filters=IssueFilters())
        featured = services.issue_list(actor=me, filters=IssueFilters(), limit=1).items[
            0
        ]
        for n in range(10):
            services.comment_add(
                actor=me, issue_id=featured.id, content=f"Comment **{n}** on the issue"
            )
        cases: dict[str, Callable[[], None]] = {
            "issue list, first page": page("/issues/"),
            "issue list, page 4 (cursor)": page(later_page(3)),
            "list status=open&sort=priority": page(
                "/issues/?status=open&sort=priority"
            ),
            "list q=seeded+portal&tag=t3": page("/issues/?q=seeded+portal&tag=t3"),
            "issue page (10 comments)": page(f"/issues/{featured.id}/"),
            "dashboard, chart cached": page("/"),
            "dashboard, chart computed": dashboard_cold,
        }
        print(f"{stored} issues stored, {RUNS} runs each (whole page, server side):")
        for name, action in cases.items():
            for _ in range(3):
                action()  # warm up
            runs = RUNS if "computed" not in name else max(5, RUNS // 3)
            print(f"  {name:32} {summary(timed(action, runs))}")
        print()


if __name__ == "__main__":
    main()
