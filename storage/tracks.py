"""Track operations on top of a sorted key-value backend: the same code runs on LMDB and on HBase.

Writes dedupe against what is stored (identity is dataset, entity, ts), add late data as new parts of a
bucket, and index every fix twice: by entity (the `track` table) and by space cell (the `cell` table).
Reads merge a bucket's parts, so late data and duplicates never show. Key layout: storage/keys.py.
"""

from __future__ import annotations

import struct
import threading
import zlib
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import zstandard

from storage import keys
from storage.keys import Layout
from storage.kv.base import SortedKV, TrackStoreError, prefix_end
from storage.records import (
    EventWriteResult,
    FloatArray,
    Int32Array,
    Int64Array,
    PointBatch,
    PointWriteResult,
    StoredEvent,
)
from storage.track_codec import (
    FIXED_POINT,
    OPTIONAL_FLAGS,
    TrackColumns,
    block_decode,
    block_encode,
    block_header,
    blocks_decode,
    blocks_encode,
    degrees_to_e7,
    e7_to_degrees,
)

LAYOUT_KEY = b"layout"
DATASET_META = b"dataset:"
CITY_META = b"city:"
TS_BASE = 946_684_800_000  # 2000-01-01, the earliest plausible time
LAT_OFFSET_E7 = 900_000_000
LON_OFFSET_E7 = 1_800_000_000
EVENT_PLAIN = b"J"
EVENT_ZSTD = b"Z"
ROUND_MARKER = b"R"
COMPRESS_OVER = 512
PARALLEL_ENCODE_POINTS = 200_000
DIGEST = struct.Struct(">II")

_zstd_compress = zstandard.ZstdCompressor(level=1)
_zstd_decompress = zstandard.ZstdDecompressor()


@dataclass(frozen=True)
class EntityTrack:
    """One entity's fixes over a window, time-sorted, without duplicates; positions in 1e-7 degree."""

    entity: str
    ts: Int64Array
    lat_e7: Int32Array
    lon_e7: Int32Array
    speed_mps: FloatArray | None = None
    heading_deg: FloatArray | None = None
    accuracy_m: FloatArray | None = None

    def __len__(self) -> int:
        return int(self.ts.shape[0])

    @property
    def lat(self) -> FloatArray:
        """Latitudes in degrees."""
        return e7_to_degrees(self.lat_e7)

    @property
    def lon(self) -> FloatArray:
        """Longitudes in degrees."""
        return e7_to_degrees(self.lon_e7)


@dataclass(frozen=True)
class BoxTracks:
    """Every fix inside a box and window: `entity_index[i]` indexes `entities`.

    Rows come grouped by space cell and time bucket, each entity's rows time-sorted inside a cell;
    `by_entity()` gives the (entity, ts) order when a caller needs it.
    """

    entities: tuple[str, ...]
    entity_index: Int32Array
    ts: Int64Array
    lat_e7: Int32Array
    lon_e7: Int32Array
    blocks_read: int = 0

    def __len__(self) -> int:
        return int(self.ts.shape[0])

    def by_entity(self) -> BoxTracks:
        """The same fixes ordered by entity, then time."""
        order = np.lexsort((self.ts, self.entity_index))
        return BoxTracks(
            entities=self.entities, entity_index=self.entity_index[order], ts=self.ts[order],
            lat_e7=self.lat_e7[order], lon_e7=self.lon_e7[order], blocks_read=self.blocks_read,
        )  # fmt: skip


@dataclass(frozen=True)
class Box:
    """A lat/lon box in degrees, edges included (like SQL BETWEEN)."""

    lat_min: float
    lon_min: float
    lat_max: float
    lon_max: float

    def __post_init__(self) -> None:
        if not (-90 <= self.lat_min <= self.lat_max <= 90 and -180 <= self.lon_min <= self.lon_max <= 180):
            raise ValueError(f"not a valid box: {self}")


