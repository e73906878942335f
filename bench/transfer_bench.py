"""Export/import benchmark: a round trip of 20,000 issues is identical.

Seeds BENCH_TRANSFER_ISSUES issues (default 20,000; every 4th with a comment,
each with its history) into its own emulator, exports them with
`manage.py export_issues`, empties the emulator, imports the file with
`manage.py import_issues` and exports again. Prints the time and rate of each
step, the benchmark process's peak memory (resident set, emulator excluded) after
each, and whether the two exports are the same bytes. Run with `make bench`.
"""

import filecmp
import hashlib
import os
import resource
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

from harness import machine, run_isolated

TOTAL = int(os.environ.get("BENCH_TRANSFER_ISSUES", "20000"))


def peak_mb() -> float:
    """This process's peak resident memory so far, in MB (Linux: ru_maxrss KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    """Start the emulator, run the round trip, stop it."""
    # Bulk pages on a loaded machine: time, not the request budget, is measured.
    os.environ.setdefault("FIRESTORE_TIMEOUT", "30")
    run_isolated("transfer", run)


def run(emulator_address: str) -> None:
    """Seed, export, reset, import, export again; print times and the verdict."""
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from issues.domain import Activity, ActivityType, Issue, Priority, Status
    from issues.store.documents import activity_to_document, issue_to_document
    from issuetracker.firestore import call_options, get_client

    call_command("migrate", verbosity=0)
    db = get_client()
    print(machine() + "\n")
    now = datetime.now(UTC)
    started = time.monotonic()
    batch, pending = db.batch(), 0
    for n in range(TOTAL):
        at = now - timedelta(minutes=n)
        issue = Issue(
            id=f"issue-{n:06d}",
            title=f"Issue {n}",
            description=f"Seeded issue {n} for the transfer benchmark",
            status=list(Status)[n % 4],
            priority=list(Priority)[n % 4],
            reporter_id=f"service-{n % 5}",
            tags=(f"t{n % 7}",),
            created_at=at,
            updated_at=at,
            comment_count=1 if n % 4 == 0 else 0,
            version=1,
        )
        ref = db.collection("issues").document(issue.id)
        batch.set(ref, issue_to_document(issue))
        created = Activity(ActivityType.CREATED, issue.reporter_id, (), at)
        batch.set(
            ref.collection("activities").document(), activity_to_document(created)
        )
        pending += 2
        if n % 4 == 0:
            batch.set(
                ref.collection("comments").document(),
                {"issueId": issue.id, "authorId": "a", "content": "c", "createdAt": at},
            )
            pending += 1
        if pending >= 450:
            batch.commit(**call_options(timeout=60))
            batch, pending = db.batch(), 0
    if pending:
        batch.commit(**call_options(timeout=60))
    print(
        f"seeded {TOTAL} issues in {time.monotonic() - started:.1f} s; "
        f"peak memory {peak_mb():.0f} MB"
    )

    folder = Path(tempfile.mkdtemp(prefix="transfer-bench-"))
    quiet = open(os.devnull, "w")  # noqa: SIM115 - progress lines not wanted

    def export(name: str) -> Path:
        path = folder / name
        started = time.monotonic()
        call_command("export_issues", "--output", str(path), stderr=quiet)
        took = time.monotonic() - started
        print(
            f"export {name}: {took:.1f} s, {TOTAL / took:.0f} issues/s; "
            f"peak memory {peak_mb():.0f} MB"
        )
        return path

    round_trip = time.monotonic()
    first = export("first.jsonl")
    project = settings.GOOGLE_CLOUD_PROJECT
    request = urllib.request.Request(
        f"http://{emulator_address}/emulator/v1/projects/{project}"
        "/databases/(default)/documents",
        method="DELETE",
    )
    urllib.request.urlopen(request, timeout=60).close()  # noqa: S310 - local emulator
    started = time.monotonic()
    call_command("import_issues", str(folder / "first.jsonl"), stdout=quiet)
    took = time.monotonic() - started
    print(
        f"import: {took:.1f} s, {TOTAL / took:.0f} issues/s; "
        f"peak memory {peak_mb():.0f} MB"
    )
    second = export("second.jsonl")
    took = time.monotonic() - round_trip
    print(f"round trip (export, reset, import, export): {took:.1f} s")
    # Compared and hashed from the files, so no export is held in memory.
    same = filecmp.cmp(first, second, shallow=False)
    with first.open("rb") as file:
        digest = hashlib.file_digest(file, "sha256").hexdigest()[:16]
    size = first.stat().st_size
    print(
        f"\n{TOTAL} issues, {size / 1e6:.1f} MB, sha256 {digest}: "
        f"round trip {'IDENTICAL' if same else 'DIFFERENT'}"
    )
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
