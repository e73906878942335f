"""The old client's calls (alphafusion.utils.issue_tracker_client), on the same queue.

log_issue returns an id it made itself; add_comment and update_issue_status
name it and follow the create in the queue. Where the tracker folded the
report into another issue, or the report never got through, IssueIds tells
the worker where the follow-ups go, or that they are dropped.
"""

from collections.abc import Iterable
from typing import Any

from issuetracker_client import reports
from issuetracker_client.core import ClientCore, never_raises
from issuetracker_client.delivery import Job, to_json


class OldCalls(ClientCore):
    """log_issue, add_comment and update_issue_status."""

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
        queued = self._queue_issue(
            issue_id,
            title,
            description,
            type,
            priority,
            reporter_id,
            assignee_id,
            tags,
            component,
            fingerprint,
        )
        if not queued:
            self._ids.remember(issue_id, None)  # its follow-ups are dropped
        return issue_id

    @never_raises("log_issue")
    def _queue_issue(
        self,
        issue_id: str,
        title: str,
        description: str,
        type: str,
        priority: str,
        reporter_id: str | None,
        assignee_id: str | None,
        tags: Iterable[str] | None,
        component: str | None,
        fingerprint: str | None,
    ) -> bool:
        reporter = reports.actor_id_of(reporter_id, "reporter_id")
        reporter = reporter or self._settings.service_id
        if reporter is None and self._nameless("log_issue"):
            return False
        body = self._issue_body(
            title=title,
            description=description,
            type=type,
            priority=priority,
            default_priority="medium",
            tags=() if tags is None else tags,
            fingerprint=fingerprint,
            reporter_id=reporter,
        )
        extra = {
            "assignee_id": reports.actor_id_of(assignee_id, "assignee_id"),
            "component": reports.line_of(component, reports.COMPONENT_MAX),
            "id": issue_id,
        }
        body.update((key, value) for key, value in extra.items() if value)
        if (
            reporter is not None
            and not self._settings.has_key
            and not self._settings.service_id
        ):
            self._ids.set_creator(issue_id, reporter)
        return self._enqueue(Job(to_json(body), client_id=issue_id))

    @never_raises("add_comment")
    def add_comment(
        self, issue_id: str, content: str, author_id: str | None = None
    ) -> bool:
        """Queue a comment on `issue_id`, behind whatever was queued before it.

        `author_id` (else the service id) names the author when the client has
        no key; with a key, the key's service is the author. The content is
        fitted to 5,000 characters. False when dropped (blank content, an
        invalid id, queue full, client closed); never raises.
        """
        target = reports.issue_id_of(issue_id)
        body = {"content": reports.comment_of(content)}
        author = reports.actor_id_of(author_id, "author_id")
        user = self._settings.service_id or author or self._ids.creator(target)
        if user is None and self._nameless("add_comment"):
            return False
        if author or user:
            body["author_id"] = author or str(user)
        return self._enqueue(self._follow_up(target, "comment", body, user))

    @never_raises("update_issue_status")
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
        target = reports.issue_id_of(issue_id)
        body = {"status": reports.status_of(status)}
        chosen = reports.resolution_of(resolution)
        if chosen is not None:
            body["resolution"] = chosen
        user = self._settings.service_id or self._ids.creator(target)
        if user is None and self._nameless("update_issue_status"):
            return False
        return self._enqueue(self._follow_up(target, "status update", body, user))

    def _follow_up(
        self, issue_id: str, what: str, body: dict[str, Any], user: str | None
    ) -> Job:
        return Job(
            to_json(body),
            what=what,
            method="POST" if what == "comment" else "PATCH",
            issue_id=issue_id,
            suffix="/comments" if what == "comment" else "",
            headers={"X-User-Id": user}
            if user and not self._settings.has_key
            else None,
        )
