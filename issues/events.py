"""The hook point after an issue write commits: what notifications will use.

Each write service publishes one `IssueEvent` after its repository call returns,
so after Firestore committed the change and never inside a function Firestore may
run again in a transaction. A refused or failed write publishes nothing. With no
handler registered, `publish` does nothing.
"""

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

logger = logging.getLogger(__name__)


class EventKind(StrEnum):
    """What was committed."""

    REPORTED = "reported"  # a new issue
    OCCURRED = "occurred"  # a repeat report absorbed by an existing issue
    UPDATED = "updated"
    DELETED = "deleted"
    COMMENTED = "commented"


@dataclass(frozen=True)
class IssueEvent:
    """One committed change to an issue, with who made it."""

    kind: EventKind
    issue_id: str
    actor_id: str
    changes: Mapping[str, tuple[Any, Any]] = field(default_factory=dict)
    comment_id: str | None = None
    # The outbox document written in the same commit (`issues.store.outbox`);
    # None for occurrences and deletes, which write none.
    id: str | None = None


Handler = Callable[[IssueEvent], None]

_handlers: list[Handler] = []


def on_committed(handler: Handler) -> Handler:
    """Call `handler` with every event published from now on (usable as a
    decorator); registering the same handler twice calls it once."""
    if handler not in _handlers:
        _handlers.append(handler)
    return handler


def disconnect(handler: Handler) -> None:
    """Stop calling `handler` (tests; a handler never registered is ignored)."""
    if handler in _handlers:
        _handlers.remove(handler)


def publish(event: IssueEvent) -> None:
    """Call every registered handler with `event`, in registration order.

    The change is already committed, so a failing handler is logged and the
    others still run: the caller's write succeeded whatever a handler does.
    """
    for handler in list(_handlers):
        try:
            handler(event)
        except Exception:
            logger.exception("Handler %r failed on %s", handler, event)
