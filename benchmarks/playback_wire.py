"""Playback wire benchmark: the binary chunk against the same fixes as JSON objects, and the server's time
to answer a fetch, measured side by side in one run.

The tracks are the reference workload's (benchmarks/workload.py: 1 Hz random walks with GPS noise,
positions at the store's 1e-7 degree), written into a fresh LMDB track store. Measured:

- payload bytes per point of one binary chunk (docs/protocol.md) against the same points as a JSON array of
  `{"entity", "ts", "lat", "lon"}` objects (orjson), for one entity over one hour and for a page's fetch of
  every entity over `chunk_ms` (five minutes);
- server time for a 1-entity x 1-hour fetch exactly as the socket answers it (`selectors.scope_points`:
  LMDB read, anomaly flags, then `wire.chunk_encode`), p50 over repetitions, beside the JSON encoding of
  the same points alone, and the client-side decode (numpy).

    python benchmarks/playback_wire.py                 # 50 vehicles x 2 h, 200 repetitions
    python benchmarks/playback_wire.py --vehicles 200 --reps 500

Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
_TMP = tempfile.TemporaryDirectory(prefix="playback-wire-")
os.environ["DISPATCHSCOPE_VAR_DIR"] = _TMP.name
os.environ["TRACK_STORE"] = f"lmdb://{_TMP.name}/tracks"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")

import django  # noqa: E402

django.setup()

from benchmarks.workload import T0, tracks_stored  # noqa: E402
from playback import selectors, wire  # noqa: E402
from playback.scopes import EntityScope, ScopeOpened, ScopePoints  # noqa: E402
from storage.connections import track_stores  # noqa: E402
from storage.tracks import PointBatch  # noqa: E402

DATASET = "bench"
HOUR_MS = 3_600_000


def p50(f: Callable[[], Any], reps: int) -> float:
    """Median wall time of `reps` calls, in milliseconds (after one warm-up call)."""
    f()
    xs = []
    for _ in range(reps):
        a = time.perf_counter()
        f()
        xs.append((time.perf_counter() - a) * 1000)
    return statistics.median(xs)


def load(n_veh: int, seconds: int) -> int:
    """The reference tracks into the configured (fresh) LMDB store; returns the points stored."""
    table = tracks_stored(n_veh, seconds, 1)
    names = table.column("entity").to_numpy(zero_copy_only=False)
    entities = tuple(f"courier:c{i}" for i in range(n_veh))
    batch = PointBatch(
        entity_names=entities,
        entity_codes=np.repeat(np.arange(n_veh, dtype=np.int32), seconds),
        ts=table.column("ts").to_numpy(),
        lat=table.column("lat").to_numpy(),
        lon=table.column("lon").to_numpy(),
    )
    assert names[seconds] == entities[1]
    store = track_stores["default"]
    stored = store.points_write(dataset=DATASET, batch=batch).stored
    store.compact_touched()
    return stored


def json_payload(points: ScopePoints, names: list[str]) -> bytes:
    """The same fixes as a user would otherwise send them: JSON objects, positions in degrees."""
    entity = [names[i] for i in points.entity_index.tolist()]
    lat = (points.lat_e7 / 1e7).tolist()
    lon = (points.lon_e7 / 1e7).tolist()
    rows = [
        {"entity": e, "ts": t, "lat": la, "lon": lo}
        for e, t, la, lo in zip(entity, points.ts.tolist(), lat, lon, strict=True)
    ]
    return orjson.dumps(rows)


def entity_scope(entity: str, start: int, end: int) -> ScopeOpened:
    return selectors.scope_open(scope=EntityScope(DATASET, entity, start, end), entity_limit=60)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vehicles", type=int, default=50)
    ap.add_argument("--hours", type=float, default=2)
    ap.add_argument("--reps", type=int, default=200, help="repetitions of each timed step")
    args = ap.parse_args()
    seconds = int(args.hours * 3600)
    out: dict[str, Any] = {"vehicles": args.vehicles, "seconds": seconds, "reps": args.reps}
    out["points_stored"] = load(args.vehicles, seconds)

    # One entity over one hour, as an entity scope's fetch (the hour after the first half hour).
    start, end = T0 + 1_800_000, T0 + 1_800_000 + HOUR_MS - 1
    opened = entity_scope(f"courier:c{min(7, args.vehicles - 1)}", start, end)
    fetch: dict[str, Any] = {"opened": opened, "start": start, "end": end}
    hour = selectors.scope_points(**fetch)
    chunk = wire.chunk_encode(request_id=1, points=hour)
    as_json = json_payload(hour, [e.entity for e in opened.entities])
    decoded = wire.chunk_decode(chunk)
    assert np.array_equal(decoded.ts, hour.ts)
    assert np.array_equal(decoded.lat_e7, hour.lat_e7)
    out["hour_points"] = len(hour)
    out["hour_runs"] = int(decoded.runs.shape[0])
    out["hour_binary_bytes_per_point"] = len(chunk) / len(hour)
    out["hour_json_bytes_per_point"] = len(as_json) / len(hour)
    out["hour_json_over_binary"] = len(as_json) / len(chunk)

    out["hour_server_ms_p50"] = p50(
        lambda: wire.chunk_encode(request_id=1, points=selectors.scope_points(**fetch)), args.reps
    )
    out["hour_read_ms_p50"] = p50(lambda: selectors.scope_points(**fetch), args.reps)
    out["hour_encode_ms_p50"] = p50(lambda: wire.chunk_encode(request_id=1, points=hour), args.reps)
    names = [e.entity for e in opened.entities]
    out["hour_json_encode_ms_p50"] = p50(lambda: json_payload(hour, names), args.reps)
    out["hour_decode_ms_p50"] = p50(lambda: wire.chunk_decode(chunk), args.reps)

    # A page's fetch: every vehicle over chunk_ms (5 min), read through each vehicle's track.
    window = wire.CHUNK_MS
    page_points = []
    for i in range(args.vehicles):
        scope = entity_scope(f"courier:c{i}", start, start + window - 1)
        page_points.append(selectors.scope_points(opened=scope, start=start, end=start + window - 1))
    page = ScopePoints(
        start=start,
        end=start + window - 1,
        resolution_ms=0,
        entity_index=np.concatenate([np.full(len(p), i, np.int32) for i, p in enumerate(page_points)]),
        ts=np.concatenate([p.ts for p in page_points]),
        lat_e7=np.concatenate([p.lat_e7 for p in page_points]),
        lon_e7=np.concatenate([p.lon_e7 for p in page_points]),
        flags=np.concatenate([p.flags for p in page_points]),
    )
    page_chunk = wire.chunk_encode(request_id=2, points=page)
    page_json = json_payload(page, [f"courier:c{i}" for i in range(args.vehicles)])
    out["page_points"] = len(page)
    out["page_binary_bytes_per_point"] = len(page_chunk) / len(page)
    out["page_json_bytes_per_point"] = len(page_json) / len(page)
    out["page_json_over_binary"] = len(page_json) / len(page_chunk)
    out["page_encode_ms_p50"] = p50(lambda: wire.chunk_encode(request_id=2, points=page), args.reps)
    out["page_json_encode_ms_p50"] = p50(
        lambda: json_payload(page, [f"courier:c{i}" for i in range(args.vehicles)]), args.reps
    )

    rows = [
        ("1 entity x 1 h: points", f"{out['hour_points']:,}", "", ""),
        (
            "  bytes per point",
            f"{out['hour_binary_bytes_per_point']:.3f}",
            f"{out['hour_json_bytes_per_point']:.1f}",
            f"{out['hour_json_over_binary']:.1f}x smaller",
        ),
        ("  server: read + encode, p50 ms", f"{out['hour_server_ms_p50']:.3f}", "", ""),
        ("    store read + flags, p50 ms", f"{out['hour_read_ms_p50']:.3f}", "", ""),
        (
            "    encode, p50 ms",
            f"{out['hour_encode_ms_p50']:.3f}",
            f"{out['hour_json_encode_ms_p50']:.3f}",
            f"{out['hour_json_encode_ms_p50'] / out['hour_encode_ms_p50']:.1f}x faster",
        ),
        ("  client decode (numpy), p50 ms", f"{out['hour_decode_ms_p50']:.3f}", "", ""),
        (f"{args.vehicles} entities x 5 min: points", f"{out['page_points']:,}", "", ""),
        (
            "  bytes per point",
            f"{out['page_binary_bytes_per_point']:.3f}",
            f"{out['page_json_bytes_per_point']:.1f}",
            f"{out['page_json_over_binary']:.1f}x smaller",
        ),
        (
            "  encode, p50 ms",
            f"{out['page_encode_ms_p50']:.3f}",
            f"{out['page_json_encode_ms_p50']:.3f}",
            f"{out['page_json_encode_ms_p50'] / out['page_encode_ms_p50']:.1f}x faster",
        ),
    ]
    print(f"{'measure':<34} {'binary chunk':>13} {'JSON objects':>13}  ratio")
    for label, binary, as_text, ratio in rows:
        print(f"{label:<34} {binary:>13} {as_text:>13}  {ratio}")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