@dataclass(frozen=True)
class EntitySpan:
    """How much track one entity has, read from block headers alone."""

    entity: str
    first_ts: int | None
    last_ts: int | None
    points: int


@dataclass(frozen=True)
class JobLink:
    """A marker that an entity touched a job: offered in a round, assigned, excluded, or named by an event."""

    ts: int
    job: str
    role: int


@dataclass(frozen=True)
class DatasetCounts:
    """What one dataset holds in the track store."""

    name: str
    points: int
    events: int


def _threshold_e7(value: float, *, lower: bool) -> int:
    """The fixed-point bound equivalent to comparing decoded degrees with `value` as doubles.

    lower: the smallest v with v / 1e7 >= value; else the largest v with v / 1e7 <= value.
    """
    guess = int(np.floor(value * FIXED_POINT))
    candidates = range(guess - 2, guess + 3)
    if lower:
        return next(v for v in candidates if v / FIXED_POINT >= value)
    return max(v for v in candidates if v / FIXED_POINT <= value)


def _event_value(body: dict[str, Any]) -> tuple[bytes, bytes]:
    """The stored bytes of an event and the digest that decides duplicate versus conflict."""
    canonical = orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
    # Not a security boundary, only duplicate-versus-conflict for one id: two fast 32-bit checksums.
    digest = DIGEST.pack(zlib.crc32(canonical), zlib.adler32(canonical))
    if len(canonical) > COMPRESS_OVER:
        return EVENT_ZSTD + _zstd_compress.compress(canonical), digest
    return EVENT_PLAIN + canonical, digest


def _event_body(value: bytes) -> dict[str, Any]:
    kind, payload = value[:1], value[1:]
    if kind == EVENT_ZSTD:
        payload = _zstd_decompress.decompress(payload)
    elif kind != EVENT_PLAIN:
        raise TrackStoreError(f"unknown stored event encoding {kind!r}")
    body: dict[str, Any] = orjson.loads(payload)
    return body


def _as_event(body: dict[str, Any]) -> StoredEvent:
    return StoredEvent(id=str(body["id"]), type=str(body["type"]), ts=int(body["ts"]), body=body)


