"""Sending queued requests: retries with backoff, batches of creates, folded ids.

Runs in the worker thread only. Each request ends counted in exactly one of
sent, rejected, failed or dropped.
"""

import json
import random
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from issuetracker_client import batching
from issuetracker_client.ids import IssueIds
from issuetracker_client.settings import Settings
from issuetracker_client.tally import Tally
from issuetracker_client.transport import Outcome, Result, Transport, public_url


@dataclass(frozen=True, slots=True)
class Job:
    """One request waiting in the queue."""

    body: bytes
    what: str = "report"  # for the log: report, comment, status update
    method: str = "POST"
    issue_id: str | None = None  # follow-ups: the issue as the caller named it
    suffix: str = ""  # after /api/v1/issues/{id}: "" or "/comments"
    headers: dict[str, str] | None = None
    client_id: str | None = None  # log_issue's creates: the id sent in the body

    @property
    def is_create(self) -> bool:
        return self.issue_id is None and self.method == "POST"


def to_json(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


def describe(outcome: Outcome) -> str:
    """The last attempt's outcome, for the log."""
    if outcome.status is None:
        return outcome.detail or "network error"
    return f"HTTP {outcome.status}" + (f" {outcome.detail}" if outcome.detail else "")


class Delivery:
    """Sends jobs until taken or given up; `stopping` cuts a retry's wait short."""

    def __init__(
        self,
        settings: Settings,
        transport: Transport,
        ids: IssueIds,
        tally: Tally,
        stopping: threading.Event,
        *,
        batching: bool,
    ) -> None:
        self._settings = settings
        self._transport = transport
        self._ids = ids
        self._tally = tally
        self._stopping = stopping
        # Creates waiting together go as one batch, until a tracker without the
        # batch endpoint answers 404 or 405.
        self.batching = batching

    @property
    def _where(self) -> str:
        return public_url(self._settings.base_url)

    def deliver_batch(self, jobs: list[Job]) -> set[int]:
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
                    self.batching = False
                    return self._one_by_one(reports)
                self._tally.count("rejected", len(jobs))
                self._tally.warn_once(
                    f"rejected-batch-{outcome.status}",
                    "The issue tracker at %s refused a batch of reports with %s "
                    "(%s); they are dropped. Logged once per status.",
                    self._where,
                    outcome.status,
                    outcome.detail or "no details",
                )
                return set()
            if retries >= self._settings.max_retries or self._stopping.wait(
                self._delay(retries, outcome)
            ):
                self._tally.count("failed", len(jobs))
                self._tally.warn_once(
                    "failed",
                    "Could not deliver a batch of %d reports to the issue tracker "
                    "at %s (last: %s); it is dropped. Logged once per outage.",
                    len(jobs),
                    self._where,
                    describe(outcome),
                )
                return set()
            retries += 1
            self._tally.count("retried")

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
                    self._tally.count("sent")
                    taken.add(id(job))
                if first.client_id is not None and issue_id not in (
                    None,
                    first.client_id,
                ):
                    self._ids.remember(first.client_id, issue_id)
            elif status is None or status >= 500 or status in (408, 425, 429):
                retry.append(report)
            else:
                self._tally.count("rejected", len(report.jobs))
                self._tally.warn_once(
                    f"rejected-report-{status}",
                    "The issue tracker at %s refused a report with %s (%s); such "
                    "reports are dropped, not retried. Logged once per status.",
                    self._where,
                    status,
                    text or "no details",
                )
        return taken | self._one_by_one(retry)

    def _one_by_one(self, reports: list[batching.Report]) -> set[int]:
        """Send reports singly (a merged one as one report); ids of jobs taken."""
        taken: set[int] = set()
        for report in reports:
            first = report.jobs[0]
            single = Job(to_json(report.body), client_id=first.client_id)
            delivered = self.deliver(single)  # counts one of the report's jobs
            self._tally.count("sent" if delivered else "failed", len(report.jobs) - 1)
            if delivered:
                taken.update(id(job) for job in report.jobs)
        return taken

    def deliver(self, job: Job) -> bool:
        """Send `job` until it is taken or given up; True when it was taken."""
        path = ""
        if job.issue_id is not None:
            target = self._ids.target(job.issue_id)
            if target is None:
                self._tally.drop(
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
                self._tally.count("sent")
                self._tally.rearm("failed", "full")  # a later outage is news again
                if job.client_id is not None and outcome.issue_id not in (
                    None,
                    job.client_id,
                ):
                    # Folded into an issue with the same fingerprint.
                    self._ids.remember(job.client_id, outcome.issue_id)
                return True
            if outcome.result is Result.REJECTED:
                self._tally.count("rejected")
                if job.client_id is not None and outcome.status == 409:
                    self._tally.warn_once(
                        "id-taken",
                        "The issue tracker at %s answered 409 to a report with a "
                        "client-made id (%s): another caller owns that id. The "
                        "report and its follow-ups are dropped. Logged once.",
                        self._where,
                        outcome.detail or "no details",
                    )
                    return False
                self._tally.warn_once(
                    f"rejected-{job.what}-{outcome.status}",
                    "The issue tracker at %s refused a %s with %s (%s); such "
                    "requests are dropped, not retried. Logged once per status.",
                    self._where,
                    job.what,
                    outcome.status,
                    outcome.detail or "no details",
                )
                return False
            if retries >= self._settings.max_retries:
                self._tally.count("failed")
                self._tally.warn_once(
                    "failed",
                    "Could not deliver a %s to the issue tracker at %s in %d "
                    "attempts (last: %s); it is dropped. Logged once per outage.",
                    job.what,
                    self._where,
                    retries + 1,
                    describe(outcome),
                )
                return False
            delay = self._delay(retries, outcome)
            retries += 1
            self._tally.count("retried")
            if self._stopping.wait(delay):
                self._tally.count("dropped")
                return False

    def _delay(self, retries: int, outcome: Outcome) -> float:
        """Retry-After when given (capped), else exponential backoff with jitter."""
        settings = self._settings
        if outcome.retry_after is not None:
            wait = min(outcome.retry_after, settings.max_retry_after)
            return wait + random.uniform(0, 0.1 * wait)  # noqa: S311 - jitter
        ceiling = min(settings.max_backoff, settings.backoff * 2**retries)
        return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter
