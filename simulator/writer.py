"""Writes one run as the logs of DESIGN §4, byte-identical for the same seed and code.

Layout of a run's folder `<out>/<dataset>/`:
- `events.jsonl` — one JSON object per line (keys sorted), ordered by (ts, emission order), ts int epoch ms;
- `gps.parquet` — columns entity, ts (int64 ms), lat, lon, speed_mps, heading_deg, accuracy_m, city; rows
  grouped by entity then time; NaN heading (standing still) is written as null;
- `incidents.json` — the manifest of notable incidents (see `incidents_collect`);
- `roads.json` — the run's road graph, so a map can draw it with no network: `{"city", "timezone",
  "classes", "nodes": [[lat, lon], …], "edges": [[from, to, class], …], "bounds": {"south", "west",
  "north", "east"}}`; node ids are positions in `nodes`, `class` a position in `classes` (arterial, local,
  bridge), degrees rounded to 7 decimals; `timezone` the IANA name of the city's fixed UTC offset
  (`Etc/GMT-8` for UTC+8); one line, keys sorted.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from simulator.city import ROAD_CLASSES, City
from simulator.gps import gps_track_build, sample_times
from simulator.incidents import incidents_collect
from simulator.results import RunResult
from simulator.scenarios import GpsParams

GPS_SCHEMA = pa.schema(
    [
        ("entity", pa.string()),
        ("ts", pa.int64()),
        ("lat", pa.float64()),
        ("lon", pa.float64()),
        ("speed_mps", pa.float64()),
        ("heading_deg", pa.float64()),
        ("accuracy_m", pa.float64()),
        ("city", pa.string()),
    ]
)
#: Entities per Parquet row group (bounds memory; 300 couriers × 2 h at 1 Hz is ~2 M rows).
ENTITIES_PER_BATCH = 200
INCIDENTS_PER_KIND = 50


@dataclass(frozen=True)
class RunFiles:
    """Paths and sizes of a written run."""

    dataset: str
    events_path: Path
    gps_path: Path
    incidents_path: Path
    roads_path: Path
    events: int
    gps_points: int


def events_write(*, result: RunResult, path: Path) -> int:
    """Write the run's events as sorted JSONL; return how many."""
    order = sorted(range(len(result.events)), key=lambda i: (result.events[i]["ts"], i))
    with path.open("wb") as fh:
        for i in order:
            fh.write(orjson.dumps(result.events[i], option=orjson.OPT_SORT_KEYS))
            fh.write(b"\n")
    return len(order)


