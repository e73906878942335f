"""Run independent calls side by side on a small shared thread pool.

Firestore calls of a page are independent reads; the client is thread-safe, so
they go out together and a page costs the slowest call, not their sum.
"""

from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from time import monotonic
from typing import TypeVar

from django.conf import settings

from issuetracker.errors import StoreUnavailable

T = TypeVar("T")

_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="portal")


def run_side_by_side(calls: Sequence[Callable[[], T]]) -> list[T]:
    """Run independent store calls on the pool; return their results in order.

    Never nested (a call must not submit to the pool, or a busy pool deadlocks).
    On the first failure, calls not yet started are dropped and the error is raised
    once the running ones end, so a Firestore outage costs about one call's
    deadline, not a queue of them, and no call outlives its request. A page never
    waits longer than three call deadlines, whatever the pool's backlog.
    """
    futures: list[Future[T]] = [_pool.submit(call) for call in calls]
    deadline = monotonic() + 3 * settings.FIRESTORE_TIMEOUT
    try:
        done, pending = wait(
            futures,
            timeout=max(0.0, deadline - monotonic()),
            return_when=FIRST_EXCEPTION,
        )
        for future in done:
            error = future.exception()
            if error is not None:
                raise error
        if pending:
            raise StoreUnavailable("The issue store did not answer in time.")
        return [future.result() for future in futures]
    finally:
        for future in futures:
            future.cancel()
        # Let calls already running end (each within its own deadline), so none
        # outlives the request that started it.
        wait(futures, timeout=max(0.0, deadline - monotonic()))
