"""The client: calls only queue; one daemon thread delivers, retries and gives up.

The calling service must never wait for, or fail because of, the tracker. So
`report_*`, `log_issue`, `add_comment` and `update_issue_status` build the request
in the caller's thread (the traceback is at hand there), put it in a bounded queue
without waiting, and return; they swallow every error of their own. A worker
thread sends the queue's requests one at a time, in call order, so a comment
never reaches the tracker before the issue it follows.

The parts: settings (arguments and environment), core (what every call
shares), legacy (the old app's three calls), sender (queue and worker),
delivery (retries, backoff, batches), ids (folded log_issue ids), tally
(counters and warnings logged once).
"""

import atexit
import logging
import os
import sys
import threading
import time
import weakref
from collections.abc import Iterable
from types import TracebackType
from typing import Self

from issuetracker_client import reports
from issuetracker_client.core import never_raises
from issuetracker_client.delivery import Job, to_json
from issuetracker_client.legacy import OldCalls
from issuetracker_client.sender import Sender
from issuetracker_client.settings import (
    DEFAULT_URL,
    FROM_ENV,
    KEY_VARIABLE,
    SERVICE_VARIABLE,
    URL_VARIABLE,
    _FromEnv,
    read_settings,
)
from issuetracker_client.tally import ClientStats
from issuetracker_client.transport import public_url

logger = logging.getLogger("issuetracker_client")

__all__ = [
    "DEFAULT_URL",
    "FROM_ENV",
    "KEY_VARIABLE",
    "SERVICE_VARIABLE",
    "URL_VARIABLE",
    "ClientStats",
    "IssueTrackerClient",
]


class IssueTrackerClient(OldCalls):
    """Reports issues to the AlphaFusion Issue Tracker without ever blocking.

    `base_url` is the tracker's root (`https://issues.quantory.app`). Give an
    `api_key` (sent as `Authorization: Bearer`; the key's service is the
    reporter), or only a `service_id` to report anonymously as that service where
    the tracker allows it (compatibility mode). Left out, they are read from
    ISSUETRACKER_URL (default `http://issuetracker:6001`), ISSUETRACKER_API_KEY
    and ISSUETRACKER_SERVICE_ID, so `IssueTrackerClient()` works as the old
    `alphafusion.utils.issue_tracker_client` did; `None` means none, whatever
    the environment says. Thread-safe; one per process is enough. Arguments that
    make no sense raise ValueError here, at start-up; after that nothing the
    client does raises into the caller.
    """

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | _FromEnv | None = FROM_ENV,
        *,
        service_id: str | _FromEnv | None = FROM_ENV,
        timeout: float = 2.0,
        queue_size: int = 1000,
        max_retries: int = 3,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        max_retry_after: float = 60.0,
        close_timeout: float = 5.0,
        tags: Iterable[str] = (),
        register_atexit: bool = True,
        batch: bool = True,
    ) -> None:
        super().__init__(
            read_settings(
                base_url,
                api_key,
                service_id,
                timeout=timeout,
                queue_size=queue_size,
                max_retries=max_retries,
                backoff=backoff,
                max_backoff=max_backoff,
                max_retry_after=max_retry_after,
                close_timeout=close_timeout,
                tags=tags,
                register_atexit=register_atexit,
                batch=batch,
            )
        )
        _live_clients.add(self)
        if register_atexit:
            atexit.register(self._close_at_exit)

    def __repr__(self) -> str:
        settings = self._settings
        key = "'<set>'" if settings.has_key else "None"
        return (
            f"IssueTrackerClient(base_url={public_url(settings.base_url)!r}, "
            f"api_key={key}, service_id={settings.service_id!r})"
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
        return self._sender.tally.snapshot()

    @property
    def closed(self) -> bool:
        """True once close() has been called; reports are then dropped."""
        return self._sender.closed

    @property
    def _worker(self) -> threading.Thread | None:
        """The sender thread, if one was started."""
        return self._sender.worker

    # Reporting (caller's thread: never blocks, never raises)

    @never_raises("report_issue")
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
        if self._nameless("report_issue"):
            return False
        body = self._issue_body(
            title=title,
            description=description,
            type=type,
            priority=priority,
            default_priority="medium",
            tags=tags,
            fingerprint=fingerprint,
            reporter_id=self._settings.reporter_id,
        )
        return self._enqueue(Job(to_json(body)))

    @never_raises("report_exception")
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
        if self._nameless("report_exception"):
            return False
        if exc is None:
            exc = sys.exception()
        if exc is None:
            self._sender.tally.drop(
                "no-exception",
                "report_exception() was called with no exception and outside "
                "an except block; nothing to report",
            )
            return False
        body = self._issue_body(
            title=reports.exception_title(exc) if title is None else title,
            description=reports.exception_description(
                exc, context=context, service_id=self._settings.service_id
            ),
            type=type,
            priority=priority,
            default_priority="high",
            tags=tags,
            fingerprint=(
                reports.exception_fingerprint(exc)
                if fingerprint is None
                else fingerprint
            ),
            reporter_id=self._settings.reporter_id,
        )
        return self._enqueue(Job(to_json(body)))

    # Shutdown

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every queued report is sent or given up, at most `timeout`
        seconds (default: close_timeout). True when nothing is left."""
        wait = self._settings.close_timeout if timeout is None else max(0.0, timeout)
        return self._sender.tally.wait_idle(wait)

    def close(self, timeout: float | None = None) -> bool:
        """Stop taking reports, deliver what is queued for at most `timeout`
        seconds (default: close_timeout), then drop the rest and return.

        True when everything queued was dealt with. Runs at interpreter exit
        too (unless register_atexit=False); calling it again is harmless.
        """
        wait = self._settings.close_timeout if timeout is None else max(0.0, timeout)
        deadline = time.monotonic() + wait
        first = self._sender.shut()
        if first and self._settings.register_atexit:
            atexit.unregister(self._close_at_exit)
        done = self.flush(wait)
        left, in_flight = self._sender.stop(deadline)
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
        """In a forked child: the parent's thread, queue and locks are not ours;
        what it learnt (closed, folded ids, no batches) still holds."""
        self._ids.after_fork()
        old = self._sender
        self._sender = Sender(
            self._settings,
            self._transport,
            self._ids,
            batching=old.batching,
            closed=old.closed,
        )


_live_clients: "weakref.WeakSet[IssueTrackerClient]" = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for client in list(_live_clients):
        client._after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