class TrackStore:
    """Tracks, events and their indexes over one SortedKV backend."""

    def __init__(self, kv: SortedKV, *, layout: Layout | None = None) -> None:
        self.kv = kv
        self.layout = self._layout_settle(layout)
        self._meta_lock = threading.Lock()
        # (table, key prefix before the part) of every block written since the last compaction.
        self._touched: set[tuple[str, bytes]] = set()
        self._touched_lock = threading.Lock()

    @property
    def engine(self) -> str:
        """The backend's engine name."""
        return self.kv.engine

    def close(self) -> None:
        """Release the backend's handles."""
        self.kv.close()

    def _layout_settle(self, wanted: Layout | None) -> Layout:
        stored = self.kv.get("meta", LAYOUT_KEY)
        if stored is not None:
            layout = Layout(**orjson.loads(stored))
            if wanted is not None and wanted != layout:
                raise TrackStoreError(
                    f"the track store was created with {layout} but {wanted} was asked for; "
                    "check TRACK_STORE (salts) or use a new store"
                )
            return layout
        layout = wanted or Layout()
        self.kv.put_many("meta", [(LAYOUT_KEY, orjson.dumps(layout.__dict__))])
        return layout

    # ---- writes ---------------------------------------------------------------------------------

    def points_write(self, *, dataset: str, batch: PointBatch) -> PointWriteResult:
        """Store the new fixes of a batch; count duplicates and report conflicting rows (first stays)."""
        n = len(batch)
        empty = np.empty(0, dtype=np.int64)
        if n == 0:
            return PointWriteResult(stored=0, duplicates=0, conflict_rows=empty, stored_rows=empty)
        keys.dataset_prefix(dataset)
        codes = batch.entity_codes.astype(np.int64)
        ts = batch.ts.astype(np.int64)
        lat = degrees_to_e7(batch.lat)
        lon = degrees_to_e7(batch.lon)
        order = self._entity_time_order(codes, ts)
        codes, ts, lat, lon = codes[order], ts[order], lat[order], lon[order]

        # Duplicates inside the batch: equal (entity, ts) rows after a stable sort; the first stays.
        repeated = np.concatenate(([False], (codes[1:] == codes[:-1]) & (ts[1:] == ts[:-1])))
        batch_conflicts = np.zeros(n, dtype=bool)
        batch_duplicates = np.zeros(n, dtype=bool)
        if bool(repeated.any()):
            first_of = np.maximum.accumulate(np.where(repeated, 0, np.arange(n)))
            moved = (lat != lat[first_of]) | (lon != lon[first_of])
            batch_conflicts = repeated & moved
            batch_duplicates = repeated & ~moved
        keep = ~repeated

        # Against the store: one range scan per (entity, bucket) the batch touches.
        bucket_ms = self.layout.track_bucket_ms
        buckets = ts - ts % bucket_ms
        kept = np.flatnonzero(keep)
        group_change = (
            np.flatnonzero((codes[kept][1:] != codes[kept][:-1]) | (buckets[kept][1:] != buckets[kept][:-1]))
            + 1
        )
        group_starts = np.concatenate(([0], group_change))
        group_ends = np.concatenate((group_change, [kept.size]))
        # codes are sorted here, so their distinct values are where they change (no sort needed).
        distinct = codes[np.concatenate(([True], codes[1:] != codes[:-1]))].tolist()
        prefixes = {c: keys.entity_prefix(self.layout, dataset, batch.entity_names[c]) for c in distinct}
        ranges: list[tuple[bytes, bytes | None]] = []
        for gs in group_starts:
            row = kept[gs]
            start = prefixes[int(codes[row])] + keys.U64.pack(int(buckets[row]))
            ranges.append((start, prefix_end(start)))
        existing = self.kv.scan_many("track", ranges)
        stored_conflicts = np.zeros(n, dtype=bool)
        stored_duplicates = np.zeros(n, dtype=bool)
        for g, parts in enumerate(existing):
            if not parts:
                continue
            rows = kept[group_starts[g] : group_ends[g]]
            old = _merge([block_decode(value) for _, value in parts])
            at = np.clip(np.searchsorted(old.ts, ts[rows]), 0, len(old) - 1)
            hit = old.ts[at] == ts[rows]
            same_pos = hit & (old.lat_e7[at] == lat[rows]) & (old.lon_e7[at] == lon[rows])
            stored_duplicates[rows[same_pos]] = True
            stored_conflicts[rows[hit & ~same_pos]] = True
            keep[rows[hit]] = False

        new = np.flatnonzero(keep)
        optional = {
            name: (getattr(batch, name)[order] if getattr(batch, name) is not None else None)
            for name in ("speed_mps", "heading_deg", "accuracy_m")
        }
        if new.size:
            chosen = {k: (v[new] if v is not None else None) for k, v in optional.items()}
            cell_args = (dataset, batch.entity_names, codes[new], ts[new], lat[new], lon[new])
            track_args = (prefixes, codes[new], ts[new], buckets[new], lat[new], lon[new], chosen)
            if new.size >= PARALLEL_ENCODE_POINTS:
                # numpy and zstd release the GIL, so the two indexes encode side by side on two cores.
                with ThreadPoolExecutor(max_workers=1) as pool:
                    cells = pool.submit(self._cell_items, *cell_args)
                    track_items = self._track_items(*track_args)
                    cell_items = cells.result()
            else:
                cell_items, track_items = self._cell_items(*cell_args), self._track_items(*track_args)
            # The cell index first: if the track write never happens, a re-run rewrites the same cell parts.
            for table, items in (("cell", cell_items), ("track", track_items)):
                self.kv.put_many(table, items)
                self._touch(table, items)
            self._counters_add(dataset, points=int(new.size))
        conflicts = np.sort(order[batch_conflicts | stored_conflicts])
        return PointWriteResult(
            stored=int(new.size),
            duplicates=int(batch_duplicates.sum() + stored_duplicates.sum()),
            conflict_rows=conflicts.astype(np.int64),
            stored_rows=np.sort(order[new]).astype(np.int64),
        )

    @staticmethod
    def _entity_time_order(codes: Int64Array, ts: Int64Array) -> Int64Array:
        """A stable (entity, ts) order; free when the input is already sorted, as logs usually are."""
        if int(codes.max()) < 1 << 22 and int(ts.min()) >= TS_BASE and int(ts.max()) - TS_BASE < 1 << 41:
            composite = (codes << 41) | (ts - TS_BASE)
            if bool(np.all(composite[1:] >= composite[:-1])):
                return np.arange(codes.size, dtype=np.int64)
            return np.argsort(composite, kind="stable").astype(np.int64)
        return np.lexsort((ts, codes)).astype(np.int64)

    def _track_items(
        self,
        prefixes: dict[int, bytes],
        codes: Int64Array,
        ts: Int64Array,
        buckets: Int64Array,
        lat: Int32Array,
        lon: Int32Array,
        optional: dict[str, FloatArray | None],
    ) -> list[tuple[bytes, bytes]]:
        """The track-table rows for new fixes: one block per entity and bucket."""
        change = np.flatnonzero((codes[1:] != codes[:-1]) | (buckets[1:] != buckets[:-1])) + 1
        bounds = np.concatenate(([0], change, [codes.size]))
        blocks = blocks_encode(
            ts, lat, lon, bounds, speed_mps=optional["speed_mps"], heading_deg=optional["heading_deg"],
            accuracy_m=optional["accuracy_m"],
        )  # fmt: skip
        items = [
            (keys.track_key(prefixes[int(codes[a])], int(buckets[a]), zlib.crc32(block)), block)
            for a, block in zip(bounds[:-1].tolist(), blocks, strict=True)
        ]
        return items

    def _cell_items(
        self,
        dataset: str,
        names: Sequence[str],
        codes: Int64Array,
        ts: Int64Array,
        lat: Int32Array,
        lon: Int32Array,
    ) -> list[tuple[bytes, bytes]]:
        """The cell-table rows for new fixes: one index block per space cell and bucket."""
        layout = self.layout
        rows = (lat.astype(np.int64) + LAT_OFFSET_E7) // layout.cell_e7
        cols = (lon.astype(np.int64) + LON_OFFSET_E7) // layout.cell_e7
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
        items: list[tuple[bytes, bytes]] = []
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

    def events_write(self, *, dataset: str, events: Sequence[StoredEvent]) -> EventWriteResult:
        """Store new events and index them; same id + same body is a duplicate, another body a conflict."""
        layout = self.layout
        encoded = [_event_value(event.body) for event in events]
        id_keys = [keys.id_key(layout, dataset, event.id) for event in events]
        stored_digests = self.kv.get_many("event", id_keys)
        seen: dict[bytes, bytes] = {}
        duplicates = 0
        conflicts: list[int] = []
        new_rows: list[int] = []
        digest_items: list[tuple[bytes, bytes]] = []
        job_items: list[tuple[bytes, bytes]] = []
        round_items: list[tuple[bytes, bytes]] = []
        marker_items: list[tuple[bytes, bytes]] = []
        for i, event in enumerate(events):
            value, digest = encoded[i]
            known = seen.get(id_keys[i], stored_digests[i])
            if known is not None:
                if known == digest:
                    duplicates += 1
                else:
                    conflicts.append(i)
                continue
            seen[id_keys[i]] = digest
            new_rows.append(i)
            digest_items.append((id_keys[i], digest))
            self._event_index(dataset, event, value, job_items, round_items, marker_items)
        # Index rows first and the digests last: a crash in between leaves events a re-run stores again.
        self.kv.put_many("round", round_items)
        self.kv.put_many("job", job_items)
        self.kv.put_many("entity_job", marker_items)
        self.kv.put_many("event", digest_items)
        if new_rows:
            self._counters_add(dataset, events=len(new_rows))
        return EventWriteResult(
            stored=len(new_rows),
            duplicates=duplicates,
            conflict_rows=tuple(conflicts),
            stored_rows=tuple(new_rows),
        )

    def _event_index(
        self,
        dataset: str,
        event: StoredEvent,
        value: bytes,
        job_items: list[tuple[bytes, bytes]],
        round_items: list[tuple[bytes, bytes]],
        marker_items: list[tuple[bytes, bytes]],
    ) -> None:
        layout, body, ts = self.layout, event.body, event.ts
        if event.type == "dispatch_round":
            round_id = str(body["round"])
            round_items.append((keys.id_key(layout, dataset, round_id), value))
            marker = ROUND_MARKER + round_id.encode()
            jobs = dict.fromkeys(str(j) for j in body.get("jobs", ()))
            links: dict[tuple[str, str, int], None] = {}
            for role, rows in (
                (keys.ROLE_OFFERED, body.get("candidates", ())),
                (keys.ROLE_ASSIGNED, body.get("assignments", ())),
                (keys.ROLE_EXCLUDED, body.get("excluded", ())),
            ):
                for row in rows:
                    jobs.setdefault(str(row["job"]))
                    links[(str(row["entity"]), str(row["job"]), role)] = None
            for job in jobs:
                job_items.append((keys.job_event_key(layout, dataset, job, ts, event.id), marker))
            for entity, job, role in links:
                marker_items.append((keys.entity_job_key(layout, dataset, entity, ts, job, role), b""))
            return
        subject = body.get("job") or body.get("entity") or body.get("unit")
        if subject is None:
            raise TrackStoreError(f"event {event.id} of type {event.type} names no job, entity or unit")
        job_items.append((keys.job_event_key(layout, dataset, str(subject), ts, event.id), value))
        if body.get("job") and body.get("entity"):
            marker_items.append(
                (
                    keys.entity_job_key(
                        layout, dataset, str(body["entity"]), ts, str(body["job"]), keys.ROLE_EVENT
                    ),
                    b"",
                )
            )

    def _counters_add(self, dataset: str, *, points: int = 0, events: int = 0) -> None:
        key = DATASET_META + dataset.encode()
        with self._meta_lock:
            raw = self.kv.get("meta", key)
            counts = orjson.loads(raw) if raw else {"points": 0, "events": 0}
            counts["points"] += points
            counts["events"] += events
            self.kv.put_many("meta", [(key, orjson.dumps(counts))])

    # ---- reads ----------------------------------------------------------------------------------

    def datasets(self) -> list[DatasetCounts]:
        """Every dataset written to this store, by name."""
        out = []
        for key, value in self.kv.scan_prefix("meta", DATASET_META):
            counts = orjson.loads(value)
            out.append(
                DatasetCounts(
                    name=key[len(DATASET_META) :].decode(), points=counts["points"], events=counts["events"]
                )
            )
        return out

    def city_put(self, *, dataset: str, document: bytes) -> bool:
        """Keep `document` (the dataset's city metadata as canonical JSON) with the dataset, zstd-compressed;
        False, writing nothing, when the same document is stored already."""
        key = CITY_META + keys.dataset_prefix(dataset)
        stored = self.kv.get("meta", key)
        if stored is not None and _zstd_decompress.decompress(stored) == document:
            return False
        self.kv.put_many("meta", [(key, _zstd_compress.compress(document))])
        return True

    def city_get(self, *, dataset: str) -> bytes | None:
        """The dataset's city document as stored by `city_put`, or None."""
        stored = self.kv.get("meta", CITY_META + keys.dataset_prefix(dataset))
        return None if stored is None else _zstd_decompress.decompress(stored)

    def entity_window(self, *, dataset: str, entity: str, start: int, end: int) -> EntityTrack:
        """One entity's fixes with start <= ts <= end, time-sorted and deduplicated."""
        prefix = keys.entity_prefix(self.layout, dataset, entity)
        bucket_ms = self.layout.track_bucket_ms
        first = max(start - start % bucket_ms, 0)
        last = end - end % bucket_ms
        parts = list(
            self.kv.scan("track", prefix + keys.U64.pack(first), prefix + keys.U64.pack(last + bucket_ms))
        )
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
            merged = _merge(blocks)
            lo = int(np.searchsorted(merged.ts, start, side="left"))
            hi = int(np.searchsorted(merged.ts, end, side="right"))
            if hi > lo:
                pieces.append(_columns_slice(merged, lo, hi))
        whole = _columns_concat(pieces)
        return EntityTrack(
            entity=entity, ts=whole.ts, lat_e7=whole.lat_e7, lon_e7=whole.lon_e7, speed_mps=whole.speed_mps,
            heading_deg=whole.heading_deg, accuracy_m=whole.accuracy_m,
        )  # fmt: skip

    def entity_span(self, *, dataset: str, entity: str) -> EntitySpan:
        """First and last fix time and the point count of an entity, from block headers only."""
        prefix = keys.entity_prefix(self.layout, dataset, entity)
        first: int | None = None
        last: int | None = None
        points = 0
        for _, value in self.kv.scan_prefix("track", prefix):
            header = block_header(value)
            points += header.n
            first = header.t_first if first is None else min(first, header.t_first)
            last = header.t_last if last is None else max(last, header.t_last)
        return EntitySpan(entity=entity, first_ts=first, last_ts=last, points=points)

    def box_window(
        self, *, dataset: str, box: Box, start: int, end: int, interval_ms: int | None = None
    ) -> BoxTracks:
        """Every fix inside `box` with start <= ts <= end; with `interval_ms`, the first fix of each
        entity in each interval."""
        layout = self.layout
        lat_lo, lat_hi = _threshold_e7(box.lat_min, lower=True), _threshold_e7(box.lat_max, lower=False)
        lon_lo, lon_hi = _threshold_e7(box.lon_min, lower=True), _threshold_e7(box.lon_max, lower=False)
        row_lo, row_hi = (
            (lat_lo + LAT_OFFSET_E7) // layout.cell_e7,
            (lat_hi + LAT_OFFSET_E7) // layout.cell_e7,
        )
        col_lo, col_hi = (
            (lon_lo + LON_OFFSET_E7) // layout.cell_e7,
            (lon_hi + LON_OFFSET_E7) // layout.cell_e7,
        )
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
        for (time_inside, row_inside), found in zip(edges, self.kv.scan_many("cell", ranges), strict=True):
            for key, value in found:
                col = keys.U32.unpack_from(key, len(key) - 8)[0]
                (inner if time_inside and row_inside and col_lo < col < col_hi else edge).append(value)
        # Blocks wholly inside the box and window need no test; putting them first leaves one tail to filter.
        decoded = blocks_decode(inner + edge)
        runs = pc.dictionary_encode(pa.array(decoded.run_names, type=pa.string()))
        names = runs.dictionary.to_pylist()
        ent = np.repeat(runs.indices.to_numpy().astype(np.int32), decoded.run_lengths)
        ts, lat, lon = decoded.ts, decoded.lat_e7, decoded.lon_e7
        if edge:
            cut = int(decoded.starts[len(inner)]) if inner else 0
            t, la, lo = ts[cut:], lat[cut:], lon[cut:]
            keep = (
                (t >= start) & (t <= end) & (la >= lat_lo) & (la <= lat_hi) & (lo >= lon_lo) & (lo <= lon_hi)
            )
            if not bool(keep.all()):
                # The inner head is copied whole; only the edge tail is filtered.
                ent, ts, lat, lon = (np.concatenate((a[:cut], a[cut:][keep])) for a in (ent, ts, lat, lon))
        result = BoxTracks(
            entities=tuple(names), entity_index=ent, ts=ts, lat_e7=lat, lon_e7=lon,
            blocks_read=len(inner) + len(edge),
        )  # fmt: skip
        # Late parts of a cell bucket may repeat nothing (writes dedupe against the track table), so the
        # cell table needs no merge; thinning needs the (entity, time) order.
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

    def job_events(self, *, dataset: str, job: str) -> list[StoredEvent]:
        """A job's events in time order, the dispatch rounds it took part in included."""
        rows = list(self.kv.scan_prefix("job", keys.id_key(self.layout, dataset, job)))
        round_ids = [value[1:].decode() for _, value in rows if value[:1] == ROUND_MARKER]
        rounds = dict(zip(round_ids, self.rounds_get(dataset=dataset, rounds=round_ids), strict=True))
        out: list[StoredEvent] = []
        for _, value in rows:
            if value[:1] == ROUND_MARKER:
                found = rounds.get(value[1:].decode())
                if found is not None:
                    out.append(found)
            else:
                out.append(_as_event(_event_body(value)))
        return out

    def rounds_get(self, *, dataset: str, rounds: Sequence[str]) -> list[StoredEvent | None]:
        """The dispatch_round events with these round ids, in order; None where unknown."""
        values = self.kv.get_many("round", [keys.id_key(self.layout, dataset, r) for r in rounds])
        return [_as_event(_event_body(v)) if v is not None else None for v in values]

    def entity_jobs(
        self, *, dataset: str, entity: str, start: int | None = None, end: int | None = None
    ) -> list[JobLink]:
        """The jobs an entity touched, in time order, optionally within start <= ts <= end."""
        prefix = keys.id_key(self.layout, dataset, entity)
        lo = prefix + keys.U64.pack(max(start or 0, 0))
        hi = prefix + keys.U64.pack(end + 1) if end is not None else prefix_end(prefix)
        links = []
        for key, _ in self.kv.scan("entity_job", lo, hi, keys_only=True):
            offset = len(prefix)
            ts = keys.U64.unpack_from(key, offset)[0]
            job, offset = keys.read_lp(key, offset + 8)
            links.append(JobLink(ts=ts, job=job, role=key[offset]))
        return links

    def compact(self, *, dataset: str, entity: str) -> int:
        """Fold every bucket of an entity that holds several parts back into one; returns buckets folded."""
        prefix = keys.entity_prefix(self.layout, dataset, entity)
        by_bucket: dict[bytes, list[tuple[bytes, bytes]]] = {}
        for key, value in self.kv.scan_prefix("track", prefix):
            by_bucket.setdefault(key[: len(prefix) + 8], []).append((key, value))
        return self._fold("track", by_bucket.items())

    def compact_touched(self) -> int:
        """Fold the track buckets and cells written since the last call that now hold several parts.

        A load written in batches leaves one part per batch in every cell it touched, and a box query pays
        per part; the pipeline calls this after each input so reads see one block per cell again.
        """
        with self._touched_lock:
            touched, self._touched = sorted(self._touched), set()
        folded = 0
        for table in ("track", "cell"):
            prefixes = [prefix for t, prefix in touched if t == table]
            for at in range(0, len(prefixes), 4096):
                chunk = prefixes[at : at + 4096]
                found = self.kv.scan_many(table, [(p, prefix_end(p)) for p in chunk])
                folded += self._fold(table, [(p, parts) for p, parts in zip(chunk, found, strict=True)])
        return folded

    def _touch(self, table: str, items: Sequence[tuple[bytes, bytes]]) -> None:
        with self._touched_lock:
            self._touched.update((table, key[:-4]) for key, _ in items)

    def _fold(self, table: str, groups: Iterable[tuple[bytes, list[tuple[bytes, bytes]]]]) -> int:
        """Replace each group of two or more parts by one block (put first; never delete a key it wrote)."""
        folded = 0
        for prefix, parts in groups:
            if len(parts) < 2:
                continue
            block = (_merge_track if table == "track" else _merge_cell)([v for _, v in parts])
            key = prefix + keys.U32.pack(zlib.crc32(block))
            self.kv.put_many(table, [(key, block)])
            self.kv.delete_many(table, [k for k, _ in parts if k != key])
            folded += 1
        return folded


