"""Save screenshots of the portal (dashboard, lists, issue page, triage, bulk
actions) for the README.

Starts its own Firestore emulator and a throwaway SQLite database, seeds a month
of made-up issues, serves the tracker with `runserver` and photographs it with
Debian's Chromium through Playwright. Nothing of `make run`'s data is touched.
Run with `make screenshots`; the PNGs land in docs/screenshots/.
"""

import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

OUT = ROOT / "docs" / "screenshots"
# Signs in to a throwaway database that exists only while the script runs.
PASSWORD = "screenshots-only-password"  # noqa: S105
ME = "ana.silva@quantory.app"
STAFF = {
    ME: ("developer", "Ana Silva"),
    "ben.okafor@quantory.app": ("developer", "Ben Okafor"),
    "chen.li@quantory.app": ("tester", "Chen Li"),
    "dora.weiss@quantory.app": ("admin", "Dora Weiss"),
}
SERVICES = ["market-data-feed", "order-router", "risk-engine"]

TITLES = [
    (
        "Order book freezes after websocket reconnect",
        "bug",
        ["market-data", "websocket"],
    ),
    ("Add CSV export of filled trades", "feature", ["reports"]),
    ("Margin call e-mail shows the wrong currency", "bug", ["notifications", "fx"]),
    ("Dark mode for the blotter", "enhancement", ["ui"]),
    ("Rotate the exchange API keys", "task", ["security", "ops"]),
    ("P&L chart skips weekends incorrectly", "bug", ["charts"]),
    ("Rate-limit retries against the broker API", "enhancement", ["broker"]),
    ("Nightly reconciliation job times out", "bug", ["batch", "ops"]),
    ("Keyboard shortcuts for order entry", "feature", ["ui", "a11y"]),
    ("Upgrade the pricing library", "task", ["deps"]),
    ("Stop-loss orders ignored when the market gaps", "bug", ["orders"]),
    ("Document the backtest configuration", "task", ["docs"]),
]
# Service reports nobody has picked up: (title, service, component, hourly
# shape). The shape is what the triage queue's sparkline shows.
SERVICE_TITLES = [
    (
        "TimeoutError: quote snapshot took 5.2 s",
        "market-data-feed",
        "snapshots",
        "burst",
    ),
    (
        "KeyError: 'bid' in depth-of-book update",
        "market-data-feed",
        "snapshots",
        "steady",
    ),
    (
        "Websocket closed with 1006 during resubscribe",
        "market-data-feed",
        "ws",
        "rising",
    ),
    (
        "ConnectionResetError talking to FIX gateway",
        "order-router",
        "fix-gateway",
        "steady",
    ),
    ("Sequence reset rejected by venue XLON", "order-router", "fix-gateway", "burst"),
    ("Order ack slower than 250 ms", "order-router", None, "rising"),
    (
        "ValueError: negative exposure for account 4411",
        "risk-engine",
        "exposure",
        "burst",
    ),
    ("Margin model fell back to stale FX rates", "risk-engine", "fx", "steady"),
]


def hourly_shape(shape: str, rng: random.Random) -> list[int]:
    """Occurrences per hour over 30 hours, oldest first."""
    if shape == "burst":
        return [0] * 20 + [rng.randint(1, 3), 14, 38, 22, 9, 3, 1, 0, 0, 1]
    if shape == "rising":
        return [max(0, int(n / 2.5) + rng.randint(-1, 2)) for n in range(30)]
    return [rng.randint(2, 7) for _ in range(30)]


FEATURED_DESCRIPTION = """\
After a websocket reconnect the order book stops updating, while trades keep
streaming. Seen on **EUR/USD** and **BTC/USD** since Tuesday's deploy.

### Steps
1. Open the blotter for any FX pair.
2. Drop the network for ~10 s (or kill the feed's socket).
3. The book shows the last snapshot forever; a page reload fixes it.

```
WARN feed.ws reconnected after 9.8s; resubscribing 14 channels
ERROR book.merge sequence gap 184422 -> 184431, waiting for snapshot
```

Probably the snapshot request is sent before the subscription is confirmed.
See the [feed runbook](https://wiki.quantory.app/feeds).
"""


