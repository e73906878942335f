"""What the client remembers of the ids log_issue returned.

log_issue makes an issue's id itself and returns it before anything is sent.
The tracker may fold that report into another issue (same fingerprint) and
answer with that issue's id, or the report may never get through; follow-ups
naming the returned id must then go to the other issue, or be dropped.
"""

import threading
from collections import OrderedDict
from typing import Final, TypeVar

# Ids remembered at most, per map; the oldest are forgotten first.
IDS_MAX: Final = 4096

_V = TypeVar("_V")


def _bounded_set(mapping: OrderedDict[str, _V], key: str, value: _V) -> None:
    """`mapping[key] = value`, forgetting the oldest keys beyond IDS_MAX."""
    mapping[key] = value
    mapping.move_to_end(key)
    while len(mapping) > IDS_MAX:
        mapping.popitem(last=False)


class IssueIds:
    """Folded and lost log_issue ids, and who created each (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # Ids the tracker folded into another issue (sent -> its id) or that
        # were never created (-> None).
        self._ids: OrderedDict[str, str | None] = OrderedDict()
        # Anonymous without a service id: who created each log_issue id.
        self._creators: OrderedDict[str, str] = OrderedDict()

    def remember(self, sent_id: str, real_id: str | None) -> None:
        """Follow-ups of `sent_id` go to `real_id` (None: they are dropped)."""
        with self._lock:
            _bounded_set(self._ids, sent_id, real_id)

    def target(self, issue_id: str) -> str | None:
        """The issue that follow-ups of `issue_id` go to; None: drop them."""
        with self._lock:
            return self._ids.get(issue_id, issue_id)

    def set_creator(self, issue_id: str, creator: str) -> None:
        with self._lock:
            _bounded_set(self._creators, issue_id, creator)

    def creator(self, issue_id: str) -> str | None:
        with self._lock:
            return self._creators.get(issue_id)

    def after_fork(self) -> None:
        """In a forked child: a parent's thread may have held the lock."""
        self._lock = threading.Lock()
