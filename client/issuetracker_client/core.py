"""What every call shares: the client's parts, and building a request without
ever raising into the caller.

A call builds its request in the caller's thread (the traceback is at hand
there), puts it in the queue without waiting and returns. `never_raises` turns
any error of its own into a dropped call, counted and logged once.
"""

import functools
from collections.abc import Callable, Iterable
from typing import Any, Concatenate, ParamSpec, TypeVar

from issuetracker_client import reports
from issuetracker_client.delivery import Job
from issuetracker_client.ids import IssueIds
from issuetracker_client.sender import Sender
from issuetracker_client.settings import KEY_VARIABLE, SERVICE_VARIABLE, Settings
from issuetracker_client.transport import Transport

_P = ParamSpec("_P")
_C = TypeVar("_C", bound="ClientCore")


def never_raises(
    where: str,
) -> Callable[
    [Callable[Concatenate[_C, _P], bool]], Callable[Concatenate[_C, _P], bool]
]:
    """Make a call return False instead of raising: an argument the tracker
    would refuse drops it (logged once per call), so does a bug of ours (logged
    once per call, with the traceback)."""

    def decorate(
        call: Callable[Concatenate[_C, _P], bool],
    ) -> Callable[Concatenate[_C, _P], bool]:
        @functools.wraps(call)
        def guarded(self: _C, /, *args: _P.args, **kwargs: _P.kwargs) -> bool:
            try:
                return call(self, *args, **kwargs)
            except reports.BadArgument as error:
                self._sender.tally.drop_bad_argument(where, error)
            except Exception:  # noqa: BLE001 - a report must never break its caller
                self._sender.tally.drop_unbuildable(where)
            return False

        return guarded

    return decorate


class ClientCore:
    """Settings, transport, the folded-id map and the sender, with the helpers
    the calls share. The public face is IssueTrackerClient."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._transport = Transport(
            url=settings.issues_url, headers=settings.headers, timeout=settings.timeout
        )
        self._ids = IssueIds()
        self._sender = Sender(
            settings, self._transport, self._ids, batching=settings.batch
        )

    def _enqueue(self, job: Job) -> bool:
        return self._sender.enqueue(job)

    def _issue_body(
        self,
        *,
        title: object,
        description: object,
        type: object,
        priority: object,
        default_priority: str,
        tags: Iterable[str],
        fingerprint: object,
        reporter_id: str | None,
    ) -> dict[str, Any]:
        """The body of a create, the client's tags added, an unknown type or
        priority replaced by its default (logged once)."""
        return reports.issue_body(
            title=title,
            description=description,
            issue_type=self._choice("type", type, reports.ISSUE_TYPES, "bug"),
            priority=self._choice(
                "priority", priority, reports.PRIORITIES, default_priority
            ),
            tags=self._with_default_tags(tags),
            fingerprint=fingerprint,
            reporter_id=reporter_id,
        )

    def _nameless(self, where: str) -> bool:
        """True (and the call dropped) when nothing names the caller: no key,
        no service id, no reporter or author given."""
        if self._settings.has_key or self._settings.service_id:
            return False
        self._sender.tally.drop(
            f"nameless-{where}",
            "%s: without an API key the tracker needs the caller's name: set "
            f"{KEY_VARIABLE} or {SERVICE_VARIABLE}, or give reporter_id. Dropped; "
            "logged once.",
            where,
        )
        return True

    def _with_default_tags(self, tags: Iterable[str]) -> list[object]:
        given = [tags] if isinstance(tags, str) else list(tags)
        return [*self._settings.tags, *given]

    def _choice(
        self, field: str, value: object, allowed: tuple[str, ...], default: str
    ) -> str:
        chosen = reports.choice_of(value, allowed, default)
        if chosen is None:
            self._sender.tally.warn_once(
                f"bad-{field}",
                "Unknown issue %s %r (use one of %s); sent as %r. Logged once.",
                field,
                value,
                ", ".join(allowed),
                default,
            )
            return default
        return chosen