def _merge_track(values: Sequence[bytes]) -> bytes:
    merged = _merge([block_decode(v) for v in values])
    return block_encode(
        merged.ts, merged.lat_e7, merged.lon_e7, speed_mps=merged.speed_mps,
        heading_deg=merged.heading_deg, accuracy_m=merged.accuracy_m,
    )  # fmt: skip


def _merge_cell(values: Sequence[bytes]) -> bytes:
    """Parts of one cell bucket as one block, runs by entity, each run time-sorted."""
    decoded = blocks_decode(values)
    names = pc.dictionary_encode(pa.array(decoded.run_names, type=pa.string()))
    entity = np.repeat(names.indices.to_numpy(), decoded.run_lengths)
    order = np.lexsort((decoded.ts, entity))
    entity = entity[order]
    starts = np.concatenate(([0], np.flatnonzero(entity[1:] != entity[:-1]) + 1))
    dictionary = names.dictionary.to_pylist()
    run_names = tuple(dictionary[i] for i in entity[starts].tolist())
    run_lengths = np.diff(np.append(starts, entity.size))
    return block_encode(
        decoded.ts[order], decoded.lat_e7[order], decoded.lon_e7[order],
        run_names=run_names, run_lengths=run_lengths, index=True,
    )  # fmt: skip


