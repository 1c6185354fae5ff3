"""The layout record: what every process of one store must agree on, with the version of the layout.

    meta  b"layout"  ->  JSON {"version": 2, "salts": 16, "track_bucket_ms": …, "cell_bucket_ms": …,
                               "cell_e7": …}

It is the one place the salt count is recorded. Opening a store reads it: a new store gets one, a store
of an older version is migrated step by step (each step ends by recording the version it reached), and a
newer version than this code knows is refused. Every step can be repeated, and run by two processes at
once: it puts only values derived from the old rows (which nothing writes any more), never touches what
current writers write, and deletes an old row only once what replaces it is written.

Versions:
    1  counts as JSON under b"dataset:" + name; on HBase the salt count again, as ASCII, under
       b"layout:salts" (tables created by `hbase_create_tables` and never written hold only that row)
    2  counts as atomic i64 counters (storage/tracks/counters.py); the salt count only in this record
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import orjson

from storage.keys import LAYOUT_KEY, Layout
from storage.kv.base import SortedKV, TrackStoreError
from storage.tracks.counters import counters_carry

LAYOUT_VERSION = 2
V1_SALTS_KEY = b"layout:salts"
V1_COUNTS_PREFIX = b"dataset:"


def layout_record(layout: Layout) -> bytes:
    """The bytes of the layout record of the current version."""
    return orjson.dumps({"version": LAYOUT_VERSION, **dataclasses.asdict(layout)})


def layout_open(kv: SortedKV, wanted: Layout | None) -> Layout:
    """The store's recorded layout, after migrating an older one; a new store records `wanted` (or the
    default).

    Raises TrackStoreError when the store's version is newer than this code's, or `wanted` differs from
    the recorded layout.
    """
    raw = kv.get("meta", LAYOUT_KEY)
    if raw is None and kv.get("meta", V1_SALTS_KEY) is None:
        layout = wanted or Layout()
        kv.put_many("meta", [(LAYOUT_KEY, layout_record(layout))])
        return layout
    record = _record_read(kv, raw)
    version = record.pop("version", 1)
    if not isinstance(version, int) or version < 1:
        raise TrackStoreError(f"the track store at {kv.location} records layout version {version!r}")
    if version > LAYOUT_VERSION:
        raise TrackStoreError(
            f"the track store at {kv.location} has layout version {version}, newer than version "
            f"{LAYOUT_VERSION} that this Dispatchscope reads; upgrade Dispatchscope, or point TRACK_STORE "
            "at another store"
        )
    while version < LAYOUT_VERSION:
        record = MIGRATIONS[version](kv, record)
        version += 1
    layout = _layout(kv, record)
    if wanted is not None and wanted != layout:
        raise TrackStoreError(_mismatch(kv, layout, wanted))
    return layout


def _record_read(kv: SortedKV, raw: bytes | None) -> dict[str, Any]:
    if raw is None:
        salts = kv.get("meta", V1_SALTS_KEY)
        return {"version": 1, "salts": _v1_salts(kv, salts or b"")}
    try:
        record = orjson.loads(raw)
    except orjson.JSONDecodeError:
        record = None
    if not isinstance(record, dict):
        raise TrackStoreError(f"the layout record of the track store at {kv.location} is not a JSON object")
    return record


def _layout(kv: SortedKV, record: dict[str, Any]) -> Layout:
    try:
        return Layout(**record)
    except (TypeError, ValueError) as exc:
        raise TrackStoreError(
            f"the layout record of the track store at {kv.location} is unusable: {exc}"
        ) from None


def _mismatch(kv: SortedKV, layout: Layout, wanted: Layout) -> str:
    if dataclasses.replace(wanted, salts=layout.salts) == layout:
        return (
            f"the track store at {kv.location} was created with salts={layout.salts} but TRACK_STORE says "
            f"salts={wanted.salts}; set salts={layout.salts} in TRACK_STORE (keys written with another salt "
            "count would not be found)"
        )
    return (
        f"the track store at {kv.location} was created with {layout} but {wanted} was asked for; "
        "check TRACK_STORE or use a new store"
    )


def _v1_salts(kv: SortedKV, raw: bytes) -> int:
    try:
        return int(raw.decode())
    except (UnicodeDecodeError, ValueError):
        raise TrackStoreError(
            f"the track store at {kv.location} records the salt count {raw!r}, which is not a number"
        ) from None


def _migrate_1_to_2(kv: SortedKV, record: dict[str, Any]) -> dict[str, Any]:
    """Counts become atomic counters; the salt count is kept in the layout record only."""
    salts = kv.get("meta", V1_SALTS_KEY)
    if salts is not None and _v1_salts(kv, salts) != record.get("salts"):
        raise TrackStoreError(
            f"the track store at {kv.location} records two salt counts ({record.get('salts')} in its layout, "
            f"{salts.decode(errors='replace')} in {V1_SALTS_KEY.decode()}); it cannot be migrated"
        )
    layout = _layout(kv, record)
    if kv.get("meta", LAYOUT_KEY) is None:
        # The salts row is about to go: record the layout first, in version 1's form.
        kv.put_many("meta", [(LAYOUT_KEY, orjson.dumps(dataclasses.asdict(layout)))])
    rows = list(kv.scan_prefix("meta", V1_COUNTS_PREFIX))
    counters_carry(kv, {key[len(V1_COUNTS_PREFIX) :].decode(): orjson.loads(value) for key, value in rows})
    kv.delete_many("meta", [key for key, _ in rows] + ([V1_SALTS_KEY] if salts is not None else []))
    kv.put_many("meta", [(LAYOUT_KEY, orjson.dumps({"version": 2, **dataclasses.asdict(layout)}))])
    return record


#: Migration from each older version to the next.
MIGRATIONS: dict[int, Callable[[SortedKV, dict[str, Any]], dict[str, Any]]] = {1: _migrate_1_to_2}
