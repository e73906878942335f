"""Occurrences per UTC hour, kept on the issue for the triage queue's sparkline.

An issue's `hourlyOccurrences` maps an hour ("2026-12-01T13") to how many
reports it absorbed in that hour. Writers (the creation, the unbuffered fold and
the buffer's flush, never one write per report) add to it and drop hours older
than KEPT_HOURS, so the map stays small; readers take the last SPARK_HOURS.
Pure: no Django, no Google.
"""

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Final

# Kept on the document: a day for the sparkline and a day of slack.
KEPT_HOURS: Final = 48
SPARK_HOURS: Final = 24

Hours = tuple[tuple[str, int], ...]


def hour_key(moment: datetime) -> str:
    """The UTC hour of `moment` as stored: "2026-12-01T13"."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H")


def merged(
    hours: Iterable[tuple[str, int]] | Mapping[str, int],
    added: Mapping[str, int],
    *,
    now: datetime,
) -> dict[str, int]:
    """`hours` plus `added`, without hours older than KEPT_HOURS before `now`."""
    items = hours.items() if isinstance(hours, Mapping) else hours
    oldest = hour_key(now - timedelta(hours=KEPT_HOURS - 1))
    total: dict[str, int] = {}
    for key, count in [*items, *added.items()]:
        if key >= oldest and count > 0:
            total[key] = total.get(key, 0) + count
    return dict(sorted(total.items()))


def as_hours(value: object) -> Hours:
    """A stored map read back as sorted (hour, count) pairs; junk is skipped."""
    if not isinstance(value, Mapping):
        return ()
    return tuple(
        sorted(
            (key, count)
            for key, count in value.items()
            if isinstance(key, str) and isinstance(count, int) and count > 0
        )
    )


def last_hours(hours: Hours, *, now: datetime, span: int = SPARK_HOURS) -> list[int]:
    """Occurrences in each of the `span` hours ending with `now`'s, oldest first."""
    found = dict(hours)
    return [
        found.get(hour_key(now - timedelta(hours=span - 1 - n)), 0) for n in range(span)
    ]
