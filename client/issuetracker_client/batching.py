"""Creates waiting in the client's queue, sent as one batch.

When more than one create waits, the worker sends them together to
`POST /api/v1/issues/batch` (at most BATCH_MAX), and repeats of one fingerprint
among them (a crash loop) go as one report with an `occurrences` count. Follow-ups
(comments, status updates) are never batched: the worker sends one after the
batch that holds its create, so the order of calls is kept.
"""

import json
from dataclasses import dataclass, field
from typing import Any, Final

BATCH_MAX: Final = 100  # the tracker's limit per batch


@dataclass
class Report:
    """One report of a batch: the body sent and the queued jobs it stands for."""

    body: dict[str, Any]
    jobs: list[Any] = field(default_factory=list)


def mergeable(body: dict[str, Any]) -> bool:
    """Reports that may fold into one: fingerprinted, without a client-made id
    (a log_issue id names one report, which its follow-ups address)."""
    return bool(body.get("fingerprint")) and "id" not in body


def merge_repeats(jobs: list[Any]) -> list[Report]:
    """The reports to send for `jobs` (each with a JSON `body`), in order:
    repeats of one reporter and fingerprint folded into the first, whose
    `occurrences` counts them all."""
    merged: list[Report] = []
    firsts: dict[tuple[str, str], Report] = {}
    for job in jobs:
        body = json.loads(job.body)
        if not mergeable(body):
            merged.append(Report(body, [job]))
            continue
        key = (str(body.get("reporter_id", "")), str(body["fingerprint"]))
        first = firsts.get(key)
        if first is None:
            report = Report(body, [job])
            firsts[key] = report
            merged.append(report)
        else:
            first.body["occurrences"] = int(first.body.get("occurrences", 1)) + int(
                body.get("occurrences", 1)
            )
            first.jobs.append(job)
    return merged


def batch_body(reports: list[Report]) -> bytes:
    """The JSON body of `POST /issues/batch`."""
    return json.dumps(
        {"reports": [report.body for report in reports]}, ensure_ascii=False
    ).encode("utf-8")


def result_of(results: Any, index: int) -> tuple[int | None, str | None, str]:
    """(status, issue id, problem text) of result `index` of a batch's answer."""
    if not isinstance(results, list) or index >= len(results):
        return None, None, "no result"
    result = results[index]
    if not isinstance(result, dict):
        return None, None, "no result"
    status = result.get("status")
    issue_id = result.get("id")
    problem = result.get("problem")
    text = ""
    if isinstance(problem, dict):
        text = str(problem.get("error") or problem.get("detail") or "")[:300]
    return (
        status if isinstance(status, int) else None,
        issue_id if isinstance(issue_id, str) and issue_id else None,
        text,
    )