def wait_for(url: str, timeout: float = 30.0) -> None:
    """Return once `url` answers, whatever the status."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)  # noqa: S310 - local http only
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


def seed() -> str:
    """Users in SQLite, a month of issues in Firestore; the featured issue's id."""
    from accounts.models import User
    from issues.domain import (
        Activity,
        ActivityType,
        Comment,
        IssueChanges,
        IssueType,
        NewIssue,
        Priority,
        Status,
    )
    from issues.store.firestore import FirestoreIssueRepository
    from issues.workflow import apply_changes, new_issue

    for username, (role, name) in STAFF.items():
        user = User(username=username, email=username, role=role, display_name=name)
        user.set_password(PASSWORD)
        user.save()
    for name in SERVICES:
        User.objects.create(username=name, role="service")

    rng = random.Random(7)  # noqa: S311 - made-up data, same every run
    repo = FirestoreIssueRepository()
    now = datetime.now(UTC).replace(microsecond=0)
    people = list(STAFF)

    def create(
        data: NewIssue, reporter: str, at: datetime, **extra: Any
    ) -> tuple[str, datetime]:
        issue = new_issue(data, issue_id=repo.new_id(), reporter_id=reporter, now=at)
        issue = replace(issue, **extra)
        activity = Activity(type=ActivityType.CREATED, user_id=reporter, created_at=at)
        repo.add(issue=issue, activity=activity)
        return issue.id, at

    def change(issue_id: str, actor: str, at: datetime, **fields: Any) -> None:
        changes = IssueChanges(**fields)
        repo.update(
            issue_id=issue_id,
            mutate=lambda issue: apply_changes(issue, changes, actor_id=actor, now=at),
        )

    def comment(issue_id: str, author: str, at: datetime, text: str) -> None:
        repo.add_comment(
            comment=Comment(
                issue_id=issue_id,
                author_id=author,
                content=text,
                created_at=at,
                updated_at=at,
            ),
            activity=Activity(
                type=ActivityType.COMMENTED, user_id=author, created_at=at
            ),
        )

    # A month of ordinary issues moving along the workflow.
    for n in range(46):
        title, kind, tags = TITLES[n % len(TITLES)]
        if n >= len(TITLES):
            title = f"{title} ({rng.choice(['staging', 'prod', 'EU', 'US'])})"
        at = now - timedelta(days=rng.uniform(0.2, 29.5))
        reporter = rng.choice(people)
        assignee = rng.choice([*people, None])
        issue_id, _ = create(
            NewIssue(
                title=title,
                description=f"{title}.\n\nFound while testing release 2.{n % 9}.",
                type=IssueType(kind),
                priority=rng.choice(list(Priority)),
                assignee_id=assignee,
                tags=tuple(tags),
            ),
            reporter,
            at,
        )
        steps = rng.choice([0, 0, 1, 2, 2, 3])
        moment = at
        for status in [Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED][:steps]:
            moment = min(now, moment + timedelta(hours=rng.uniform(3, 60)))
            change(issue_id, assignee or ME, moment, status=status)

    # Service-reported issues nobody has picked up, with hourly occurrences
    # (what the ingest path records) for the triage queue's sparklines.
    from issues.hourly import hour_key

    this_hour = now.replace(minute=0, second=0)
    for title, service, component, shape in SERVICE_TITLES:
        counts = hourly_shape(shape, rng)
        hours = {
            hour_key(this_hour - timedelta(hours=len(counts) - 1 - n)): count
            for n, count in enumerate(counts)
            if count
        }
        last = max(n for n, count in enumerate(counts) if count)
        first = now - timedelta(days=rng.uniform(1.5, 6))
        create(
            NewIssue(
                title=title,
                description=f"Reported automatically by `{service}`.",
                type=IssueType.BUG,
                priority=rng.choice([Priority.HIGH, Priority.MEDIUM]),
                fingerprint=f"{service}:{rng.randrange(10**8):08d}",
                component=component,
            ),
            service,
            first,
            occurrence_count=sum(counts) + rng.randint(0, 40),
            hourly_occurrences=tuple(sorted(hours.items())),
            last_seen_at=min(
                now,
                this_hour
                - timedelta(hours=len(counts) - 1 - last)
                + timedelta(minutes=rng.randint(1, 50)),
            ),
        )

    # The featured issue: Markdown, tags, comments and a history.
    start = now - timedelta(days=2, hours=5)
    featured, _ = create(
        NewIssue(
            title="Order book freezes after websocket reconnect",
            description=FEATURED_DESCRIPTION,
            type=IssueType.BUG,
            priority=Priority.CRITICAL,
            tags=("market-data", "websocket", "prod"),
        ),
        "chen.li@quantory.app",
        start,
    )
    change(featured, ME, start + timedelta(hours=1), assignee_id=ME)
    comment(
        featured,
        ME,
        start + timedelta(hours=2),
        "Reproduced locally with `tc qdisc` dropping packets. The resubscribe "
        "races the snapshot request.",
    )
    change(featured, ME, start + timedelta(hours=3), status=Status.IN_PROGRESS)
    comment(
        featured,
        "ben.okafor@quantory.app",
        start + timedelta(hours=20),
        "Same on the **order-router** side: we should gate the snapshot on the "
        "subscription ack.",
    )
    change(
        featured,
        ME,
        start + timedelta(hours=26),
        tags=("market-data", "websocket", "prod", "regression"),
    )
    return featured


