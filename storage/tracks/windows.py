"""Reading fixes back: one entity over a window (the `track` table), every entity in a box (the `cell` table).

Rows read (key layout: storage/keys.py):

    track  salt | ds | entity | bucket_start | part       one scan per entity window
    cell   salt | ds | bucket_start | row | col | part    one scan per (cell bucket, grid row) of a box
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from storage import keys
from storage.keys import Layout
from storage.kv.base import SortedKV
from storage.track_codec import (
    FIXED_POINT,
    OPTIONAL_FLAGS,
    BoolArray,
    Int32Array,
    Int64Array,
    TrackColumns,
    block_decode,
    block_header,
    blocks_decode,
)
from storage.tracks.merge import columns_concat, columns_slice, parts_merge
from storage.tracks.types import Box, BoxTracks, EntitySpan, EntityTrack


def entity_window(
    kv: SortedKV, layout: Layout, *, dataset: str, entity: str, start: int, end: int
) -> EntityTrack:
    """One entity's fixes with start <= ts <= end, time-sorted and deduplicated."""
    prefix = keys.entity_prefix(layout, dataset, entity)
    bucket_ms = layout.track_bucket_ms
    first = max(start - start % bucket_ms, 0)
    last = end - end % bucket_ms
    parts = list(kv.scan("track", prefix + keys.U64.pack(first), prefix + keys.U64.pack(last + bucket_ms)))
    if not parts:
        empty = np.empty(0, dtype=np.int64)
        return EntityTrack(entity, empty, empty.astype(np.int32), empty.astype(np.int32))
    prefixes = [key[:-4] for key, _ in parts]
    flags = [block_header(value).flags for _, value in parts]
    if len(set(prefixes)) == len(prefixes) and not any(f & OPTIONAL_FLAGS for f in flags):
        # One part per bucket and no optional columns, the usual case: buckets are disjoint and in
        # time order, so one vectorised decode of them all is already the answer.
        decoded = blocks_decode([value for _, value in parts])
        lo = int(np.searchsorted(decoded.ts, start, side="left"))
        hi = int(np.searchsorted(decoded.ts, end, side="right"))
        return EntityTrack(
            entity=entity,
            ts=decoded.ts[lo:hi],
            lat_e7=decoded.lat_e7[lo:hi],
            lon_e7=decoded.lon_e7[lo:hi],
        )
    # Buckets are disjoint and come in time order, so only a bucket's own parts ever need merging.
    by_bucket: dict[bytes, list[TrackColumns]] = {}
    for key, value in parts:
        by_bucket.setdefault(key[:-4], []).append(block_decode(value))
    pieces = []
    for blocks in by_bucket.values():
        merged = parts_merge(blocks)
        lo = int(np.searchsorted(merged.ts, start, side="left"))
        hi = int(np.searchsorted(merged.ts, end, side="right"))
        if hi > lo:
            pieces.append(columns_slice(merged, lo, hi))
    whole = columns_concat(pieces)
    return EntityTrack(
        entity=entity, ts=whole.ts, lat_e7=whole.lat_e7, lon_e7=whole.lon_e7, speed_mps=whole.speed_mps,
        heading_deg=whole.heading_deg, accuracy_m=whole.accuracy_m,
    )  # fmt: skip


def entity_span(kv: SortedKV, layout: Layout, *, dataset: str, entity: str) -> EntitySpan:
    """First and last fix time and the point count of an entity, from block headers only."""
    prefix = keys.entity_prefix(layout, dataset, entity)
    first: int | None = None
    last: int | None = None
    points = 0
    for _, value in kv.scan_prefix("track", prefix):
        header = block_header(value)
        points += header.n
        first = header.t_first if first is None else min(first, header.t_first)
        last = header.t_last if last is None else max(last, header.t_last)
    return EntitySpan(entity=entity, first_ts=first, last_ts=last, points=points)


