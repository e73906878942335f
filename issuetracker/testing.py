"""Test support shared by the apps' suites: manage.py in a child, browsers, races.

Settings are read once per process, so tests of what the environment decides
(production refusals, defaults) run manage.py in a child with the environment
they describe.
"""

import os
import secrets
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser

REPO = Path(__file__).resolve().parent.parent

# Everything production requires; a fresh random key passes `check --deploy`.
PRODUCTION_ENV: Mapping[str, str] = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": secrets.token_urlsafe(64),
    "ALLOWED_HOSTS": "issues.quantory.app",
    "DATABASE_URL": "postgres://tracker@127.0.0.1:5432/tracker",
    "GOOGLE_CLOUD_PROJECT": "alphafusion-prod",
    # Only named: `check` does not connect (rate limits need it in production).
    "REDIS_URL": "redis://127.0.0.1:6379/0",
}


def child_env(env: Mapping[str, str], *, drop: Iterable[str] = ()) -> dict[str, str]:
    """This process's environment without `drop` and `env`'s names, plus `env`."""
    removed = {*drop, *env, *PRODUCTION_ENV}
    return {k: v for k, v in os.environ.items() if k not in removed} | dict(env)


def run_manage(
    *args: str,
    env: Mapping[str, str] | None = None,
    drop: Iterable[str] = (),
    timeout: float = 120,
) -> "subprocess.CompletedProcess[str]":
    """Run `manage.py *args` to completion in a child with `env` over a clean base.

    The production variables are never inherited, so each test states the
    environment it means.
    """
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=child_env(env or {}, drop=drop),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def start_manage(
    *args: str, drop: Iterable[str] = (), env: Mapping[str, str] | None = None
) -> "subprocess.Popen[str]":
    """Start `manage.py *args` in a child (with `env` over a clean base, as
    `run_manage`), stdout and stderr merged into one pipe."""
    return subprocess.Popen(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=child_env(env or {}, drop=drop),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def database_url() -> str:
    """The test database as a DATABASE_URL a child process can open (SQLite
    tests use a file for this: see the root conftest)."""
    from django.db import connection

    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    user = f"{db['USER']}:{db['PASSWORD']}@" if db["USER"] else ""
    host = f"{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}"
    return f"postgres://{user}{host}/{db['NAME']}"


CHROMIUM_INSTALL = "apt-get update && apt-get install -y chromium"


def chromium_path() -> str:
    """Where the browser tests expect Chromium: CHROMIUM_PATH, or Debian's."""
    return os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def browser_required() -> bool:
    """Whether a missing Chromium fails the browser tests rather than skipping
    them: in CI (`CI=true`) or when asked (`REQUIRE_BROWSER=1`)."""
    return (
        os.environ.get("CI", "").lower() == "true"
        or os.environ.get("REQUIRE_BROWSER") == "1"
    )


def require_chromium() -> None:
    """Skip the calling test when Chromium is missing, with one line saying how
    to install it; fail it instead where the browser is required."""
    path = chromium_path()
    if os.path.isfile(path) and os.access(path, os.X_OK):
        return
    reason = (
        f"Chromium not found at {path}: install it with `{CHROMIUM_INSTALL}` "
        "or set CHROMIUM_PATH"
    )
    if browser_required():
        pytest.fail(f"{reason} (required: CI=true or REQUIRE_BROWSER=1)", pytrace=False)
    pytest.skip(reason)


@contextmanager
def chromium_browser(**options: Any) -> "Iterator[Browser]":
    """A launched Chromium (skipped or failed by `require_chromium` when missing).

    Playwright's sync API keeps an event loop on this thread, so Django's async
    guard is lifted meanwhile; DJANGO_ALLOW_ASYNC_UNSAFE is restored on the way
    out whatever happens, a failed launch included, so no later test inherits it.
    """
    require_chromium()
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                **(chromium_launch_options() | options)
            )
            try:
                yield browser
            finally:
                browser.close()


def chromium_launch_options() -> dict[str, Any]:
    """Playwright `chromium.launch` options for Debian's Chromium on this machine.

    `playwright install` cannot download here, so the system browser is used; the
    background-networking flags keep it from dialling Google on a closed network.
    """
    return {
        "executable_path": chromium_path(),
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


def run_at_once(
    *calls: Callable[[], Any],
) -> tuple[list[Any], list[BaseException]]:
    """Run `calls` on threads released together: what they returned, what they raised.

    For races: every call waits at a barrier, so they reach the store at once.
    """
    results: list[Any] = []
    errors: list[BaseException] = []
    gate = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> None:
        gate.wait()
        try:
            results.append(call())
        except Exception as error:  # noqa: BLE001 - handed back to the test
            errors.append(error)
        finally:
            # A thread's database connection would outlive the test and keep
            # PostgreSQL from dropping the test database at the end of the run.
            from django.db import connections

            connections.close_all()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors
