"""The playback wire protocol v1 (docs/protocol.md): binary position chunks and JSON text frames. Pure.

Binary chunk, little-endian, every section starting on a multiple of 8 bytes:

    0   4    magic "DSP1"
    4   4    u32  request id of the fetch
    8   8    f64  base_ts: epoch ms every time offset is relative to (the fetch's start)
    16  4    u32  n_runs
    20  4    u32  n_points
    24  4    u32  resolution_ms
    28  4    u32  reserved (0)
    32  24R  runs: R x 6 x i32 (entity index, first point, point count, t0 offset ms, lat0 e7, lon0 e7)
    ... 2N   u16 dt    ms since the run's previous point (0 for a run's first point)
    ... 2N   i16 dlat  1e-7 degree since the previous point (0 for a run's first point)
    ... 2N   i16 dlon
    ... 1N   u8  flags (bit 0 jump, 1 stale, 2 after a dropout gap, 3 stall)
    (each column zero-padded to a multiple of 8 bytes)

A run is a stretch of one entity's time-sorted fixes whose deltas fit the column types; a new run starts
at every entity change and wherever a delta would overflow, so every fix is exact. Encoding is one
vectorised pass; `chunk_decode` (numpy, for tests and benchmarks) is its inverse.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson

from playback.limits import PlaybackLimits
from playback.reconstruction.lifecycle import LatLon, Lifecycle
from playback.reconstruction.rounds import RoundReview
from playback.scopes import (
    EntityScope,
    JobScope,
    Scope,
    ScopeOpened,
    ScopePoints,
    ScopeSnapshot,
    Suggestion,
)

PROTOCOL_VERSION = 1
MAGIC = b"DSP1"
HEADER = struct.Struct("<4sIdIIII")
RUN_FIELDS = 6
U16_MAX = (1 << 16) - 1
I16_MAX = (1 << 15) - 1
I32_MIN, I32_MAX = -(1 << 31), (1 << 31) - 1
#: The window a client should fetch at a time (the manifest's `chunk_ms`), at most limits.fetch_window_ms.
CHUNK_MS = 300_000

Int64Array = npt.NDArray[np.int64]
Int32Array = npt.NDArray[np.int32]
UInt8Array = npt.NDArray[np.uint8]


class WireError(ValueError):
    """Bytes that are not a v1 chunk, or points a chunk cannot carry."""


@dataclass(frozen=True)
class DecodedChunk:
    """A chunk read back: the header fields, the runs (R x 6 int32) and one row per fix."""

    request_id: int
    base_ts: int
    resolution_ms: int
    runs: Int32Array
    entity_index: Int32Array
    ts: Int64Array
    lat_e7: Int32Array
    lon_e7: Int32Array
    flags: UInt8Array

    def __len__(self) -> int:
        return int(self.ts.shape[0])


def _padded(column: npt.NDArray[Any]) -> bytes:
    raw = column.tobytes()
    return raw + bytes(-len(raw) % 8)


def chunk_encode_arrays(
    *,
    request_id: int,
    base_ts: int,
    resolution_ms: int,
    entity_index: Int32Array,
    ts: Int64Array,
    lat_e7: Int32Array,
    lon_e7: Int32Array,
    flags: UInt8Array | None = None,
) -> bytes:
    """One chunk of these fixes (sorted here by entity then time if they are not already)."""
    n = int(ts.shape[0])
    if not 0 <= request_id <= 0xFFFFFFFF or not 0 <= resolution_ms <= 0xFFFFFFFF:
        raise WireError("request id and resolution must fit in u32")
    entity = np.asarray(entity_index, dtype=np.int64)
    t = np.asarray(ts, dtype=np.int64)
    lat = np.asarray(lat_e7, dtype=np.int64)
    lon = np.asarray(lon_e7, dtype=np.int64)
    bits = np.zeros(n, dtype=np.uint8) if flags is None else np.asarray(flags, dtype=np.uint8)
    if n > 1:
        ordered = (entity[1:] > entity[:-1]) | ((entity[1:] == entity[:-1]) & (t[1:] >= t[:-1]))
        if not bool(ordered.all()):
            order = np.lexsort((t, entity))
            entity, t, lat, lon, bits = entity[order], t[order], lat[order], lon[order], bits[order]
    if n and (int(entity.min()) < 0 or int(entity.max()) > I32_MAX):
        raise WireError("entity indexes must fit in i32")
    d_t, d_lat, d_lon = np.diff(t), np.diff(lat), np.diff(lon)
    fits = (
        (entity[1:] == entity[:-1])
        & (d_t <= U16_MAX)
        & (np.abs(d_lat) <= I16_MAX)
        & (np.abs(d_lon) <= I16_MAX)
    )
    starts = np.flatnonzero(np.concatenate(([True], ~fits))) if n else np.empty(0, dtype=np.int64)
    counts = np.diff(np.append(starts, n))
    t0 = t[starts] - base_ts
    if t0.size and (int(t0.min()) < I32_MIN or int(t0.max()) > I32_MAX):
        raise WireError("a fix lies more than 2^31 ms from the chunk's base_ts")
    runs = np.stack((entity[starts], starts, counts, t0, lat[starts], lon[starts]), axis=1).astype("<i4")
    dt = np.zeros(n, dtype="<u2")
    dlat = np.zeros(n, dtype="<i2")
    dlon = np.zeros(n, dtype="<i2")
    if n > 1:
        dt[1:] = np.where(fits, d_t, 0)
        dlat[1:] = np.where(fits, d_lat, 0)
        dlon[1:] = np.where(fits, d_lon, 0)
    header = HEADER.pack(MAGIC, request_id, float(base_ts), int(starts.size), n, resolution_ms, 0)
    return b"".join((header, runs.tobytes(), _padded(dt), _padded(dlat), _padded(dlon), _padded(bits)))


def chunk_encode(*, request_id: int, points: ScopePoints) -> bytes:
    """The chunk answering one fetch: time offsets relative to the fetch's start."""
    return chunk_encode_arrays(
        request_id=request_id,
        base_ts=points.start,
        resolution_ms=points.resolution_ms,
        entity_index=points.entity_index,
        ts=points.ts,
        lat_e7=points.lat_e7,
        lon_e7=points.lon_e7,
        flags=points.flags,
    )


