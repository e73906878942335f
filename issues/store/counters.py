"""The issue counters the dashboard reads: sharded, moved with every issue write.

COUNTER_SHARDS documents `stats/issueCounts/shards/{n}` whose
fields, summed over the shards, say how many issues are stored in all (`total`),
by stored status (`byStatus.<status>`) and by stored priority
(`byPriority.<priority>`). Every write of an issue adds its moves to one shard
picked at random, in the same batch or transaction and with `Increment`, so a
burst of creates spreads over the shards (Firestore sustains about one write a
second per document). With INGEST_BUFFER_SECONDS > 0 the moves of new issues are
summed per process and written to one random shard per flush instead
(`buffers`): each process then takes one counter write per interval whatever
its create rate (README, "Counters"). `rebuild_counts` recomputes them from
aggregation counts.
"""

import logging
import random
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any, Final, TypeAlias

from google.cloud import firestore
from google.cloud.firestore_v1.batch import WriteBatch
from google.cloud.firestore_v1.collection import CollectionReference
from google.cloud.firestore_v1.document import DocumentReference
from google.cloud.firestore_v1.transaction import Transaction

from issues.domain import IssueCounts, Priority, Status
from issues.store.documents import PRIORITY, STATUS, MalformedDocument
from issuetracker.firestore import call_options, store_errors

logger = logging.getLogger(__name__)

STATS: Final = "stats"
ISSUE_COUNTS: Final = "issueCounts"
SHARDS: Final = "shards"
COUNTER_SHARDS: Final = 10
COUNT_TOTAL, COUNT_BY_STATUS, COUNT_BY_PRIORITY = "total", "byStatus", "byPriority"

# A counter field's path in a shard: (`total`,) or (`byStatus`, "open"), ...
CounterKey: TypeAlias = tuple[str, ...]

_STATUS_VALUES: Final = frozenset(str(status) for status in Status)
_PRIORITY_VALUES: Final = frozenset(str(priority) for priority in Priority)


def counted_as(data: Mapping[str, Any] | None) -> list[CounterKey]:
    """The counter fields a stored issue document adds one to (none when absent).

    Read from the stored values, as the aggregation queries see them: a missing
    or unknown status or priority counts only in the total.
    """
    if data is None:
        return []
    keys: list[CounterKey] = [(COUNT_TOTAL,)]
    status, priority = data.get(STATUS), data.get(PRIORITY)
    if isinstance(status, str) and status in _STATUS_VALUES:
        keys.append((COUNT_BY_STATUS, status))
    if isinstance(priority, str) and priority in _PRIORITY_VALUES:
        keys.append((COUNT_BY_PRIORITY, priority))
    return keys


def counter_moves(
    before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> dict[CounterKey, int]:
    """What the counters move by when a stored issue goes from `before` to `after`
    (None: no document); empty when neither status, priority nor existence moves."""
    moves: Counter[CounterKey] = Counter(counted_as(after))
    moves.subtract(counted_as(before))
    return {key: n for key, n in moves.items() if n}


def counter_increments(moves: Mapping[CounterKey, int]) -> dict[str, Any]:
    """`moves` as a shard's merge-set of `Increment`s (nested maps for the enums)."""
    document: dict[str, Any] = {}
    for key, n in moves.items():
        *parents, name = key
        target = document
        for parent in parents:
            target = target.setdefault(parent, {})
        target[name] = firestore.Increment(n)
    return document


def counts_from_shards(shards: Sequence[Mapping[str, Any]]) -> IssueCounts:
    """The counters summed over the shards' documents; ValueError when a field is
    not a whole number (an edit in the console: rebuild the counters)."""

    def number(value: Any, name: str) -> int:
        if value is None:
            return 0
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"counter {name} is not a number: {value!r}")
        return value

    def counted(data: Mapping[str, Any], group: str, value: str) -> int:
        values = data.get(group) or {}
        if not isinstance(values, Mapping):
            raise ValueError(f"counter {group} is not a map: {values!r}")
        return number(values.get(value), f"{group}.{value}")

    return IssueCounts(
        total=sum(number(data.get(COUNT_TOTAL), COUNT_TOTAL) for data in shards),
        by_status={
            status: sum(counted(data, COUNT_BY_STATUS, status) for data in shards)
            for status in Status
        },
        by_priority={
            priority: sum(counted(data, COUNT_BY_PRIORITY, priority) for data in shards)
            for priority in Priority
        },
    )


def counts_to_shard(counts: IssueCounts) -> dict[str, Any]:
    """A whole shard document holding `counts` (zeros for an empty shard)."""
    return {
        COUNT_TOTAL: counts.total,
        COUNT_BY_STATUS: {str(s): counts.by_status.get(s, 0) for s in Status},
        COUNT_BY_PRIORITY: {str(p): counts.by_priority.get(p, 0) for p in Priority},
    }


NO_ISSUES: Final = IssueCounts(total=0, by_status={}, by_priority={})


def counter_shards(client: firestore.Client) -> CollectionReference:
    """The collection of the counter shards, `stats/issueCounts/shards`."""
    shards: CollectionReference = (
        client.collection(STATS).document(ISSUE_COUNTS).collection(SHARDS)
    )
    return shards


def random_shard(shards: Any) -> DocumentReference:
    """A counter shard picked at random, so concurrent writes spread out."""
    n = random.randrange(COUNTER_SHARDS)  # noqa: S311 - load spreading only
    shard: DocumentReference = shards.document(str(n))
    return shard


def add_moves(
    writes: WriteBatch | Transaction,
    shard: DocumentReference,
    moves: Mapping[CounterKey, int],
) -> None:
    """Add the counter `moves` to the same batch or transaction as the issue."""
    if moves:
        writes.set(shard, counter_increments(moves), merge=True)


def read_counts(client: firestore.Client, shards: Any) -> IssueCounts:
    """The counters: every shard read in one call and summed."""
    with store_errors("reading the issue counters"):
        snapshots = list(
            client.get_all(
                [shards.document(str(n)) for n in range(COUNTER_SHARDS)],
                **call_options(),
            )
        )
    try:
        return counts_from_shards(
            [snapshot.to_dict() or {} for snapshot in snapshots if snapshot.exists]
        )
    except ValueError as error:
        logger.error("Issue counters cannot be read: %s", error)
        raise MalformedDocument(
            "The issue counters are unreadable; run manage.py backfill_issues "
            "--counters-only to rebuild them."
        ) from error


def with_moves(counts: IssueCounts, moves: Mapping[CounterKey, int]) -> IssueCounts:
    """`counts` plus counter `moves` not yet written (this process's buffer)."""
    if not moves:
        return counts
    by_status = {status: counts.by_status.get(status, 0) for status in Status}
    by_priority = {p: counts.by_priority.get(p, 0) for p in Priority}
    for key, n in moves.items():
        if key == (COUNT_TOTAL,):
            continue
        group, value = key
        if group == COUNT_BY_STATUS and value in _STATUS_VALUES:
            by_status[Status(value)] += n
        elif group == COUNT_BY_PRIORITY and value in _PRIORITY_VALUES:
            by_priority[Priority(value)] += n
    return IssueCounts(
        total=counts.total + moves.get((COUNT_TOTAL,), 0),
        by_status=by_status,
        by_priority=by_priority,
    )
