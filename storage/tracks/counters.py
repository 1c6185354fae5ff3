"""Per-dataset counts of stored points and events, as atomic counters.

    meta  b"count:" dataset b":" counter          i64 big-endian, added to with SortedKV.increment
          b"count:" dataset b":" counter b":v1"    i64 big-endian, the count a version-1 store held

A count is the sum of the two. Increments are atomic on every backend, so writers in any number of
processes never lose one; what a count means when writers overlap is in docs/storage.md.
"""

from __future__ import annotations

from collections.abc import Mapping

from storage import keys
from storage.kv.base import COUNTER, SortedKV, counter_value
from storage.tracks.types import DatasetCounts

COUNTERS = ("points", "events")
CARRIED_SUFFIX = b":v1"


def counters_add(kv: SortedKV, dataset: str, *, points: int = 0, events: int = 0) -> None:
    """Add to a dataset's counts (one atomic increment per counter that changes)."""
    for counter, amount in (("points", points), ("events", events)):
        if amount:
            kv.increment("meta", keys.counter_key(dataset, counter), amount)


def counters_carry(kv: SortedKV, counts: Mapping[str, Mapping[str, int]]) -> None:
    """Record counts carried over from an older layout, per dataset (a put: repeating it changes nothing)."""
    rows = [
        (keys.counter_key(dataset, counter) + CARRIED_SUFFIX, COUNTER.pack(int(values.get(counter, 0))))
        for dataset, values in counts.items()
        for counter in COUNTERS
    ]
    kv.put_many("meta", rows)


def datasets_read(kv: SortedKV) -> list[DatasetCounts]:
    """Every dataset written to the store, by name."""
    totals: dict[str, dict[str, int]] = {}
    for key, value in kv.scan_prefix("meta", keys.COUNTER_PREFIX):
        dataset, counter = key[len(keys.COUNTER_PREFIX) :].decode().split(":")[:2]
        counts = totals.setdefault(dataset, dict.fromkeys(COUNTERS, 0))
        if counter in counts:
            counts[counter] += counter_value(value)
    return [
        DatasetCounts(name=name, points=counts["points"], events=counts["events"])
        for name, counts in sorted(totals.items())
    ]
