"""Per-dataset counts of stored points and events.

meta  b"dataset:" + name  ->  JSON {"points": n, "events": n}
"""

from __future__ import annotations

import threading

import orjson

from storage.kv.base import SortedKV
from storage.tracks.types import DatasetCounts

DATASET_META = b"dataset:"

_lock = threading.Lock()


def counters_add(kv: SortedKV, dataset: str, *, points: int = 0, events: int = 0) -> None:
    """Add to a dataset's counts."""
    key = DATASET_META + dataset.encode()
    with _lock:
        raw = kv.get("meta", key)
        counts = orjson.loads(raw) if raw else {"points": 0, "events": 0}
        counts["points"] += points
        counts["events"] += events
        kv.put_many("meta", [(key, orjson.dumps(counts))])


def datasets_read(kv: SortedKV) -> list[DatasetCounts]:
    """Every dataset written to the store, by name."""
    out = []
    for key, value in kv.scan_prefix("meta", DATASET_META):
        counts = orjson.loads(value)
        out.append(
            DatasetCounts(
                name=key[len(DATASET_META) :].decode(), points=counts["points"], events=counts["events"]
            )
        )
    return out
