"""A logging handler that reports ERROR and CRITICAL records as issues."""

import hashlib
import logging
import re
import threading
from collections.abc import Iterable

from issuetracker_client import reports
from issuetracker_client.client import IssueTrackerClient

# Parts of a message template that vary between occurrences of one problem.
_VARYING = re.compile(
    r"\b[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}\b|\d+(?:\.\d+)?"
)


class IssueTrackerHandler(logging.Handler):
    """Report log records of `level` (default ERROR) and above through `client`.

    A record with an exception (`logger.exception(...)`, `exc_info=True`) is
    reported like `report_exception`: fingerprint from the exception's type and
    traceback, the log message as title and context. Other records are titled
    by their message and fingerprinted by logger, function and message template
    (numbers and UUIDs left out). CRITICAL records get priority `critical`,
    others `high`. Records of the client's own logger are never reported.
    """

    def __init__(
        self,
        client: IssueTrackerClient,
        level: int = logging.ERROR,
        *,
        tags: Iterable[str] = (),
        issue_type: str = "bug",
    ) -> None:
        super().__init__(level)
        self.client = client
        self.tags = tuple(reports.tags_of(tags))
        self.issue_type = issue_type
        self._busy = threading.local()

    def emit(self, record: logging.LogRecord) -> None:
        """Queue the record as an issue; never blocks, never raises."""
        if record.name == "issuetracker_client" or record.name.startswith(
            "issuetracker_client."
        ):
            return
        if getattr(self._busy, "active", False):  # a record logged while reporting
            return
        self._busy.active = True
        try:
            self._report(record)
        except Exception:  # noqa: BLE001 - logging's own way to fail quietly
            self.handleError(record)
        finally:
            self._busy.active = False

    def _report(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        priority = "critical" if record.levelno >= logging.CRITICAL else "high"
        place = f"{record.pathname}:{record.lineno} in {record.funcName}"
        context = (
            f"Logged by `{record.name}` at {record.levelname} ({place}):\n\n{message}"
        )
        first_line = message.strip().splitlines()[0] if message.strip() else ""
        exc = record.exc_info[1] if record.exc_info else None
        if exc is not None:
            self.client.report_exception(
                exc,
                title=first_line or None,
                context=context,
                type=self.issue_type,
                priority=priority,
                tags=self.tags,
            )
            return
        if record.stack_info:
            context += f"\n\n```text\n{record.stack_info}\n```"
        template = _VARYING.sub("#", str(record.msg))
        key = "\n".join((record.name, record.module, record.funcName or "", template))
        self.client.report_issue(
            first_line or f"{record.levelname} in {record.name}",
            context,
            type=self.issue_type,
            priority=priority,
            tags=self.tags,
            fingerprint="log:" + hashlib.sha256(key.encode()).hexdigest(),
        )
