"""The client: calls only queue; one daemon thread delivers, retries and gives up.

The calling service must never wait for, or fail because of, the tracker. So
`report_*`, `log_issue`, `add_comment` and `update_issue_status` build the request
in the caller's thread (the traceback is at hand there), put it in a bounded queue
without waiting, and return; they swallow every error of their own. A worker
thread sends the queue's requests one at a time, in call order, so a comment
never reaches the tracker before the issue it follows.
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
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from types import TracebackType
from typing import Any, Final, Self
from urllib.parse import quote, urlsplit

from issuetracker_client import batching, reports
from issuetracker_client._version import __version__
from issuetracker_client.transport import Outcome, Result, Transport, public_url

logger = logging.getLogger("issuetracker_client")

_SERVICE_ID_MAX = 100  # the tracker's limit on `reporter_id`
_COUNTERS = ("sent", "rejected", "failed", "dropped", "retried")
# Issue ids remembered by log_issue: folded into another issue, or never created.
_IDS_MAX = 4096

DEFAULT_URL: Final = "http://issuetracker:6001"
URL_VARIABLE: Final = "ISSUETRACKER_URL"
KEY_VARIABLE: Final = "ISSUETRACKER_API_KEY"
SERVICE_VARIABLE: Final = "ISSUETRACKER_SERVICE_ID"


class _FromEnv(Enum):
    """The default of `api_key` and `service_id`: read the environment."""

    READ = "from the environment"

    def __repr__(self) -> str:
        return "<from the environment>"


FROM_ENV: Final = _FromEnv.READ


def _env(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


@dataclass(frozen=True, slots=True)
class _Job:
    """One request waiting in the queue."""

    body: bytes
    what: str = "report"  # for the log: report, comment, status update
    method: str = "POST"
    issue_id: str | None = None  # follow-ups: the issue as the caller named it
    suffix: str = ""  # after /api/v1/issues/{id}: "" or "/comments"
    headers: dict[str, str] | None = None
    client_id: str | None = None  # log_issue's creates: the id sent in the body


@dataclass(frozen=True, slots=True)
class ClientStats:
    """Counts since the client started.

    Every report ends in exactly one of `sent`, `rejected`, `failed` or
    `dropped`, or is still `queued`; `retried` counts extra attempts.
    """

    queued: int  # waiting or being sent
    sent: int  # the tracker took it (2xx): issue created or folded, comment, update
    rejected: int  # the tracker refused it with a 4xx other than 408/425/429
    failed: int  # still undelivered after max_retries (down, slow, 429, 5xx)
    dropped: int  # never sent: queue full, client closed, cut off by close(), bad
    # arguments, or a follow-up of an issue whose create did not get through
    retried: int  # attempts after the first one


class IssueTrackerClient:
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
        if base_url is None:
            base_url = _env(URL_VARIABLE) or DEFAULT_URL
        if isinstance(api_key, _FromEnv):
            api_key = _env(KEY_VARIABLE)
        if isinstance(service_id, _FromEnv):
            service_id = _env(SERVICE_VARIABLE)
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                f"base_url ({URL_VARIABLE}) must be the tracker's http(s) URL, "
                "such as https://issues.quantory.app"
            )
        if api_key is not None and (
            not api_key
            or not api_key.isascii()
            or not api_key.isprintable()
            or any(char.isspace() for char in api_key)
        ):
            raise ValueError(
                f"api_key ({KEY_VARIABLE}) is empty or holds spaces or control "
                "characters"
            )
        if service_id is not None:
            service_id = service_id.strip()
            if not 1 <= len(service_id) <= _SERVICE_ID_MAX:
                raise ValueError(
                    f"service_id ({SERVICE_VARIABLE}) must be 1-{_SERVICE_ID_MAX} "
                    "characters"
                )
        # Neither key nor service id: only log_issue(reporter_id=...) and its
        # follow-ups can name the caller, as with the old client.
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
        # Creates waiting together go as one batch, until a tracker without the
        # batch endpoint answers 404 or 405.
        self._batching = batch
        # log_issue's ids that the tracker folded into another issue (sent ->
        # its id) or that were never created (-> None); oldest forgotten first.
        self._ids: OrderedDict[str, str | None] = OrderedDict()
        # Anonymous without a service id: who created each log_issue id.
        self._creators: OrderedDict[str, str] = OrderedDict()
        self._start()
        _live_clients.add(self)
        self._atexit = register_atexit
        if register_atexit:
            atexit.register(self._close_at_exit)

    def _start(self) -> None:
        """Fresh queue, lock, counters and no worker (at start and after a fork)."""
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._queue: queue.Queue[_Job | None] = queue.Queue(maxsize=self._queue_size)
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
            if self._nameless("report_issue"):
                return False
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
            return self._enqueue(_Job(_json(body)))
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
            if self._nameless("report_exception"):
                return False
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
            return self._enqueue(_Job(_json(body)))
        except Exception:  # noqa: BLE001 - a report must never break its caller
            self._drop_unbuildable("report_exception")
            return False

    # The old client's interface (alphafusion.utils.issue_tracker_client)

    def log_issue(
        self,
        title: str,
        description: str,
        type: str = "bug",  # the API's field name
        priority: str = "medium",
        reporter_id: str | None = None,
        assignee_id: str | None = None,
        tags: Iterable[str] | None = None,
        component: str | None = None,
        fingerprint: str | None = None,
    ) -> str:
        """Queue an issue and return its id at once, without waiting.

        The client makes the id (24 characters of `[A-Za-z0-9_-]`) and sends it
        in the body, so a retry after a lost answer is a replay, not a second
        issue. Name it in add_comment and update_issue_status: they follow the
        create in the same queue, and reach the issue the tracker folded the
        report into when it answered with another id (same fingerprint). The
        reporter is `reporter_id`, else the service id (ignored by the tracker
        for a caller with a key). An id is returned even when the issue is
        dropped (queue full, bad arguments...); its follow-ups are dropped too.
        """
        issue_id = reports.new_issue_id()
        try:
            reporter = reports.actor_id_of(reporter_id, "reporter_id")
            reporter = reporter or self._service_id
            if reporter is None and self._nameless("log_issue"):
                self._remember(issue_id, None)
                return issue_id
            body = reports.issue_body(
                title=title,
                description=description,
                issue_type=self._choice("type", type, reports.ISSUE_TYPES, "bug"),
                priority=self._choice(
                    "priority", priority, reports.PRIORITIES, "medium"
                ),
                tags=self._with_default_tags(() if tags is None else tags),
                fingerprint=fingerprint,
                reporter_id=reporter,
            )
            extra = {
                "assignee_id": reports.actor_id_of(assignee_id, "assignee_id"),
                "component": reports.line_of(component, reports.COMPONENT_MAX),
                "id": issue_id,
            }
            body.update((key, value) for key, value in extra.items() if value)
            if reporter is not None and not self._has_key and not self._service_id:
                with self._lock:
                    _bounded_set(self._creators, issue_id, reporter)
            if not self._enqueue(_Job(_json(body), client_id=issue_id)):
                self._remember(issue_id, None)
        except reports.BadArgument as error:
            self._drop_bad_argument("log_issue", error)
            self._remember(issue_id, None)
        except Exception:  # noqa: BLE001 - a report must never break its caller
            self._drop_unbuildable("log_issue")
            self._remember(issue_id, None)
        return issue_id

    def add_comment(
        self, issue_id: str, content: str, author_id: str | None = None
    ) -> bool:
        """Queue a comment on `issue_id`, behind whatever was queued before it.

        `author_id` (else the service id) names the author when the client has
        no key; with a key, the key's service is the author. The content is
        fitted to 5,000 characters. False when dropped (blank content, an
        invalid id, queue full, client closed); never raises.
        """
        try:
            target = reports.issue_id_of(issue_id)
            body = {"content": reports.comment_of(content)}
            author = reports.actor_id_of(author_id, "author_id")
            user = self._service_id or author or self._creator(target)
            if user is None and self._nameless("add_comment"):
                return False
            if author or user:
                body["author_id"] = author or str(user)
            return self._enqueue(self._follow_up(target, "comment", body, user))
        except reports.BadArgument as error:
            self._drop_bad_argument("add_comment", error)
            return False
        except Exception:  # noqa: BLE001 - a report must never break its caller
            self._drop_unbuildable("add_comment")
            return False

    def update_issue_status(
        self, issue_id: str, status: str, resolution: str | None = None
    ) -> bool:
        """Queue a status change of `issue_id`, behind whatever was queued before.

        `status` is one of open, in-progress (or in_progress), resolved,
        closed; `resolution` (fixed, duplicate, wont-fix, cannot-reproduce) is
        sent only when given. Without a key the
        service id (else the issue's reporter from log_issue) is sent as
        `X-User-Id`. False when dropped; never raises.
        """
        try:
            target = reports.issue_id_of(issue_id)
            body = {"status": reports.status_of(status)}
            chosen = reports.resolution_of(resolution)
            if chosen is not None:
                body["resolution"] = chosen
            user = self._service_id or self._creator(target)
            if user is None and self._nameless("update_issue_status"):
                return False
            return self._enqueue(self._follow_up(target, "status update", body, user))
        except reports.BadArgument as error:
            self._drop_bad_argument("update_issue_status", error)
            return False
        except Exception:  # noqa: BLE001 - a report must never break its caller
            self._drop_unbuildable("update_issue_status")
            return False

    def _follow_up(
        self, issue_id: str, what: str, body: dict[str, Any], user: str | None
    ) -> _Job:
        return _Job(
            _json(body),
            what=what,
            method="POST" if what == "comment" else "PATCH",
            issue_id=issue_id,
            suffix="/comments" if what == "comment" else "",
            headers={"X-User-Id": user} if user and not self._has_key else None,
        )

    def _nameless(self, where: str) -> bool:
        """True (and the call dropped) when nothing names the caller: no key,
        no service id, no reporter or author given."""
        if self._has_key or self._service_id:
            return False
        self._drop(
            f"nameless-{where}",
            "%s: without an API key the tracker needs the caller's name: set "
            f"{KEY_VARIABLE} or {SERVICE_VARIABLE}, or give reporter_id. Dropped; "
            "logged once.",
            where,
        )
        return True

    def _creator(self, issue_id: str) -> str | None:
        with self._lock:
            return self._creators.get(issue_id)

    def _remember(self, sent_id: str, real_id: str | None) -> None:
        """Follow-ups of `sent_id` go to `real_id` (None: they are dropped)."""
        with self._lock:
            _bounded_set(self._ids, sent_id, real_id)

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

    def _enqueue(self, job: _Job) -> bool:
        with self._lock:
            if self._closed:
                reason = "closed"
            else:
                self._start_worker()  # first: it may fail (interpreter shutdown)
                try:
                    self._queue.put_nowait(job)
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

    def _drop_bad_argument(self, where: str, error: reports.BadArgument) -> None:
        self._drop(
            f"bad-argument-{where}",
            "%s: %s; the call is dropped. Logged once.",
            where,
            error,
        )

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
        held: list[_Job | None] = []  # taken from the queue behind a batch
        while True:
            job = held.pop() if held else self._queue.get()
            if job is None:
                return
            jobs = [job]
            if _is_create(job) and self._batching:
                held.extend(self._gather(jobs))
            sent: set[int] = set()
            try:
                if self._stopping.is_set():
                    for _ in jobs:
                        self._count("dropped")
                elif len(jobs) == 1:
                    if self._deliver(job):
                        sent.add(id(job))
                else:
                    sent = self._deliver_batch(jobs)
            except Exception as error:  # noqa: BLE001 - the worker must outlive bugs
                for _ in range(len(jobs) - len(sent)):
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
                for each in jobs:
                    if each.client_id is not None and id(each) not in sent:
                        self._remember(each.client_id, None)  # follow-ups: dropped
                with self._lock:
                    self._pending -= len(jobs)
                    if self._pending <= 0:
                        self._idle.notify_all()

    def _gather(self, jobs: list[_Job]) -> list[_Job | None]:
        """Add the creates waiting right behind `jobs[0]` to `jobs` (at most
        BATCH_MAX); what was taken after them, a follow-up or the stop marker,
        is returned to be handled next, so the order of calls is kept."""
        while len(jobs) < batching.BATCH_MAX:
            try:
                waiting = self._queue.get_nowait()
            except queue.Empty:
                return []
            if waiting is None or not _is_create(waiting):
                return [waiting]
            jobs.append(waiting)
        return []

    def _deliver_batch(self, jobs: list[_Job]) -> set[int]:
        """Send creates as one batch (repeats of a fingerprint merged); the ids
        (`id()`) of the jobs the tracker took."""
        reports = batching.merge_repeats(jobs)
        body = batching.batch_body(reports)
        retries = 0
        while True:
            outcome = self._transport.send(body, path="/batch")
            if outcome.result is Result.SENT:
                return self._batch_taken(reports, outcome.results)
            if outcome.result is Result.REJECTED:
                if outcome.status in (404, 405):  # a tracker without batches
                    self._batching = False
                    return self._one_by_one(reports)
                for _ in jobs:
                    self._count("rejected")
                self._warn_once(
                    f"rejected-batch-{outcome.status}",
                    "The issue tracker at %s refused a batch of reports with %s "
                    "(%s); they are dropped. Logged once per status.",
                    public_url(self._base_url),
                    outcome.status,
                    outcome.detail or "no details",
                )
                return set()
            if retries >= self._max_retries or self._stopping.wait(
                self._delay(retries, outcome)
            ):
                for _ in jobs:
                    self._count("failed")
                self._warn_once(
                    "failed",
                    "Could not deliver a batch of %d reports to the issue tracker "
                    "at %s (last: %s); it is dropped. Logged once per outage.",
                    len(jobs),
                    public_url(self._base_url),
                    _describe(outcome),
                )
                return set()
            retries += 1
            self._count("retried")

    def _batch_taken(self, reports: list[batching.Report], results: Any) -> set[int]:
        """Count a batch's answer report by report; retry alone what the tracker
        could not store then (5xx, 429 for one report)."""
        taken: set[int] = set()
        retry: list[batching.Report] = []
        for index, report in enumerate(reports):
            status, issue_id, text = batching.result_of(results, index)
            first = report.jobs[0]
            if status is not None and 200 <= status < 300:
                for job in report.jobs:
                    self._count("sent")
                    taken.add(id(job))
                if first.client_id is not None and issue_id not in (
                    None,
                    first.client_id,
                ):
                    self._remember(first.client_id, issue_id)
            elif status is None or status >= 500 or status in (408, 425, 429):
                retry.append(report)
            else:
                for _ in report.jobs:
                    self._count("rejected")
                self._warn_once(
                    f"rejected-report-{status}",
                    "The issue tracker at %s refused a report with %s (%s); such "
                    "reports are dropped, not retried. Logged once per status.",
                    public_url(self._base_url),
                    status,
                    text or "no details",
                )
        return taken | self._one_by_one(retry)

    def _one_by_one(self, reports: list[batching.Report]) -> set[int]:
        """Send reports singly (a merged one as one report); ids of jobs taken."""
        taken: set[int] = set()
        for report in reports:
            first = report.jobs[0]
            single = _Job(_json(report.body), client_id=first.client_id)
            delivered = self._deliver(single)  # counts one of the report's jobs
            for _ in report.jobs[1:]:
                self._count("sent" if delivered else "failed")
            if delivered:
                taken.update(id(job) for job in report.jobs)
        return taken

    def _deliver(self, job: _Job) -> bool:
        """Send `job` until it is taken or given up; True when it was taken."""
        path = ""
        if job.issue_id is not None:
            with self._lock:
                target = self._ids.get(job.issue_id, job.issue_id)
            if target is None:
                self._drop(
                    "orphan",
                    "A %s names an issue whose report did not reach the tracker; "
                    "it is dropped too. Logged once.",
                    job.what,
                )
                return False
            path = f"/{quote(target, safe='')}{job.suffix}"
        retries = 0
        while True:
            outcome = self._transport.send(
                job.body, method=job.method, path=path, headers=job.headers
            )
            if outcome.result is Result.SENT:
                self._count("sent")
                with self._lock:  # a later outage or overflow is news again
                    self._warned.difference_update(("failed", "full"))
                if job.client_id is not None and outcome.issue_id not in (
                    None,
                    job.client_id,
                ):
                    # Folded into an issue with the same fingerprint.
                    self._remember(job.client_id, outcome.issue_id)
                return True
            if outcome.result is Result.REJECTED:
                self._count("rejected")
                if job.client_id is not None and outcome.status == 409:
                    self._warn_once(
                        "id-taken",
                        "The issue tracker at %s answered 409 to a report with a "
                        "client-made id (%s): another caller owns that id. The "
                        "report and its follow-ups are dropped. Logged once.",
                        public_url(self._base_url),
                        outcome.detail or "no details",
                    )
                    return False
                self._warn_once(
                    f"rejected-{job.what}-{outcome.status}",
                    "The issue tracker at %s refused a %s with %s (%s); such "
                    "requests are dropped, not retried. Logged once per status.",
                    public_url(self._base_url),
                    job.what,
                    outcome.status,
                    outcome.detail or "no details",
                )
                return False
            if retries >= self._max_retries:
                self._count("failed")
                self._warn_once(
                    "failed",
                    "Could not deliver a %s to the issue tracker at %s in %d "
                    "attempts (last: %s); it is dropped. Logged once per outage.",
                    job.what,
                    public_url(self._base_url),
                    retries + 1,
                    _describe(outcome),
                )
                return False
            delay = self._delay(retries, outcome)
            retries += 1
            self._count("retried")
            if self._stopping.wait(delay):
                self._count("dropped")
                return False

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
                job = self._queue.get_nowait()
            except queue.Empty:
                break
            if job is not None:
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


def _is_create(job: _Job) -> bool:
    return job.issue_id is None and job.method == "POST"


def _json(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


def _bounded_set(mapping: "OrderedDict[str, Any]", key: str, value: Any) -> None:
    """`mapping[key] = value`, forgetting the oldest keys beyond _IDS_MAX."""
    mapping[key] = value
    mapping.move_to_end(key)
    while len(mapping) > _IDS_MAX:
        mapping.popitem(last=False)


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
