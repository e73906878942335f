"""Issue API benchmark: create rate (API vs raw Firestore) and list-page latency.

Starts its own Firestore emulator and a throwaway SQLite database, so it touches
nothing of `make run`'s data. Requests go through Django's test client: the whole
Django/DRF stack (auth, parsing, validation, services, repository) without the
network. Run with `make bench`; results are described in docs/benchmarks.md.
"""

import os
import statistics
from datetime import UTC, datetime, timedelta
from typing import Any

from harness import machine, run_isolated, summary, timed

CREATES = int(os.environ.get("BENCH_CREATES", "300"))
PAGE_RUNS = int(os.environ.get("BENCH_PAGE_RUNS", "30"))
SIZES = (1_000, 20_000)


def main() -> None:
    """Run every measurement and print the numbers."""
    run_isolated("issues", run)


def run(emulator_address: str) -> None:
    """The measurements, once Django and the emulator are up."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from accounts.models import User
    from issues.domain import Issue, IssueFilters, IssueType, Priority, Status
    from issues.store.documents import issue_to_document
    from issues.store.firestore import FirestoreIssueRepository
    from issuetracker.firestore import call_options, get_client

    call_command("migrate", verbosity=0)
    user = User.objects.create(username="bench@quantory.app", role="developer")
    client = Client()
    client.force_login(user)
    db = get_client()
    issues = db.collection("issues")
    body: dict[str, Any] = {
        "title": "Error in workflow step X",
        "description": "Workflow failed at step X: timeout talking to the broker.",
        "type": "bug",
        "priority": "high",
        "tags": ["workflow", "error"],
    }

    print(machine())
    print(f"Firestore emulator on {emulator_address}\n")

    # Create rate: the API (validation, service, one batch commit) vs a raw set().
    def api_create() -> None:
        response = client.post("/api/v1/issues", body, content_type="application/json")
        assert response.status_code == 201, response.content

    sample = Issue(
        id="x",
        title=body["title"],
        description=body["description"],
        created_at=datetime.now(UTC),
        updated_at=datetime.now(UTC),
    )
    raw_doc = issue_to_document(sample)

    def raw_create() -> None:
        issues.document().set(raw_doc, **call_options())

    api_create()  # warm up connections and code paths
    raw_create()
    api_ms = timed(api_create, CREATES)
    raw_ms = timed(raw_create, CREATES)
    api_rate = CREATES / (sum(api_ms) / 1000)
    raw_rate = CREATES / (sum(raw_ms) / 1000)
    print(f"Create, {CREATES} sequential each:")
    print(f"  API   POST /api/v1/issues  {api_rate:7.0f} issues/s   {summary(api_ms)}")
    print(f"  raw   document().set()     {raw_rate:7.0f} writes/s   {summary(raw_ms)}")
    print(
        "  API cost per create: "
        f"{statistics.median(api_ms) - statistics.median(raw_ms):.1f} ms over the "
        "raw write (issue + activity batch, auth, validation)\n"
    )

    # List pages with the store at each size.
    repo = FirestoreIssueRepository()
    statuses, priorities, kinds = list(Status), list(Priority), list(IssueType)
    start = datetime(2024, 1, 1, tzinfo=UTC)

    def seed(total: int) -> None:
        existing = repo.count(filters=IssueFilters())
        batch, pending = db.batch(), 0
        for n in range(int(existing), total):
            moment = start + timedelta(minutes=n)
            issue = Issue(
                id=repo.new_id(),
                title=f"Issue {n} in service {n % 37}",
                description=f"Seeded issue number {n} for the benchmark",
                status=statuses[n % 4],
                priority=priorities[n % 4],
                type=kinds[n % 4],
                reporter_id=f"service-{n % 11}",
                tags=(f"t{n % 7}",),
                created_at=moment,
                updated_at=moment,
                version=1,
            )
            batch.set(issues.document(issue.id), issue_to_document(issue))
            pending += 1
            if pending == 500:
                batch.commit(**call_options())
                batch, pending = db.batch(), 0
        if pending:
            batch.commit(**call_options())

    from issues.domain import Sort
    from issues.search import query_words
    from issues.store.queries import SCAN_FACTOR, SCAN_MAX, plan_issue_query

    # name -> (API URL without cursor, the same filters for the raw query)
    cases = {
        "first page, newest": ("limit=25", IssueFilters()),
        "page 5 (4 cursors on)": ("limit=25", IssueFilters()),
        "status=open&sort=priority": (
            "status=open&sort=priority&limit=25",
            IssueFilters(status=Status.OPEN, sort=Sort.PRIORITY),
        ),
        "q=seeded+benchmark&tag=t3": (
            "q=seeded+benchmark&tag=t3&limit=25",
            IssueFilters(tag="t3", words=query_words("seeded benchmark")),
        ),
    }

    def page_url(query: str, skip: int) -> str:
        url = f"/api/v1/issues?{query}"
        for _ in range(skip):
            url = client.get(url).json()["next"]
        return url

    print("List page latency: the API request, and the same Firestore query alone")
    print("(the repository's query with its limit, run directly) for comparison.\n")
    for total in SIZES:
        seed(total)
        stored = repo.count(filters=IssueFilters())
        print(f"{stored} issues stored, {PAGE_RUNS} runs each:")
        for name, (query, filters) in cases.items():
            url = page_url(query, 4 if name.startswith("page 5") else 0)
            cursor = url.split("cursor=")[1] if "cursor=" in url else None
            plan = plan_issue_query(issues, filters, cursor)
            fetch = 26 if not plan.has_residual else min(25 * SCAN_FACTOR, SCAN_MAX)
            raw_query = plan.query.limit(fetch)
            rows = len(list(raw_query.stream(**call_options())))

            def api_get(target: str = url) -> None:
                response = client.get(target)
                assert response.status_code == 200, response.content

            def raw_get(query: object = raw_query) -> None:
                list(query.stream(**call_options()))  # type: ignore[attr-defined]

            for _ in range(3):
                api_get()
                raw_get()
            # Interleaved, so drift in the emulator's speed hits both alike.
            page_ms: list[float] = []
            query_ms: list[float] = []
            for _ in range(PAGE_RUNS):
                page_ms += timed(api_get, 1)
                query_ms += timed(raw_get, 1)
            overhead = statistics.median(page_ms) - statistics.median(query_ms)
            print(
                f"  {name:27} API {statistics.median(page_ms):6.1f} ms | "
                f"query alone {statistics.median(query_ms):6.1f} ms | "
                f"API minus query {overhead:5.1f} ms | {rows:3} docs read"
            )
        print()


if __name__ == "__main__":
    main()