def _column(data: bytes, offset: int, dtype: str, n: int) -> tuple[npt.NDArray[Any], int]:
    size = np.dtype(dtype).itemsize * n
    if offset + size > len(data):
        raise WireError("the chunk is shorter than its header says")
    return np.frombuffer(data, dtype=dtype, count=n, offset=offset), offset + size + (-size % 8)


def _segment_sums(values: Int64Array, starts: Int64Array, counts: Int64Array) -> Int64Array:
    """Cumulative sums restarting at each run's first point (which holds the run's absolute value)."""
    total = np.cumsum(values)
    before = total[starts] - values[starts]
    return np.asarray(total - np.repeat(before, counts), dtype=np.int64)


def chunk_decode(data: bytes) -> DecodedChunk:
    """The fixes of a chunk, exactly as encoded; WireError for anything that is not a v1 chunk."""
    if len(data) < HEADER.size:
        raise WireError("shorter than a chunk header")
    magic, request_id, base, n_runs, n, resolution_ms, _ = HEADER.unpack_from(data)
    if magic != MAGIC:
        raise WireError(f"magic {magic!r} is not {MAGIC!r}")
    runs_flat, offset = _column(data, HEADER.size, "<i4", n_runs * RUN_FIELDS)
    runs = runs_flat.reshape(n_runs, RUN_FIELDS).astype(np.int32)
    dt, offset = _column(data, offset, "<u2", n)
    dlat, offset = _column(data, offset, "<i2", n)
    dlon, offset = _column(data, offset, "<i2", n)
    flags, offset = _column(data, offset, "<u1", n)
    if offset != len(data):
        raise WireError(f"{len(data) - offset} bytes after the last column")
    starts = runs[:, 1].astype(np.int64)
    counts = runs[:, 2].astype(np.int64)
    expected = np.concatenate(([0], np.cumsum(counts)[:-1])) if n_runs else np.empty(0, dtype=np.int64)
    if int(counts.sum()) != n or bool((counts < 1).any()) or not np.array_equal(starts, expected):
        raise WireError("the runs do not tile the points")
    base_ts = int(base)
    t = dt.astype(np.int64)
    la = dlat.astype(np.int64)
    lo = dlon.astype(np.int64)
    if n_runs:
        t[starts] = runs[:, 3]
        la[starts] = runs[:, 4]
        lo[starts] = runs[:, 5]
    return DecodedChunk(
        request_id=request_id,
        base_ts=base_ts,
        resolution_ms=resolution_ms,
        runs=runs,
        entity_index=np.repeat(runs[:, 0], counts).astype(np.int32),
        ts=_segment_sums(t, starts, counts) + base_ts,
        lat_e7=_segment_sums(la, starts, counts).astype(np.int32),
        lon_e7=_segment_sums(lo, starts, counts).astype(np.int32),
        flags=flags.astype(np.uint8),
    )