def _columns_slice(columns: TrackColumns, lo: int, hi: int) -> TrackColumns:
    return TrackColumns(
        ts=columns.ts[lo:hi], lat_e7=columns.lat_e7[lo:hi], lon_e7=columns.lon_e7[lo:hi],
        speed_mps=_slice(columns.speed_mps, lo, hi), heading_deg=_slice(columns.heading_deg, lo, hi),
        accuracy_m=_slice(columns.accuracy_m, lo, hi),
    )  # fmt: skip


def _optional_concat(values: Sequence[FloatArray | None], lengths: Sequence[int]) -> FloatArray | None:
    """One optional column over several pieces: None if no piece has it, NaN where one lacks it."""
    if all(v is None for v in values):
        return None
    filled = [v if v is not None else np.full(n, np.nan) for v, n in zip(values, lengths, strict=True)]
    return np.concatenate(filled)


def _columns_concat(pieces: Sequence[TrackColumns]) -> TrackColumns:
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
        speed_mps=_optional_concat([p.speed_mps for p in pieces], lengths),
        heading_deg=_optional_concat([p.heading_deg for p in pieces], lengths),
        accuracy_m=_optional_concat([p.accuracy_m for p in pieces], lengths),
    )  # fmt: skip


def _slice(values: FloatArray | None, lo: int, hi: int) -> FloatArray | None:
    return None if values is None else values[lo:hi]


def _merge(blocks: Iterable[TrackColumns]) -> TrackColumns:
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
        full = _optional_concat([getattr(p, name) for p in parts], lengths)
        return None if full is None else full[pick]

    return TrackColumns(
        ts=ts[keep],
        lat_e7=np.concatenate([p.lat_e7 for p in parts])[pick],
        lon_e7=np.concatenate([p.lon_e7 for p in parts])[pick],
        speed_mps=column("speed_mps"),
        heading_deg=column("heading_deg"),
        accuracy_m=column("accuracy_m"),
    )