def gps_write(
    *, result: RunResult, path: Path, gps: GpsParams
) -> tuple[int, tuple[tuple[str, int, float], ...]]:
    """Write every entity's noisy GPS fixes; return (points, jumps as (entity, ts, metres))."""
    city = result.city
    period_ms = max(1, round(1000.0 / gps.hz))
    parked_ms = max(period_ms, round(gps.parked_report_s * 1000.0))
    jumps: list[tuple[str, int, float]] = []
    total = 0
    city_name = pa.array([city.name])
    with pq.ParquetWriter(path, GPS_SCHEMA, compression="zstd") as writer:
        for lo in range(0, len(result.couriers), ENTITIES_PER_BATCH):
            names: list[str] = []
            counts: list[int] = []
            cols: dict[str, list[np.ndarray[Any, Any]]] = {k: [] for k in ("ts", "x", "y", "s", "h", "a")}
            for c in result.couriers[lo : lo + ENTITIES_PER_BATCH]:
                start, end = c.shift_start, c.offline_ts if c.offline_ts is not None else result.end_ms
                kp_t = [np.array([float(start)])] + [leg.t for leg in c.legs] + [np.array([float(end)])]
                kp_x = (
                    [np.array([city.x[c.start_node]])]
                    + [leg.x for leg in c.legs]
                    + [np.array([city.x[c.node]])]
                )
                kp_y = (
                    [np.array([city.y[c.start_node]])]
                    + [leg.y for leg in c.legs]
                    + [np.array([city.y[c.node]])]
                )
                moving = (
                    [(float(leg.t[0]), float(leg.t[-1])) for leg in c.legs]
                    if c.entity in result.parked_entities
                    else None
                )
                ts = sample_times(
                    start_ms=start, end_ms=end, period_ms=period_ms, moving=moving, parked_period_ms=parked_ms
                )
                rng = np.random.default_rng(
                    [result.seed, 8, c.index, 1 if c.entity.startswith("bike") else 0]
                )
                track = gps_track_build(
                    ts=ts,
                    kp_t=np.concatenate(kp_t),
                    kp_x=np.concatenate(kp_x),
                    kp_y=np.concatenate(kp_y),
                    params=gps,
                    rng=rng,
                )
                names.append(c.entity)
                counts.append(int(track.ts.size))
                cols["ts"].append(track.ts)
                cols["x"].append(track.x)
                cols["y"].append(track.y)
                cols["s"].append(track.speed_mps)
                cols["h"].append(track.heading_deg)
                cols["a"].append(track.accuracy_m)
                jumps.extend((c.entity, t, m) for t, m in track.jumps)
            n = sum(counts)
            if n == 0:
                continue
            lat, lon = city.to_latlon(np.concatenate(cols["x"]), np.concatenate(cols["y"]))
            codes = np.repeat(np.arange(len(names), dtype=np.int32), counts)
            entity = pa.DictionaryArray.from_arrays(pa.array(codes), pa.array(names)).cast(pa.string())
            city_col = pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, dtype=np.int32)), city_name).cast(
                pa.string()
            )
            heading = np.concatenate(cols["h"])
            table = pa.table(
                {
                    "entity": entity,
                    "ts": pa.array(np.concatenate(cols["ts"]), type=pa.int64()),
                    "lat": pa.array(np.round(lat, 7)),
                    "lon": pa.array(np.round(lon, 7)),
                    "speed_mps": pa.array(np.round(np.concatenate(cols["s"]), 2)),
                    "heading_deg": pa.array(np.round(heading, 1), mask=np.isnan(heading)),
                    "accuracy_m": pa.array(np.round(np.concatenate(cols["a"]), 1)),
                    "city": city_col,
                },
                schema=GPS_SCHEMA,
            )
            writer.write_table(table)
            total += n
    return total, tuple(jumps)


def timezone_name(utc_offset_h: int) -> str:
    """The IANA name of a whole-hour UTC offset: `UTC`, or `Etc/GMT-8` for UTC+8 (Etc signs are inverted)."""
    return "UTC" if utc_offset_h == 0 else f"Etc/GMT{-utc_offset_h:+d}"


def roads_write(*, city: City, path: Path) -> None:
    """Write the city's road graph as `roads.json` (layout above)."""
    # rounded as events round their points, so a job's pickup and door are nodes of this file
    lat = [round(v, 7) for v in city.lat.tolist()]
    lon = [round(v, 7) for v in city.lon.tolist()]
    class_of = {name: k for k, name in enumerate(ROAD_CLASSES)}
    classes = np.array([class_of[c] for c in city.edge_class], dtype=np.int64)
    doc = {
        "city": city.name,
        "timezone": timezone_name(city.utc_offset_h),
        "classes": list(ROAD_CLASSES),
        "nodes": [[a, b] for a, b in zip(lat, lon, strict=True)],
        "edges": np.column_stack([city.edges, classes]).tolist(),
        "bounds": {"south": min(lat), "west": min(lon), "north": max(lat), "east": max(lon)},
    }
    path.write_bytes(orjson.dumps(doc, option=orjson.OPT_SORT_KEYS))


def run_write(*, result: RunResult, out_dir: Path, gps: GpsParams) -> RunFiles:
    """Write the run's events, GPS, incident manifest and road graph under `out_dir/<dataset>/`."""
    folder = out_dir / result.dataset
    folder.mkdir(parents=True, exist_ok=True)
    events_path, gps_path, incidents_path, roads_path = (
        folder / "events.jsonl",
        folder / "gps.parquet",
        folder / "incidents.json",
        folder / "roads.json",
    )
    n_events = events_write(result=result, path=events_path)
    points, jumps = gps_write(result=result, path=gps_path, gps=gps)
    manifest = incidents_collect(result=result, gps_jumps=jumps, per_kind=INCIDENTS_PER_KIND)
    incidents_path.write_bytes(orjson.dumps(manifest, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2))
    roads_write(city=result.city, path=roads_path)
    return RunFiles(
        dataset=result.dataset,
        events_path=events_path,
        gps_path=gps_path,
        incidents_path=incidents_path,
        roads_path=roads_path,
        events=n_events,
        gps_points=points,
    )
