"""Merging the parts of one bucket, pure numpy: what reads, dedupe and compaction agree on.

A bucket (one entity's hour in the `track` table, one cell's two minutes in the `cell` table) may hold
several parts, one per write that added points to it. Merged, they are sorted by (entity, time) and hold
each fix once; on equal (entity, time) the part that comes first in key order wins, so every reader and
every compaction picks the same fix.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from storage.track_codec import FloatArray, TrackColumns, block_decode, block_encode, blocks_decode


def parts_merge(blocks: Iterable[TrackColumns]) -> TrackColumns:
    """Parts of one entity's bucket as one time-sorted column set; on equal times the first part wins."""
    parts = list(blocks)
    if len(parts) == 1:
        return parts[0]
    ts = np.concatenate([p.ts for p in parts])
    order = np.argsort(ts, kind="stable")
    ts = ts[order]
    keep = np.concatenate(([True], ts[1:] != ts[:-1]))
    pick = order[keep]

    lengths = [len(p) for p in parts]

    def column(name: str) -> FloatArray | None:
        full = optional_concat([getattr(p, name) for p in parts], lengths)
        return None if full is None else full[pick]

    return TrackColumns(
        ts=ts[keep],
        lat_e7=np.concatenate([p.lat_e7 for p in parts])[pick],
        lon_e7=np.concatenate([p.lon_e7 for p in parts])[pick],
        speed_mps=column("speed_mps"),
        heading_deg=column("heading_deg"),
        accuracy_m=column("accuracy_m"),
    )


def track_parts_fold(values: Sequence[bytes]) -> bytes:
    """Parts of one track bucket as one block."""
    merged = parts_merge([block_decode(v) for v in values])
    return block_encode(
        merged.ts, merged.lat_e7, merged.lon_e7, speed_mps=merged.speed_mps,
        heading_deg=merged.heading_deg, accuracy_m=merged.accuracy_m,
    )  # fmt: skip


def cell_parts_fold(values: Sequence[bytes]) -> bytes:
    """Parts of one cell bucket as one block, runs by entity, each run time-sorted, each fix once."""
    decoded = blocks_decode(values)
    names = pc.dictionary_encode(pa.array(decoded.run_names, type=pa.string()))
    entity = np.repeat(names.indices.to_numpy(), decoded.run_lengths)
    order = np.lexsort((decoded.ts, entity))  # stable: of equal fixes, the first part's comes first
    sorted_entity, sorted_ts = entity[order], decoded.ts[order]
    fresh = (sorted_entity[1:] != sorted_entity[:-1]) | (sorted_ts[1:] != sorted_ts[:-1])
    order = order[np.concatenate(([True], fresh))]
    entity = entity[order]
    starts = np.concatenate(([0], np.flatnonzero(entity[1:] != entity[:-1]) + 1))
    dictionary = names.dictionary.to_pylist()
    run_names = tuple(dictionary[i] for i in entity[starts].tolist())
    run_lengths = np.diff(np.append(starts, entity.size))
    return block_encode(
        decoded.ts[order], decoded.lat_e7[order], decoded.lon_e7[order],
        run_names=run_names, run_lengths=run_lengths, index=True,
    )  # fmt: skip


def columns_slice(columns: TrackColumns, lo: int, hi: int) -> TrackColumns:
    """Rows lo to hi (exclusive) of a column set."""
    return TrackColumns(
        ts=columns.ts[lo:hi], lat_e7=columns.lat_e7[lo:hi], lon_e7=columns.lon_e7[lo:hi],
        speed_mps=_slice(columns.speed_mps, lo, hi), heading_deg=_slice(columns.heading_deg, lo, hi),
        accuracy_m=_slice(columns.accuracy_m, lo, hi),
    )  # fmt: skip


def columns_concat(pieces: Sequence[TrackColumns]) -> TrackColumns:
    """Time-ordered, disjoint pieces as one column set."""
    if len(pieces) == 1:
        return pieces[0]
    if not pieces:
        empty = np.empty(0, dtype=np.int64)
        return TrackColumns(ts=empty, lat_e7=empty.astype(np.int32), lon_e7=empty.astype(np.int32))
    lengths = [len(p) for p in pieces]
    return TrackColumns(
        ts=np.concatenate([p.ts for p in pieces]), lat_e7=np.concatenate([p.lat_e7 for p in pieces]),
        lon_e7=np.concatenate([p.lon_e7 for p in pieces]),
        speed_mps=optional_concat([p.speed_mps for p in pieces], lengths),
        heading_deg=optional_concat([p.heading_deg for p in pieces], lengths),
        accuracy_m=optional_concat([p.accuracy_m for p in pieces], lengths),
    )  # fmt: skip


def optional_concat(values: Sequence[FloatArray | None], lengths: Sequence[int]) -> FloatArray | None:
    """One optional column over several pieces: None if no piece has it, NaN where one lacks it."""
    if all(v is None for v in values):
        return None
    filled = [v if v is not None else np.full(n, np.nan) for v, n in zip(values, lengths, strict=True)]
    return np.concatenate(filled)


def _slice(values: FloatArray | None, lo: int, hi: int) -> FloatArray | None:
    return None if values is None else values[lo:hi]
