"""Ingest benchmark: creates, batches and storms through gunicorn vs raw Firestore.

Starts its own Firestore emulator, a throwaway SQLite database and gunicorn
(`gunicorn.conf.py`, 2 workers) on 127.0.0.1, and sends real HTTP requests from
8 threads with a service's API key. Every figure is also given as a ratio to raw
single-document creates from 8 threads against the same emulator, measured in
the same run, because the machine's cores are shared. Writes per document are
counted by Firestore listeners (`on_snapshot`): one change seen per write.
Run with `make bench`; results are described in docs/benchmarks.md.

`BENCH_LEGS` (default `creates,batches,storms`) picks the legs to run, so
`BENCH_LEGS=storms python bench/ingest_bench.py` measures only the raw leg (every
ratio needs it) and the storms; `BENCH_STORM_FINGERPRINTS` (default `1,20`) the
storms run.
"""

import http.client
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness import ROOT, machine, run_isolated

THREADS = int(os.environ.get("BENCH_THREADS", "8"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
CREATES = int(os.environ.get("BENCH_INGEST_CREATES", "1200"))
BATCHES = int(os.environ.get("BENCH_BATCHES", "48"))
STORM = int(os.environ.get("BENCH_STORM", "2400"))
LEGS = set(os.environ.get("BENCH_LEGS", "creates,batches,storms").split(","))
STORM_FINGERPRINTS = [
    int(n) for n in os.environ.get("BENCH_STORM_FINGERPRINTS", "1,20").split(",")
]
BODY: dict[str, Any] = {
    "title": "Error in workflow step X",
    "description": "Workflow failed at step X: timeout talking to the broker.",
    "type": "bug",
    "priority": "high",
    "tags": ["workflow", "error"],
}


def main() -> None:
    """Run every measurement and print the numbers."""
    run_isolated("ingest", run)


def percentile(samples: list[float], q: float) -> float:
    """The q-quantile of `samples` (nearest rank)."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def in_threads(total: int, work: Callable[[int], float]) -> tuple[float, list[float]]:
    """Run `work(n)` for n in range(total) from THREADS threads; (seconds, latencies
    in ms). `work` returns how many items the call stored (creates, reports)."""
    lock = threading.Lock()
    latencies: list[float] = []
    counter = iter(range(total))

    def loop() -> None:
        while True:
            with lock:
                n = next(counter, None)
            if n is None:
                return
            started = time.perf_counter()
            work(n)
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                latencies.append(elapsed)

    threads = [threading.Thread(target=loop) for _ in range(THREADS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, latencies


class Api:
    """One keep-alive HTTP connection per thread to the local gunicorn."""

    def __init__(self, port: int, key: str) -> None:
        self.port = port
        self.headers = {
            "Authorization": f"Bearer {key}",
            "Content-Type": "application/json",
        }
        self.local = threading.local()

    def post(self, path: str, body: Any) -> tuple[int, Any]:
        """POST JSON; (status, decoded answer)."""
        connection = getattr(self.local, "connection", None)
        if connection is None:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            self.local.connection = connection
        try:
            connection.request("POST", path, json.dumps(body), self.headers)
            answer = connection.getresponse()
            return answer.status, json.loads(answer.read() or b"null")
        except (OSError, http.client.HTTPException):
            self.local.connection = None
            connection.close()
            raise


class WriteCounter:
    """Counts changes to documents of a collection (optionally `field == value`)
    seen by a Firestore listener, in a child process: the listener's work on
    each change (the library recomputes the query's result set in Python) would
    otherwise take the GIL from the client threads of this process."""

    def __init__(
        self, project: str, path: str, where: tuple[str, str] | None = None
    ) -> None:
        context = multiprocessing.get_context("spawn")
        self.connection, child = context.Pipe()
        self.process = context.Process(
            target=count_changes, args=(project, path, where, child), daemon=True
        )
        self.process.start()
        self.connection.poll(30)  # the listener's first snapshot
        self.connection.recv()

    def changes(self) -> Counter[str]:
        """The changes counted so far, per document."""
        self.connection.send("count")
        counted: Counter[str] = self.connection.recv()
        return counted

    def stop(self) -> Counter[str]:
        """Stop listening; the changes counted per document."""
        time.sleep(0.5)  # let the last changes arrive
        counted = self.changes()
        self.connection.send("stop")
        self.process.join(10)
        return counted


def count_changes(
    project: str, path: str, where: tuple[str, str] | None, connection: Any
) -> None:
    """The child process of a WriteCounter: listen, answer counts, stop."""
    from google.cloud import firestore
    from google.cloud.firestore_v1.base_query import FieldFilter

    query: Any = firestore.Client(project=project).collection(path)
    if where is not None:
        query = query.where(filter=FieldFilter(where[0], "==", where[1]))
    changes: Counter[str] = Counter()
    lock, ready = threading.Lock(), threading.Event()

    def seen(snapshots: Any, changed: Any, read_time: Any) -> None:
        with lock:
            if ready.is_set():
                changes.update(change.document.id for change in changed)
        ready.set()

    watch = query.on_snapshot(seen)
    ready.wait(10)
    connection.send(None)
    while connection.recv() == "count":
        with lock:
            connection.send(Counter(changes))
    watch.unsubscribe()


def start_gunicorn(port: int) -> subprocess.Popen[bytes]:
    """gunicorn with the production config, 2 workers, on 127.0.0.1:port."""
    env = {**os.environ, "WEB_CONCURRENCY": str(WORKERS), "PORT": str(port)}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            str(ROOT / "gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{port}",
            "--access-logfile",
            os.devnull,
            "issuetracker.wsgi",
        ],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/api/health")
            connection.getresponse().read()
            return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("gunicorn did not start")


def run(emulator_address: str) -> None:
    """The measurements, once the emulator is up."""
    import django

    os.environ["ALLOWED_HOSTS"] = "127.0.0.1,testserver"
    django.setup()
    from django.core.management import call_command

    from accounts.models import User
    from accounts.services.api_keys import api_key_create
    from issues.domain import Issue
    from issues.store.documents import issue_to_document
    from issuetracker.emulator import free_port
    from issuetracker.firestore import call_options, get_client

    call_command("migrate", verbosity=0)
    service = User.objects.create(username="bench-service", role="service")
    key = api_key_create(owner=service).key
    db = get_client()
    issues = db.collection("issues")
    port = free_port()
    server = start_gunicorn(port)
    api = Api(port, key)
    print(machine())
    print(f"Firestore emulator on {emulator_address}; gunicorn, {WORKERS} workers")
    print(f"{THREADS} client threads for every leg\n")

    sample = Issue(id="x", title=BODY["title"], description=BODY["description"])
    raw_doc = issue_to_document(sample)

    def raw_create(n: int) -> float:
        issues.document().set(raw_doc, **call_options())
        return 1

    def api_create(n: int) -> float:
        status, answer = api.post("/api/v1/issues", BODY)
        assert status == 201, answer
        return 1

    try:
        in_threads(2 * THREADS, raw_create)  # warm up channels and workers
        in_threads(4 * THREADS, api_create)
        raw_s, raw_ms = in_threads(CREATES, raw_create)
        raw_rate = CREATES / raw_s
        print(f"Single creates, {CREATES} each:")
        print(
            f"  raw  document().set()   {raw_rate:7.0f} writes/s   "
            f"p50 {percentile(raw_ms, 0.5):6.1f} ms  "
            f"p99 {percentile(raw_ms, 0.99):6.1f} ms"
        )
        if "creates" in LEGS:
            shards = WriteCounter(db.project, "stats/issueCounts/shards")
            api_s, api_ms = in_threads(CREATES, api_create)
            api_rate = CREATES / api_s
            shard_writes = shards.stop()
            p50, p99 = percentile(api_ms, 0.5), percentile(api_ms, 0.99)
            print(
                f"  API  POST /issues       {api_rate:7.0f} issues/s   "
                f"p50 {p50:6.1f} ms  p99 {p99:6.1f} ms   "
                f"ratio {api_rate / raw_rate:.2f}x raw, p99/p50 {p99 / p50:.1f}"
            )
            busiest = max(shard_writes.values(), default=0)
            print(
                f"  counter shards: {sum(shard_writes.values())} writes on "
                f"{len(shard_writes)} documents in {api_s:.1f} s; busiest "
                f"{busiest / api_s:.1f} writes/s"
            )
        print()

        def batch(n: int) -> float:
            reports = [dict(BODY, title=f"Batch {n} report {i}") for i in range(100)]
            status, answer = api.post("/api/v1/issues/batch", {"reports": reports})
            assert status == 200, answer
            assert all(r["status"] == 201 for r in answer["results"]), answer
            return 100

        if "batches" in LEGS:
            batch_s, batch_ms = in_threads(BATCHES, batch)
            batch_rate = BATCHES * 100 / batch_s
            print(f"Batches of 100, {BATCHES} batches:")
            print(
                f"  API  POST /issues/batch {batch_rate:7.0f} reports/s  "
                f"p50 {percentile(batch_ms, 0.5):6.1f} ms per batch   "
                f"ratio {batch_rate / raw_rate:.2f}x raw\n"
            )

        for fingerprints in STORM_FINGERPRINTS if "storms" in LEGS else ():
            clear_store(emulator_address, db.project)
            storm(api, db, fingerprints, raw_rate)
    finally:
        server.terminate()
        server.wait(30)


def clear_store(emulator_address: str, project: str) -> None:
    """Delete every document: a storm starts from an empty store. The emulator
    runs a listener's query again over the whole collection at every write (20
    writes took 2 s instead of 0.1 s with 3,000 issues stored), so the write
    counter would otherwise slow the storm by what the earlier legs stored;
    production Firestore does not."""
    connection = http.client.HTTPConnection(emulator_address, timeout=60)
    path = f"/emulator/v1/projects/{project}/databases/(default)/documents"
    connection.request("DELETE", path)
    answer = connection.getresponse()
    answer.read()
    assert answer.status == 200, answer.status


def storm(api: Api, db: Any, fingerprints: int, raw_rate: float) -> None:
    """STORM reports of `fingerprints` failures, single creates from 8 threads."""
    from google.cloud.firestore_v1.base_query import FieldFilter

    reporter = f"storm-{fingerprints}"
    # A reporter per storm: anonymous reports name it (compatibility mode is on
    # in the local setup), so the listener below sees only this storm's issues.
    query = db.collection("issues").where(
        filter=FieldFilter("reporterId", "==", reporter)
    )
    counter = WriteCounter(db.project, "issues", where=("reporterId", reporter))
    anonymous = Api(api.port, "")
    anonymous.headers = {"Content-Type": "application/json"}

    def report(n: int) -> float:
        body = dict(
            BODY,
            title=f"Crash loop {n % fingerprints}",
            fingerprint=f"crash-{n % fingerprints}",
            reporter_id=reporter,
        )
        status, _ = anonymous.post("/api/v1/issues", body)
        if status not in (200, 201):
            refused[status] += 1
        return 1

    refused: Counter[int] = Counter()
    seconds, latencies = in_threads(STORM, report)
    during = counter.changes()
    accepted = STORM - sum(refused.values())
    rate = accepted / seconds
    started = time.monotonic()
    while True:
        rows = [row.to_dict() for row in query.stream()]
        total = sum(row.get("occurrenceCount", 0) for row in rows)
        if total >= accepted or time.monotonic() - started > 15:
            break
        time.sleep(0.1)
    settled = time.monotonic() - started
    writes = counter.stop()
    window = seconds + settled
    per_doc = [n / seconds for n in during.values()]
    print(f"Storm: {STORM} reports of {fingerprints} fingerprint(s), single creates:")
    print(
        f"  accepted {rate:7.0f} reports/s (ratio {rate / raw_rate:.2f}x raw)   "
        f"p50 {percentile(latencies, 0.5):6.1f} ms  "
        f"p99 {percentile(latencies, 0.99):6.1f} ms"
    )
    print(
        f"  {len(rows)} issue(s), occurrenceCount total {total} of {accepted} "
        f"accepted ({dict(refused) or 'none'} refused), "
        f"exact {settled:.1f} s after the last report"
    )
    print(
        f"  writes per issue document during the storm: "
        f"max {max(per_doc, default=0):.1f}/s, "
        f"mean {statistics.mean(per_doc) if per_doc else 0:.1f}/s "
        f"({sum(writes.values())} writes in all over {window:.1f} s)\n"
    )


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