# ---- JSON text frames -----------------------------------------------------------------------------


def _dumps(value: dict[str, Any]) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def _metres(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def scope_json(scope: Scope) -> dict[str, Any]:
    """A scope as the client sends it in `open`."""
    if isinstance(scope, JobScope):
        return {"kind": "job", "dataset": scope.dataset, "job": scope.job}
    assert isinstance(scope, EntityScope)
    return {
        "kind": "entity",
        "dataset": scope.dataset,
        "entity": scope.entity,
        "start": scope.start,
        "end": scope.end,
    }


def _scope_id(scope: Scope) -> str:
    return scope.job if isinstance(scope, JobScope) else scope.entity


def _point(point: LatLon | None) -> dict[str, float] | None:
    return None if point is None else {"lat": point.lat, "lon": point.lon}


def job_json(life: Lifecycle) -> dict[str, Any]:
    """A job's lifecycle as the manifest's `job`."""
    d = life.durations
    return {
        "id": life.job,
        "kind": life.kind,
        "city": life.city,
        "zone": life.zone,
        "pickup": _point(life.pickup),
        "dropoff": _point(life.dropoff),
        "created_ts": life.created_ts,
        "ready_ts": life.ready_ts,
        "promised_ts": life.promised_ts,
        "assigned_ts": life.assigned_ts,
        "accepted_ts": life.accepted_ts,
        "arrived_pickup_ts": life.arrived_pickup_ts,
        "picked_up_ts": life.picked_up_ts,
        "delivered_ts": life.delivered_ts,
        "cancelled_ts": life.cancelled_ts,
        "entity": life.entity,
        "waybills": [
            {
                "waybill": w.waybill,
                "entity": w.entity,
                "round": w.round,
                "assigned_ts": w.assigned_ts,
                "accepted_ts": w.accepted_ts,
                "outcome": w.outcome,
                "outcome_ts": w.outcome_ts,
                "reason": w.reason,
            }
            for w in life.waybills
        ],
        "durations": {
            "wait_s": d.wait_s,
            "to_pickup_s": d.to_pickup_s,
            "at_pickup_s": d.at_pickup_s,
            "to_dropoff_s": d.to_dropoff_s,
            "total_s": d.total_s,
        },
        "late_s": life.late_s,
    }


def round_json(review: RoundReview, opened: ScopeOpened) -> dict[str, Any]:
    """A round as the manifest's `rounds[]` item."""
    r = review.round
    return {
        "round": r.round,
        "ts": r.ts,
        "strategy": r.strategy,
        "strategy_version": r.strategy_version,
        "latency_ms": r.latency_ms,
        "jobs_in_round": r.jobs_in_round,
        "candidates_logged": r.candidates_logged,
        "decision": r.decision,
        "assigned_to": r.assigned_to,
        "error": r.error,
        "candidates": [
            {
                "entity": c.candidate.entity,
                "index": opened.index_of(c.candidate.entity),
                "score": c.candidate.score,
                "eta_s": c.candidate.eta_s,
                "distance_m": c.candidate.distance_m,
                "features": c.candidate.features,
                "chosen": c.candidate.chosen,
                "pos": None
                if c.candidate.pos is None
                else {"lat": c.candidate.pos.lat, "lon": c.candidate.pos.lon, "ts": c.candidate.pos.ts},
                "pos_age_s": c.pos_age_s,
                "pos_error_m": _metres(c.pos_error_m),
                "actual_s": c.actual_s,
            }
            for c in review.candidates
        ],
        "excluded": [
            {"entity": x.entity, "index": opened.index_of(x.entity), "reason": x.reason} for x in r.excluded
        ],
    }


def manifest_dict(
    *, request_id: int, opened: ScopeOpened, limits: PlaybackLimits, roads_url: str | None
) -> dict[str, Any]:
    """The manifest answering an `open`, as a dict (see `manifest_json`)."""
    b = opened.bounds
    return {
        "op": "manifest",
        "id": request_id,
        "protocol": PROTOCOL_VERSION,
        "scope": scope_json(opened.scope),
        "range": {"start": opened.start, "end": opened.end},
        "city": {"name": opened.city.name, "timezone": opened.city.timezone},
        "bounds": None
        if b is None
        else {"lat_min": b.lat_min, "lon_min": b.lon_min, "lat_max": b.lat_max, "lon_max": b.lon_max},
        "entities": [
            {
                "index": e.index,
                "id": e.entity,
                "role": e.role,
                "points": e.points,
                "first_ts": e.first_ts,
                "last_ts": e.last_ts,
                "distance_m": _metres(e.distance_m),
            }
            for e in opened.entities
        ],
        "entities_left_out": opened.entities_left_out,
        "job": None if opened.job is None else job_json(opened.job),
        "events": [
            {
                "ts": e.ts,
                "type": e.type,
                "job": e.job,
                "entity": e.entity,
                "index": e.index,
                "round": e.round,
                "label": e.label,
            }
            for e in opened.events
        ],
        "rounds": [round_json(r, opened) for r in opened.rounds],
        "states": [{"entity": s.index, "ts": s.ts, "state": s.state} for s in opened.states],
        "anomalies": [
            {"entity": a.index, "ts": a.ts, "end_ts": a.end_ts, "kind": a.kind, "detail": a.detail}
            for a in opened.anomalies
        ],
        "roads": roads_url if opened.city.has_roads else None,
        "limits": limits.as_dict(),
        "chunk_ms": min(CHUNK_MS, limits.fetch_window_ms),
        "median_interval_ms": opened.median_interval_ms,
        "empty": opened.empty,
    }


def manifest_json(
    *, request_id: int, opened: ScopeOpened, limits: PlaybackLimits, roads_url: str | None
) -> str:
    """The manifest text frame answering an `open`."""
    return _dumps(manifest_dict(request_id=request_id, opened=opened, limits=limits, roads_url=roads_url))


def snapshot_json(*, request_id: int, snapshot: ScopeSnapshot) -> str:
    """The snapshot text frame answering a seek."""
    return _dumps(
        {
            "op": "snapshot",
            "id": request_id,
            "ts": snapshot.ts,
            "positions": [
                {"entity": p.index, "ts": p.position.ts, "lat": p.position.lat, "lon": p.position.lon}
                for p in snapshot.positions
            ],
            "open_jobs": [
                {"job": o.job.job, "state": o.job.state, "entity": o.index} for o in snapshot.open_jobs
            ],
        }
    )


def state_json(*, request_id: int, ts: int, playing: bool, speed: float) -> str:
    """The session's playhead, answering every control."""
    return _dumps({"op": "state", "id": request_id, "ts": ts, "playing": playing, "speed": speed})


def error_json(
    *,
    request_id: int | None,
    code: str,
    message: str,
    limit: int | None = None,
    suggestions: Sequence[Suggestion] = (),
) -> str:
    """An error frame; `limit` for limit breaches, `suggestions` (scopes to `open`) for not_found."""
    body: dict[str, Any] = {"op": "error", "id": request_id, "code": code, "message": message}
    if limit is not None:
        body["limit"] = limit
    if suggestions:
        body["suggestions"] = [
            {"scope": scope_json(s.scope), "id": _scope_id(s.scope), "label": s.reason, "reason": s.reason}
            for s in suggestions
        ]
    return _dumps(body)
