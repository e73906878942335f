"""The client: `report_*` only queue; one daemon thread delivers, retries and gives up.

The calling service must never wait for, or fail because of, the tracker. So
`report_*` build the body in the caller's thread (the traceback is at hand there),
put it in a bounded queue without waiting, and return; they swallow every error
of their own. A worker thread posts the queue's bodies one at a time.
"""

import atexit
import contextlib
import json
import logging
import os
import queue
import random
import sys
import threading
import time
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

from issuetracker_client import reports
from issuetracker_client._version import __version__
from issuetracker_client.transport import Outcome, Result, Transport, public_url

logger = logging.getLogger("issuetracker_client")

_SERVICE_ID_MAX = 100  # the tracker's limit on `reporter_id`
_COUNTERS = ("sent", "rejected", "failed", "dropped", "retried")


@dataclass(frozen=True, slots=True)
class ClientStats:
    """Counts since the client started.

    Every report ends in exactly one of `sent`, `rejected`, `failed` or
    `dropped`, or is still `queued`; `retried` counts extra attempts.
    """

    queued: int  # waiting or being sent
    sent: int  # the tracker created the issue (2xx)
    rejected: int  # the tracker refused it with a 4xx other than 408/425/429
    failed: int  # still undelivered after max_retries (down, slow, 429, 5xx)
    dropped: int  # never sent: queue full, client closed, cut off by close()
    retried: int  # attempts after the first one


