"""Writing GPS fixes: dedupe inside the batch and against the store, then encode both indexes.

Rows written (key layout: storage/keys.py):

    track  salt | ds | entity | bucket_start | part               one block per entity and track bucket
    cell   salt | ds | bucket_start | row | col | part           one index block per space cell and bucket

Identity is (dataset, entity, ts): the same key with the same position is a duplicate (dropped, counted),
with another position a conflict (the first stays; the row is reported for quarantine). A write never
rewrites a stored block: new fixes for a bucket that holds data become another part beside it, keyed by
the block's checksum, so writing the same fixes again lands on the same key.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from storage import keys
from storage.keys import Layout
from storage.kv.base import SortedKV, prefix_end
from storage.track_codec import (
    BoolArray,
    FloatArray,
    Int32Array,
    Int64Array,
    block_decode,
    blocks_encode,
    degrees_to_e7,
)
from storage.tracks.merge import parts_merge
from storage.tracks.types import PointBatch, PointWriteResult

TS_BASE = 946_684_800_000  # 2000-01-01, the earliest plausible time
PARALLEL_ENCODE_POINTS = 200_000
OPTIONAL_COLUMNS = ("speed_mps", "heading_deg", "accuracy_m")

Rows = list[tuple[bytes, bytes]]


@dataclass(frozen=True)
class PointsWritten:
    """What `points_write` reported and the rows it wrote, by table (for compaction to revisit)."""

    result: PointWriteResult
    rows: dict[str, Rows]


def points_write(kv: SortedKV, layout: Layout, *, dataset: str, batch: PointBatch) -> PointsWritten:
    """Store the new fixes of a batch in the cell and track tables; count duplicates, report conflicts."""
    n = len(batch)
    empty = np.empty(0, dtype=np.int64)
    if n == 0:
        result = PointWriteResult(stored=0, duplicates=0, conflict_rows=empty, stored_rows=empty)
        return PointsWritten(result=result, rows={})
    keys.dataset_prefix(dataset)
    codes = batch.entity_codes.astype(np.int64)
    ts = batch.ts.astype(np.int64)
    lat = degrees_to_e7(batch.lat)
    lon = degrees_to_e7(batch.lon)
    order = entity_time_order(codes, ts)
    codes, ts, lat, lon = codes[order], ts[order], lat[order], lon[order]

    keep, batch_duplicates, batch_conflicts = _batch_repeats(codes, ts, lat, lon)
    buckets = ts - ts % layout.track_bucket_ms
    # codes are sorted here, so their distinct values are where they change (no sort needed).
    distinct = codes[np.concatenate(([True], codes[1:] != codes[:-1]))].tolist()
    prefixes = {c: keys.entity_prefix(layout, dataset, batch.entity_names[c]) for c in distinct}
    stored_duplicates, stored_conflicts = _stored_repeats(kv, prefixes, codes, ts, buckets, lat, lon, keep)

    new = np.flatnonzero(keep)
    rows: dict[str, Rows] = {}
    if new.size:
        optional = {name: _optional_column(batch, name, order, new) for name in OPTIONAL_COLUMNS}
        cell_args = (layout, dataset, batch.entity_names, codes[new], ts[new], lat[new], lon[new])
        track_args = (prefixes, codes[new], ts[new], buckets[new], lat[new], lon[new], optional)
        if new.size >= PARALLEL_ENCODE_POINTS:
            # numpy and zstd release the GIL, so the two indexes encode side by side on two cores.
            with ThreadPoolExecutor(max_workers=1) as pool:
                cells = pool.submit(cell_rows, *cell_args)
                rows["track"] = track_rows(*track_args)
                rows["cell"] = cells.result()
        else:
            rows["cell"], rows["track"] = cell_rows(*cell_args), track_rows(*track_args)
        # The cell index first: if the track write never happens, a re-run rewrites the same cell parts.
        for table in ("cell", "track"):
            kv.put_many(table, rows[table])
    conflicts = np.sort(order[batch_conflicts | stored_conflicts])
    result = PointWriteResult(
        stored=int(new.size),
        duplicates=int(batch_duplicates.sum() + stored_duplicates.sum()),
        conflict_rows=conflicts.astype(np.int64),
        stored_rows=np.sort(order[new]).astype(np.int64),
    )
    return PointsWritten(result=result, rows=rows)


def entity_time_order(codes: Int64Array, ts: Int64Array) -> Int64Array:
    """A stable (entity, ts) order; free when the input is already sorted, as logs usually are."""
    if int(codes.max()) < 1 << 22 and int(ts.min()) >= TS_BASE and int(ts.max()) - TS_BASE < 1 << 41:
        composite = (codes << 41) | (ts - TS_BASE)
        if bool(np.all(composite[1:] >= composite[:-1])):
            return np.arange(codes.size, dtype=np.int64)
        return np.argsort(composite, kind="stable").astype(np.int64)
    return np.lexsort((ts, codes)).astype(np.int64)


def _batch_repeats(
    codes: Int64Array, ts: Int64Array, lat: Int32Array, lon: Int32Array
) -> tuple[BoolArray, BoolArray, BoolArray]:
    """(rows to keep, duplicates, conflicts) of (entity, ts)-sorted rows: the first of equal keys stays."""
    n = codes.size
    repeated = np.concatenate(([False], (codes[1:] == codes[:-1]) & (ts[1:] == ts[:-1])))
    conflicts = np.zeros(n, dtype=bool)
    duplicates = np.zeros(n, dtype=bool)
    if bool(repeated.any()):
        first_of = np.maximum.accumulate(np.where(repeated, 0, np.arange(n)))
        moved = (lat != lat[first_of]) | (lon != lon[first_of])
        conflicts = repeated & moved
        duplicates = repeated & ~moved
    return ~repeated, duplicates, conflicts


def _stored_repeats(
    kv: SortedKV,
    prefixes: dict[int, bytes],
    codes: Int64Array,
    ts: Int64Array,
    buckets: Int64Array,
    lat: Int32Array,
    lon: Int32Array,
    keep: BoolArray,
) -> tuple[BoolArray, BoolArray]:
    """(duplicates, conflicts) of the kept rows against stored fixes; clears `keep` where one is stored.

    One range scan per (entity, bucket) the batch touches, all in one `scan_many`.
    """
    n = codes.size
    kept = np.flatnonzero(keep)
    group_change = (
        np.flatnonzero((codes[kept][1:] != codes[kept][:-1]) | (buckets[kept][1:] != buckets[kept][:-1])) + 1
    )
    group_starts = np.concatenate(([0], group_change))
    group_ends = np.concatenate((group_change, [kept.size]))
    ranges: list[tuple[bytes, bytes | None]] = []
    for gs in group_starts:
        row = kept[gs]
        start = prefixes[int(codes[row])] + keys.U64.pack(int(buckets[row]))
        ranges.append((start, prefix_end(start)))
    duplicates = np.zeros(n, dtype=bool)
    conflicts = np.zeros(n, dtype=bool)
    for g, parts in enumerate(kv.scan_many("track", ranges)):
        if not parts:
            continue
        rows = kept[group_starts[g] : group_ends[g]]
        old = parts_merge([block_decode(value) for _, value in parts])
        at = np.clip(np.searchsorted(old.ts, ts[rows]), 0, len(old) - 1)
        hit = old.ts[at] == ts[rows]
        same_pos = hit & (old.lat_e7[at] == lat[rows]) & (old.lon_e7[at] == lon[rows])
        duplicates[rows[same_pos]] = True
        conflicts[rows[hit & ~same_pos]] = True
        keep[rows[hit]] = False
    return duplicates, conflicts


def _optional_column(batch: PointBatch, name: str, order: Int64Array, new: Int64Array) -> FloatArray | None:
    values: FloatArray | None = getattr(batch, name)
    return None if values is None else values[order][new]


def track_rows(
    prefixes: dict[int, bytes],
    codes: Int64Array,
    ts: Int64Array,
    buckets: Int64Array,
    lat: Int32Array,
    lon: Int32Array,
    optional: dict[str, FloatArray | None],
) -> Rows:
    """The track-table rows for new fixes in (entity, ts) order: one block per entity and bucket."""
    change = np.flatnonzero((codes[1:] != codes[:-1]) | (buckets[1:] != buckets[:-1])) + 1
    bounds = np.concatenate(([0], change, [codes.size]))
    blocks = blocks_encode(
        ts, lat, lon, bounds, speed_mps=optional["speed_mps"], heading_deg=optional["heading_deg"],
        accuracy_m=optional["accuracy_m"],
    )  # fmt: skip
    return [
        (keys.track_key(prefixes[int(codes[a])], int(buckets[a]), zlib.crc32(block)), block)
        for a, block in zip(bounds[:-1].tolist(), blocks, strict=True)
    ]


def cell_rows(
    layout: Layout,
    dataset: str,
    names: Sequence[str],
    codes: Int64Array,
    ts: Int64Array,
    lat: Int32Array,
    lon: Int32Array,
) -> Rows:
    """The cell-table rows for new fixes in (entity, ts) order: one index block per space cell and bucket."""
    rows = keys.cell_row(layout, lat)
    cols = keys.cell_col(layout, lon)
    buckets = ts - ts % layout.cell_bucket_ms
    bucket_index = (buckets - buckets.min()) // layout.cell_bucket_ms
    n_rows = int(rows.max() - rows.min()) + 1
    n_cols = int(cols.max() - cols.min()) + 1
    dense = (bucket_index * n_rows + (rows - rows.min())) * n_cols + (cols - cols.min())
    # Rows arrive in (entity, ts) order; a stable sort by cell keeps that order inside each cell.
    order = np.argsort(dense, kind="stable")
    dense, codes, ts, lat, lon = dense[order], codes[order], ts[order], lat[order], lon[order]
    rows, cols, buckets = rows[order], cols[order], buckets[order]
    change = np.flatnonzero(dense[1:] != dense[:-1]) + 1
    bounds = np.concatenate(([0], change, [dense.size]))
    run_starts = np.concatenate(
        ([0], np.flatnonzero((codes[1:] != codes[:-1]) | (dense[1:] != dense[:-1])) + 1)
    )
    run_names = [names[c] for c in codes[run_starts].tolist()]
    blocks = blocks_encode(ts, lat, lon, bounds, runs=(run_starts, run_names), index=True)
    items: Rows = []
    row_prefixes: dict[tuple[int, int], bytes] = {}
    firsts = bounds[:-1]
    for bucket, row, col, block in zip(
        buckets[firsts].tolist(), rows[firsts].tolist(), cols[firsts].tolist(), blocks, strict=True
    ):
        prefix = row_prefixes.get((bucket, row))
        if prefix is None:
            prefix = row_prefixes[(bucket, row)] = keys.cell_row_prefix(layout, dataset, bucket, row)
        items.append((keys.cell_key(prefix, col, zlib.crc32(block)), block))
    return items
