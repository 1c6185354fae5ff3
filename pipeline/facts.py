"""Warehouse rows: StoredEvents and stored GPS fixes as Arrow tables of the fact-table schemas.

Each table holds the file columns of storage.warehouse.schema.TABLE_SCHEMAS plus the `dataset` and `city`
partition columns that write_fact_table expects (it derives `dt` from `ts`). JSON payloads (`attrs`,
`features`) become canonical JSON text with sorted keys, so the same event always gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import orjson
import pyarrow as pa

from pipeline.events import JOB_EVENT_TYPES
from pipeline.gps import GpsChunk
from playback.reconstruction.anomalies import JUMP_MIN_M, JUMP_SPEED_MPS, STALE_REPEAT_MS
from playback.reconstruction.geo import step_metres
from storage.tracks.types import Int64Array, StoredEvent
from storage.warehouse.schema import TABLE_SCHEMAS


def fact_schema(table: str) -> pa.Schema:
    """The columns write_fact_table takes for `table`: its file columns, then `dataset` and `city`."""
    schema: pa.Schema = TABLE_SCHEMAS[table]
    return schema.append(pa.field("dataset", pa.string(), nullable=False)).append(
        pa.field("city", pa.string(), nullable=False)
    )


def _json_text(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def _table(name: str, columns: dict[str, list[Any]]) -> pa.Table:
    return pa.Table.from_pydict(columns, schema=fact_schema(name))


def event_fact_tables(
    *, dataset: str, events: Sequence[StoredEvent], cities: Sequence[str]
) -> dict[str, pa.Table]:
    """The fact rows of `events` (each with its resolved city), by table; tables without rows are left out."""
    by_type: dict[str, list[tuple[StoredEvent, str]]] = {}
    for event, city in zip(events, cities, strict=True):
        table = _TABLE_OF.get(event.type)
        if table is not None:
            by_type.setdefault(table, []).append((event, city))
    tables: dict[str, pa.Table] = {}
    for table, pairs in by_type.items():
        if table == "job_events":
            tables[table] = _job_events(dataset, pairs)
        elif table == "rounds":
            tables["rounds"] = _rounds(dataset, pairs)
            tables["candidates"] = _candidates(dataset, pairs)
        elif table == "entity_states":
            tables[table] = _table(
                table,
                {
                    "event_id": [e.id for e, _ in pairs],
                    "entity": [e.body["entity"] for e, _ in pairs],
                    "ts": [e.ts for e, _ in pairs],
                    "state": [e.body["state"] for e, _ in pairs],
                    "capacity": [e.body.get("capacity") for e, _ in pairs],
                    "dataset": [dataset] * len(pairs),
                    "city": [c for _, c in pairs],
                },
            )
        else:
            tables[table] = _table(
                table,
                {
                    "event_id": [e.id for e, _ in pairs],
                    "experiment": [e.body["experiment"] for e, _ in pairs],
                    "unit": [e.body["unit"] for e, _ in pairs],
                    "variant": [e.body["variant"] for e, _ in pairs],
                    "ts": [e.ts for e, _ in pairs],
                    "dataset": [dataset] * len(pairs),
                    "city": [c for _, c in pairs],
                },
            )
    return {name: rows for name, rows in tables.items() if rows.num_rows}


_TABLE_OF: dict[str, str] = {
    **dict.fromkeys(JOB_EVENT_TYPES, "job_events"),
    "dispatch_round": "rounds",
    "entity_state": "entity_states",
    "experiment_assignment": "experiment_assignments",
}
_NO_POINT: dict[str, Any] = {}


def _job_events(dataset: str, pairs: list[tuple[StoredEvent, str]]) -> pa.Table:
    bodies = [e.body for e, _ in pairs]
    pickups = [b.get("pickup") or _NO_POINT for b in bodies]
    dropoffs = [b.get("dropoff") or _NO_POINT for b in bodies]
    columns: dict[str, list[Any]] = {
        "event_id": [e.id for e, _ in pairs],
        "type": [e.type for e, _ in pairs],
        "job": [b["job"] for b in bodies],
        "ts": [e.ts for e, _ in pairs],
    }
    for name in ("entity", "round", "waybill", "reason", "kind", "zone"):
        columns[name] = [b.get(name) for b in bodies]
    columns["pickup_lat"] = [p.get("lat") for p in pickups]
    columns["pickup_lon"] = [p.get("lon") for p in pickups]
    columns["dropoff_lat"] = [p.get("lat") for p in dropoffs]
    columns["dropoff_lon"] = [p.get("lon") for p in dropoffs]
    columns["promised_ts"] = [b.get("promised_ts") for b in bodies]
    columns["ready_ts"] = [b.get("ready_ts") for b in bodies]
    columns["attrs"] = [_json_text(b.get("attrs")) for b in bodies]
    columns["dataset"] = [dataset] * len(pairs)
    columns["city"] = [c for _, c in pairs]
    return _table("job_events", columns)


def _rounds(dataset: str, pairs: list[tuple[StoredEvent, str]]) -> pa.Table:
    bodies = [e.body for e, _ in pairs]
    return _table(
        "rounds",
        {
            "round": [b["round"] for b in bodies],
            "ts": [e.ts for e, _ in pairs],
            "strategy": [b["strategy"] for b in bodies],
            "strategy_version": [b.get("strategy_version") for b in bodies],
            "latency_ms": [b.get("latency_ms") for b in bodies],
            "n_jobs": [len(b["jobs"]) for b in bodies],
            "n_candidates": [len(b["candidates"]) for b in bodies],
            "n_assignments": [len(b["assignments"]) for b in bodies],
            "n_postponed": [len(b.get("postponed") or ()) for b in bodies],
            "n_excluded": [len(b.get("excluded") or ()) for b in bodies],
            "dataset": [dataset] * len(pairs),
            "city": [c for _, c in pairs],
        },
    )


def _candidates(dataset: str, pairs: list[tuple[StoredEvent, str]]) -> pa.Table:
    columns: dict[str, list[Any]] = {name: [] for name in fact_schema("candidates").names}
    for event, city in pairs:
        body = event.body
        candidates = body["candidates"]
        n = len(candidates)
        assigned = {(a["job"], a["entity"]) for a in body["assignments"]}
        columns["round"] += [body["round"]] * n
        columns["ts"] += [event.ts] * n
        columns["job"] += [c["job"] for c in candidates]
        columns["entity"] += [c["entity"] for c in candidates]
        columns["score"] += [c.get("score") for c in candidates]
        columns["eta_s"] += [c.get("eta_s") for c in candidates]
        columns["distance_m"] += [c.get("distance_m") for c in candidates]
        columns["assigned"] += [(c["job"], c["entity"]) in assigned for c in candidates]
        columns["features"] += [_json_text(c.get("features")) for c in candidates]
        positions = [c.get("entity_pos") or {} for c in candidates]
        columns["pos_ts"] += [p.get("ts") for p in positions]
        columns["pos_lat"] += [p.get("lat") for p in positions]
        columns["pos_lon"] += [p.get("lon") for p in positions]
        columns["city"] += [city] * n
    columns["dataset"] = [dataset] * len(columns["ts"])
    return _table("candidates", columns)


def gps_fact_table(*, chunk: GpsChunk, rows: Int64Array) -> pa.Table:
    """The `gps` fact rows of the fixes `rows` (indices into chunk.batch), with their cities."""
    batch = chunk.batch
    size = len(rows)
    entity = pa.DictionaryArray.from_arrays(
        pa.array(batch.entity_codes[rows], pa.int32()), pa.array(batch.entity_names, pa.string())
    ).cast(pa.string())
    city = pa.DictionaryArray.from_arrays(
        pa.array(chunk.city_codes[rows], pa.int32()), pa.array(chunk.city_names, pa.string())
    ).cast(pa.string())

    def measure(values: np.ndarray[Any, Any] | None) -> pa.Array:
        if values is None:
            return pa.nulls(size, pa.float64())
        picked = values[rows]
        return pa.array(picked, pa.float64(), mask=np.isnan(picked))

    columns = [
        entity,
        pa.array(batch.ts[rows], pa.int64()),
        pa.array(batch.lat[rows], pa.float64()),
        pa.array(batch.lon[rows], pa.float64()),
        measure(batch.speed_mps),
        measure(batch.heading_deg),
        measure(batch.accuracy_m),
        pa.DictionaryArray.from_arrays(
            pa.array(np.zeros(size, dtype=np.int32)), pa.array([chunk.dataset], pa.string())
        ).cast(pa.string()),
        city,
    ]
    return pa.Table.from_arrays(columns, schema=fact_schema("gps"))


def gps_anomaly_table(*, chunk: GpsChunk, rows: Int64Array) -> pa.Table:
    """The `gps_anomalies` rows among the fixes `rows` of a chunk: every jump, and each stale run once.

    The rules are playback's (playback/reconstruction/anomalies.py): a jump is a step faster than
    JUMP_SPEED_MPS and longer than JUMP_MIN_M; a stale run repeats one position exactly for STALE_REPEAT_MS
    or more (its row is the fix where it became stale). Steps are taken inside the chunk only, so a jump
    across two loads' boundary is not seen here (playback still flags it)."""
    batch = chunk.batch
    codes = batch.entity_codes[rows].astype(np.int64)
    ts = batch.ts[rows].astype(np.int64)
    order = np.lexsort((ts, codes))
    picked = rows[order]
    codes, ts = codes[order], ts[order]
    lat_e7 = np.round(batch.lat[picked] * 1e7).astype(np.int32)
    lon_e7 = np.round(batch.lon[picked] * 1e7).astype(np.int32)
    if picked.size < 2:
        return _table("gps_anomalies", {name: [] for name in fact_schema("gps_anomalies").names})
    same_entity = codes[1:] == codes[:-1]
    dt = np.maximum(np.diff(ts), 1)
    steps = step_metres(lat_e7, lon_e7)
    speed = steps / (dt / 1000.0)
    jump = same_entity & (speed > JUMP_SPEED_MPS) & (steps > JUMP_MIN_M)
    repeat = np.concatenate(
        ([False], same_entity & (lat_e7[1:] == lat_e7[:-1]) & (lon_e7[1:] == lon_e7[:-1]))
    )
    run_start = np.maximum.accumulate(np.where(repeat, 0, np.arange(picked.size)))
    stale_now = repeat & (ts - ts[run_start] >= STALE_REPEAT_MS)
    first_stale = stale_now & ~np.concatenate(([False], stale_now[:-1]))
    jump_at = np.flatnonzero(jump) + 1
    stale_at = np.flatnonzero(first_stale)
    at = np.concatenate((jump_at, stale_at))
    kinds = ["jump"] * jump_at.size + ["stale"] * stale_at.size
    step_values: list[float | None] = [float(v) for v in steps[jump_at - 1]] + [None] * stale_at.size
    speed_values: list[float | None] = [float(v) for v in speed[jump_at - 1]] + [None] * stale_at.size
    source = picked[at]
    return _table(
        "gps_anomalies",
        {
            "entity": [batch.entity_names[int(c)] for c in batch.entity_codes[source]],
            "ts": ts[at].tolist(),
            "kind": kinds,
            "step_m": step_values,
            "speed_mps": speed_values,
            "lat": batch.lat[source].tolist(),
            "lon": batch.lon[source].tolist(),
            "dataset": [chunk.dataset] * at.size,
            "city": [chunk.city_names[int(c)] for c in chunk.city_codes[source]],
        },
    )