class IssueTrackerClient:
    """Reports issues to the AlphaFusion Issue Tracker without ever blocking.

    `base_url` is the tracker's root (`https://issues.quantory.app`). Give an
    `api_key` (sent as `Authorization: Bearer`; the key's service is the
    reporter), or only a `service_id` to report anonymously as that service where
    the tracker allows it (compatibility mode). Thread-safe; one per process is
    enough. Arguments that make no sense raise ValueError here, at start-up;
    after that nothing the client does raises into the caller.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        service_id: str | None = None,
        timeout: float = 2.0,
        queue_size: int = 1000,
        max_retries: int = 3,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        max_retry_after: float = 60.0,
        close_timeout: float = 5.0,
        tags: Iterable[str] = (),
        register_atexit: bool = True,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                "base_url must be the tracker's http(s) URL, "
                "such as https://issues.quantory.app"
            )
        if api_key is not None and (
            not api_key
            or not api_key.isascii()
            or not api_key.isprintable()
            or any(char.isspace() for char in api_key)
        ):
            raise ValueError("api_key is empty or holds spaces or control characters")
        if service_id is not None:
            service_id = service_id.strip()
            if not 1 <= len(service_id) <= _SERVICE_ID_MAX:
                raise ValueError(f"service_id must be 1-{_SERVICE_ID_MAX} characters")
        if api_key is None and service_id is None:
            raise ValueError(
                "Give api_key, or service_id to report anonymously (compatibility mode)"
            )
        for name, value in (
            ("timeout", timeout),
            ("backoff", backoff),
            ("max_backoff", max_backoff),
            ("max_retry_after", max_retry_after),
            ("close_timeout", close_timeout),
        ):
            if not value >= 0:  # also refuses NaN
                raise ValueError(f"{name} must be a number of seconds >= 0")
        if timeout <= 0 or queue_size < 1 or max_retries < 0:
            raise ValueError("timeout > 0, queue_size >= 1 and max_retries >= 0")

        self._base_url = base_url.rstrip("/")
        self._service_id = service_id
        self._has_key = api_key is not None
        self._reporter_id = None if api_key is not None else service_id
        self._queue_size = queue_size
        self._max_retries = max_retries
        self._backoff = backoff
        self._max_backoff = max_backoff
        self._max_retry_after = max_retry_after
        self._close_timeout = close_timeout
        self._tags = reports.tags_of(tags)
        agent = f"alphafusion-issuetracker-client/{__version__}"
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": f"{agent} ({service_id})" if service_id else agent,
        }
        if api_key is not None:
            headers["Authorization"] = f"Bearer {api_key}"
        self._transport = Transport(
            url=f"{self._base_url}/api/v1/issues", headers=headers, timeout=timeout
        )
        self._closed = False
        self._start()
        _live_clients.add(self)
        self._atexit = register_atexit
        if register_atexit:
            atexit.register(self._close_at_exit)

    def _start(self) -> None:
        """Fresh queue, lock, counters and no worker (at start and after a fork)."""
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=self._queue_size)
        self._stopping = threading.Event()
        self._worker: threading.Thread | None = None
        self._pending = 0
        self._counts = dict.fromkeys(_COUNTERS, 0)
        self._warned: set[str] = set()

    def __repr__(self) -> str:
        key = "'<set>'" if self._has_key else "None"
        return (
            f"IssueTrackerClient(base_url={public_url(self._base_url)!r}, "
            f"api_key={key}, service_id={self._service_id!r})"
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def stats(self) -> ClientStats:
        """A consistent snapshot of the counters."""
        with self._lock:
            return ClientStats(queued=self._pending, **self._counts)

    @property
    def closed(self) -> bool:
        """True once close() has been called; reports are then dropped."""
        return self._closed

    # Reporting (caller's thread: never blocks, never raises)

    def report_issue(
        self,
        title: str,
        description: str,
        *,
        type: str = "bug",  # the API's field name
        priority: str = "medium",
        tags: Iterable[str] = (),
        fingerprint: str | None = None,
    ) -> bool:
        """Queue an issue; False when it was dropped (queue full, client closed).

        Values are fitted to the API's limits rather than refused: the title to
        one line of 200 characters, the description to 10,000 (keeping its start
        and end), at most 20 tags of 50. An unknown type or priority is sent as
        the default and logged. Give a `fingerprint` to let the tracker group
        repeats of the same problem.
        """
        try:
            body = reports.issue_body(
                title=title,
                description=description,
                issue_type=self._choice("type", type, reports.ISSUE_TYPES, "bug"),
                priority=self._choice(
                    "priority", priority, reports.PRIORITIES, "medium"
                ),
                tags=self._with_default_tags(tags),
                fingerprint=fingerprint,
                reporter_id=self._reporter_id,
            )
            return self._enqueue(body)
        except Exception:  # noqa: BLE001 - a report must never break its caller
            self._drop_unbuildable("report_issue")
            return False

    def report_exception(
        self,
        exc: BaseException | None = None,
        *,
        title: str | None = None,
        context: str | None = None,
        type: str = "bug",  # the API's field name
        priority: str = "high",
        tags: Iterable[str] = (),
        fingerprint: str | None = None,
    ) -> bool:
        """Queue an issue about `exc` (default: the one being handled).

        Title `KeyError in place_order: 'ETH-USD'`; the description holds
        `context` (what the service was doing), the traceback and where it ran.
        The fingerprint hashes the exception's type and the functions of its
        traceback, not line numbers or the message, so the same failure from
        the same code gets the same fingerprint whatever the ids in it.
        """
        try:
            if exc is None:
                exc = sys.exception()
            if exc is None:
                self._drop(
                    "no-exception",
                    "report_exception() was called with no exception and outside "
                    "an except block; nothing to report",
                )
                return False
            body = reports.issue_body(
                title=reports.exception_title(exc) if title is None else title,
                description=reports.exception_description(
                    exc, context=context, service_id=self._service_id
                ),
                issue_type=self._choice("type", type, reports.ISSUE_TYPES, "bug"),
                priority=self._choice("priority", priority, reports.PRIORITIES, "high"),
                tags=self._with_default_tags(tags),
                fingerprint=(
                    reports.exception_fingerprint(exc)
                    if fingerprint is None
                    else fingerprint
                ),
                reporter_id=self._reporter_id,
            )
            return self._enqueue(body)
        except Exception:  # noqa: BLE001 - a report must never break its caller
            self._drop_unbuildable("report_exception")
            return False

    def _with_default_tags(self, tags: Iterable[str]) -> list[object]:
        given = [tags] if isinstance(tags, str) else list(tags)
        return [*self._tags, *given]

    def _choice(
        self, field: str, value: object, allowed: tuple[str, ...], default: str
    ) -> str:
        chosen = reports.choice_of(value, allowed, default)
        if chosen is None:
            self._warn_once(
                f"bad-{field}",
                "Unknown issue %s %r (use one of %s); sent as %r. Logged once.",
                field,
                value,
                ", ".join(allowed),
                default,
            )
            return default
        return chosen

    def _enqueue(self, body: dict[str, Any]) -> bool:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        with self._lock:
            if self._closed:
                reason = "closed"
            else:
                self._start_worker()  # first: it may fail (interpreter shutdown)
                try:
                    self._queue.put_nowait(data)
                except queue.Full:
                    reason = "full"
                else:
                    self._pending += 1
                    return True
        if reason == "closed":
            self._drop("closed", "A report came after close(); it is dropped.")
        else:
            self._drop(
                "full",
                "The issue tracker client's queue is full (%d reports); new "
                "reports are dropped until it drains. Logged once per episode.",
                self._queue_size,
            )
        return False

    def _start_worker(self) -> None:
        """Start the sender thread if there is none (caller holds the lock)."""
        if self._worker is None or not self._worker.is_alive():
            self._worker = threading.Thread(
                target=self._run, name="issuetracker-client", daemon=True
            )
            self._worker.start()

    def _drop(self, kind: str, message: str, *args: object) -> None:
        self._count("dropped")
        self._warn_once(kind, message, *args)

    def _drop_unbuildable(self, where: str) -> None:
        self._count("dropped")
        with self._lock:
            first = where not in self._warned
            self._warned.add(where)
        if first:
            logger.warning(
                "%s could not build a report; it is dropped. Logged once.",
                where,
                exc_info=True,
            )

    # Delivery (the worker thread)

    def _run(self) -> None:
        while True:
            body = self._queue.get()
            if body is None:
                return
            try:
                if self._stopping.is_set():
                    self._count("dropped")
                else:
                    self._deliver(body)
            except Exception as error:  # noqa: BLE001 - the worker must outlive bugs
                self._count("failed")
                # Type and place only: an error's message might quote a header.
                where = error.__traceback__
                while where is not None and where.tb_next is not None:
                    where = where.tb_next
                self._warn_once(
                    "bug",
                    "Issue tracker client bug (%s at %s:%s); the report is lost.",
                    type(error).__name__,
                    where.tb_frame.f_code.co_filename if where else "?",
                    where.tb_lineno if where else "?",
                )
            finally:
                with self._lock:
                    self._pending -= 1
                    if self._pending <= 0:
                        self._idle.notify_all()

    def _deliver(self, body: bytes) -> None:
        retries = 0
        while True:
            outcome = self._transport.send(body)
            if outcome.result is Result.SENT:
                self._count("sent")
                with self._lock:  # a later outage or overflow is news again
                    self._warned.difference_update(("failed", "full"))
                return
            if outcome.result is Result.REJECTED:
                self._count("rejected")
                self._warn_once(
                    f"rejected-{outcome.status}",
                    "The issue tracker at %s refused a report with %s (%s); such "
                    "reports are dropped, not retried. Logged once per status.",
                    public_url(self._base_url),
                    outcome.status,
                    outcome.detail or "no details",
                )
                return
            if retries >= self._max_retries:
                self._count("failed")
                self._warn_once(
                    "failed",
                    "Could not deliver a report to the issue tracker at %s in %d "
                    "attempts (last: %s); it is dropped. Logged once per outage.",
                    public_url(self._base_url),
                    retries + 1,
                    _describe(outcome),
                )
                return
            delay = self._delay(retries, outcome)
            retries += 1
            self._count("retried")
            if self._stopping.wait(delay):
                self._count("dropped")
                return

    def _delay(self, retries: int, outcome: Outcome) -> float:
        """Retry-After when given (capped), else exponential backoff with jitter."""
        if outcome.retry_after is not None:
            wait = min(outcome.retry_after, self._max_retry_after)
            return wait + random.uniform(0, 0.1 * wait)  # noqa: S311 - jitter
        ceiling = min(self._max_backoff, self._backoff * 2**retries)
        return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter

    # Bookkeeping

    def _count(self, name: str) -> None:
        with self._lock:
            self._counts[name] += 1

    def _warn_once(self, kind: str, message: str, *args: object) -> None:
        with self._lock:
            if kind in self._warned:
                return
            self._warned.add(kind)
        logger.warning(message, *args)

    # Shutdown

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every queued report is sent or given up, at most `timeout`
        seconds (default: close_timeout). True when nothing is left."""
        wait = self._close_timeout if timeout is None else max(0.0, timeout)
        with self._idle:
            return self._idle.wait_for(lambda: self._pending <= 0, wait)

    def close(self, timeout: float | None = None) -> bool:
        """Stop taking reports, deliver what is queued for at most `timeout`
        seconds (default: close_timeout), then drop the rest and return.

        True when everything queued was dealt with. Runs at interpreter exit
        too (unless register_atexit=False); calling it again is harmless.
        """
        wait = self._close_timeout if timeout is None else max(0.0, timeout)
        deadline = time.monotonic() + wait
        with self._lock:
            first = not self._closed
            self._closed = True
        if first and self._atexit:
            atexit.unregister(self._close_at_exit)
        done = self.flush(wait)
        self._stopping.set()  # cuts a retry's wait short
        left = 0
        while True:
            try:
                body = self._queue.get_nowait()
            except queue.Empty:
                break
            if body is not None:
                left += 1
                with self._lock:
                    self._counts["dropped"] += 1
                    self._pending -= 1
        with self._lock:
            worker = self._worker
        if worker is not None:
            # When full, the worker sees _stopping after its current report.
            with contextlib.suppress(queue.Full):
                self._queue.put_nowait(None)
            if worker is not threading.current_thread():
                worker.join(max(0.0, deadline - time.monotonic()))
        in_flight = worker is not None and worker.is_alive()
        if first and not done:
            logger.warning(
                "Issue tracker client closed after %.1f s with reports undelivered: "
                "%d dropped from its queue%s.",
                wait,
                left,
                ", one still being sent" if in_flight else "",
            )
        return done

    def _close_at_exit(self) -> None:
        try:
            self.close()
        except Exception:  # never spoil the service's exit
            logger.warning("Issue tracker client failed to close", exc_info=True)

    def _after_fork(self) -> None:
        """In a forked child: the parent's thread and queue are not ours."""
        self._start()


def _describe(outcome: Outcome) -> str:
    if outcome.status is None:
        return outcome.detail or "network error"
    return f"HTTP {outcome.status}" + (f" {outcome.detail}" if outcome.detail else "")


_live_clients: "weakref.WeakSet[IssueTrackerClient]" = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for client in list(_live_clients):
        client._after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
