"""What every benchmark shares: an isolated tracker to measure, timing, the machine.

Each benchmark runs against its own Firestore emulator and a throwaway SQLite
database, so it touches nothing of `make run`'s data and no DATABASE_URL or
REDIS_URL of the environment.
"""

import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


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
    return f"median {statistics.median(ordered):6.1f} ms   p95 {p95:6.1f} ms"


def machine() -> str:
    """One line naming the machine the numbers come from."""
    return (
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, {platform.platform()}"
    )


def run_isolated(name: str, measure: Callable[[str], None]) -> None:
    """Configure Django for a throwaway tracker, start an emulator, run `measure`.

    `measure` gets the emulator's address and sets Django up itself (settings are
    read from the environment prepared here).
    """
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "issuetracker.settings",
            "DJANGO_ENV": "development",
            "DATA_DIR": tempfile.mkdtemp(prefix=f"{name}-bench-"),
            "DATABASE_URL": "",
            "REDIS_URL": "",
            "DEBUG": "false",
            "ALLOWED_HOSTS": "testserver",
            "LOG_LEVEL": "WARNING",
            # The benchmarks measure the paths, not the rate limit in front of them.
            "API_WRITE_RATE": "1000000/m",
        }
    )
    from issuetracker.emulator import FirestoreEmulator

    emulator = FirestoreEmulator(project="demo-issuetracker").start()
    os.environ["FIRESTORE_EMULATOR_HOST"] = emulator.address
    try:
        measure(emulator.address)
    finally:
        emulator.stop(export=False)