def select_three(page: Any) -> None:
    """Tick three rows (the third with shift: a range) and fill the bulk form."""
    boxes = page.locator("[data-select]")
    boxes.nth(0).click()
    boxes.nth(2).click(modifiers=["Shift"])
    page.locator("#bulk-form [name=action]").select_option("priority")
    page.locator("#bulk-form [name=priority]").select_option("critical")
    page.locator("#bulk-form [data-testid=bulk-apply]").hover()


def photograph(base: str, featured: str) -> list[Path]:
    """Sign in and save the PNGs; return their paths."""
    from playwright.sync_api import sync_playwright

    from issuetracker.testing import chromium_launch_options

    OUT.mkdir(parents=True, exist_ok=True)
    # (file, path, full page?, browser context options, what to do before)
    shots: list[tuple[str, str, bool, dict[str, Any], Callable[[Any], None] | None]] = [
        ("dashboard.png", "/", True, {}, None),
        (
            "issue-list.png",
            "/issues/?sort=updated",
            False,
            {"viewport": {"width": 1280, "height": 1000}},
            None,
        ),
        ("issue-page.png", f"/issues/{featured}/", True, {}, None),
        (
            "issue-page-dark.png",
            f"/issues/{featured}/",
            False,
            {"color_scheme": "dark"},
            None,
        ),
        (
            "issue-list-phone.png",
            "/issues/?status=open&sort=priority",
            False,
            {"viewport": {"width": 390, "height": 844}},
            None,
        ),
        ("triage.png", "/triage/", True, {}, None),
        (
            "bulk-action.png",
            "/issues/?status=open&sort=updated",
            False,
            {"viewport": {"width": 1280, "height": 1000}},
            select_three,
        ),
    ]
    saved = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(**chromium_launch_options())
        for name, path, full_page, options, prepare in shots:
            context = browser.new_context(
                **{
                    "viewport": {"width": 1280, "height": 900},
                    "timezone_id": "Europe/London",
                    "locale": "en-GB",
                    **options,
                }
            )
            page = context.new_page()
            page.goto(base + "/accounts/login/?next=" + quote(path))
            page.get_by_label("Username").fill(ME)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in with password").click()
            page.wait_for_load_state("networkidle")
            if prepare is not None:
                prepare(page)
            target = OUT / name
            page.screenshot(path=str(target), full_page=full_page)
            saved.append(target)
            context.close()
        browser.close()
    return saved


def main() -> None:
    """Emulator, database, seed, server, photographs; then clean up."""
    data_dir = Path(tempfile.mkdtemp(prefix="issues-screenshots-"))
    port = int(os.environ.get("SCREENSHOTS_PORT", "8765"))
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "issuetracker.settings",
            "DJANGO_ENV": "development",
            "DEBUG": "true",
            "DATA_DIR": str(data_dir),
            "DATABASE_URL": "",
            "LOG_LEVEL": "WARNING",
        }
    )
    from issuetracker.emulator import FirestoreEmulator

    emulator = FirestoreEmulator(project="demo-issuetracker").start()
    os.environ["FIRESTORE_EMULATOR_HOST"] = emulator.address
    server: subprocess.Popen[bytes] | None = None
    try:
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0, interactive=False)
        featured = seed()
        server = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "manage.py"),
                "runserver",
                f"127.0.0.1:{port}",
                "--noreload",
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        wait_for(base + "/api/health")
        for path in photograph(base, featured):
            print(f"{path.relative_to(ROOT)}  {path.stat().st_size // 1024} KiB")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        emulator.stop(export=False)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