def box_window(
    kv: SortedKV,
    layout: Layout,
    *,
    dataset: str,
    box: Box,
    start: int,
    end: int,
    interval_ms: int | None = None,
) -> BoxTracks:
    """Every fix inside `box` with start <= ts <= end; with `interval_ms`, the first fix of each
    entity in each interval."""
    lat_lo, lat_hi = _threshold_e7(box.lat_min, lower=True), _threshold_e7(box.lat_max, lower=False)
    lon_lo, lon_hi = _threshold_e7(box.lon_min, lower=True), _threshold_e7(box.lon_max, lower=False)
    row_lo, row_hi = keys.cell_row(layout, lat_lo), keys.cell_row(layout, lat_hi)
    col_lo, col_hi = keys.cell_col(layout, lon_lo), keys.cell_col(layout, lon_hi)
    cb = layout.cell_bucket_ms
    ranges: list[tuple[bytes, bytes | None]] = []
    edges: list[tuple[bool, bool]] = []
    for bucket in range(start - start % cb, end - end % cb + 1, cb):
        time_inside = bucket >= start and bucket + cb - 1 <= end
        for row in range(row_lo, row_hi + 1):
            prefix = keys.cell_row_prefix(layout, dataset, bucket, row)
            ranges.append((prefix + keys.U32.pack(col_lo), prefix + keys.U32.pack(col_hi + 1)))
            row_inside = row_lo < row < row_hi
            edges.append((time_inside, row_inside))
    inner: list[bytes] = []
    edge: list[bytes] = []
    several_parts = False
    for (time_inside, row_inside), found in zip(edges, kv.scan_many("cell", ranges), strict=True):
        for key, value in found:
            col = keys.U32.unpack_from(key, len(key) - 8)[0]
            (inner if time_inside and row_inside and col_lo < col < col_hi else edge).append(value)
        if len(found) > 1 and not several_parts:
            # A cell's parts are neighbours in key order; two keys with one prefix are one cell's parts.
            cells = [key[:-4] for key, _ in found]
            several_parts = len(set(cells)) < len(cells)
    # Blocks wholly inside the box and window need no test; putting them first leaves one tail to filter.
    decoded = blocks_decode(inner + edge)
    runs = pc.dictionary_encode(pa.array(decoded.run_names, type=pa.string()))
    names = runs.dictionary.to_pylist()
    ent = np.repeat(runs.indices.to_numpy().astype(np.int32), decoded.run_lengths)
    ts, lat, lon = decoded.ts, decoded.lat_e7, decoded.lon_e7
    if edge:
        cut = int(decoded.starts[len(inner)]) if inner else 0
        t, la, lo = ts[cut:], lat[cut:], lon[cut:]
        keep = (t >= start) & (t <= end) & (la >= lat_lo) & (la <= lat_hi) & (lo >= lon_lo) & (lo <= lon_hi)
        if not bool(keep.all()):
            # The inner head is copied whole; only the edge tail is filtered.
            ent, ts, lat, lon = (np.concatenate((a[:cut], a[cut:][keep])) for a in (ent, ts, lat, lon))
    if several_parts:
        # A single writer's parts never repeat a fix (it dedupes against the track table), but two writers
        # of one entity at once, or a re-run of a load that died between its two tables, can leave the same
        # fix in two parts of a cell: keep the first, as a merge of the track table's parts does.
        fresh = ~_repeats(ent, ts)
        ent, ts, lat, lon = ent[fresh], ts[fresh], lat[fresh], lon[fresh]
    result = BoxTracks(
        entities=tuple(names), entity_index=ent, ts=ts, lat_e7=lat, lon_e7=lon,
        blocks_read=len(inner) + len(edge),
    )  # fmt: skip
    # Thinning needs the (entity, time) order.
    if interval_ms is not None:
        if interval_ms <= 0:
            raise ValueError("interval_ms must be positive")
        ordered = result.by_entity()
        slot = ordered.ts // interval_ms
        first = np.concatenate(
            ([True], (ordered.entity_index[1:] != ordered.entity_index[:-1]) | (slot[1:] != slot[:-1]))
        )
        result = BoxTracks(
            entities=ordered.entities, entity_index=ordered.entity_index[first], ts=ordered.ts[first],
            lat_e7=ordered.lat_e7[first], lon_e7=ordered.lon_e7[first], blocks_read=result.blocks_read,
        )  # fmt: skip
    return result


def _repeats(entity: Int32Array, ts: Int64Array) -> BoolArray:
    """Rows whose (entity, ts) an earlier row already has."""
    order = np.lexsort((ts, entity))  # stable: of equal rows, the earliest comes first
    repeated = np.zeros(ts.size, dtype=bool)
    repeated[order[1:]] = (entity[order][1:] == entity[order][:-1]) & (ts[order][1:] == ts[order][:-1])
    return repeated


def _threshold_e7(value: float, *, lower: bool) -> int:
    """The fixed-point bound equivalent to comparing decoded degrees with `value` as doubles.

    lower: the smallest v with v / 1e7 >= value; else the largest v with v / 1e7 <= value.
    """
    guess = int(np.floor(value * FIXED_POINT))
    candidates = range(guess - 2, guess + 3)
    if lower:
        return next(v for v in candidates if v / FIXED_POINT >= value)
    return max(v for v in candidates if v / FIXED_POINT <= value)
