"""Warehouse benchmark: every named query on DuckDB and on the real Trino and PrestoDB, over the same files.

It writes a synthetic day of job lifecycles (`--jobs` jobs, seven events each, two cities) through the
pipeline's Parquet writer, registers the root with each running engine (the DDL `manage.py warehouse_ddl`
prints), and prints the p50 of `--reps` runs of each named query per engine, then one JSON line. The
engines are the single-node ones `make engines-up` starts: this measures one machine, not a cluster.

    python benchmarks/warehouse.py --jobs 200000 --reps 5
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from storage.warehouse.base import Warehouse
from storage.warehouse.duckdb import DuckDBWarehouse
from storage.warehouse.parquet import write_fact_table
from storage.warehouse.schema import TABLE_SCHEMAS

DAY_MS = 1_772_409_600_000  # 2026-03-02T00:00:00Z
LIFECYCLE = (
    "job_created",
    "job_assigned",
    "job_accepted",
    "job_arrived_pickup",
    "job_picked_up",
    "job_delivered",
    "job_cancelled",
)


def job_events(jobs: int, *, seed: int = 7) -> pa.Table:
    """`jobs` jobs of one day in berlin and paris, each created, assigned, accepted, picked up, delivered."""
    rng = np.random.default_rng(seed)
    created = DAY_MS + rng.integers(0, 86_000_000, jobs)
    steps = np.cumsum(rng.integers(20_000, 600_000, (jobs, len(LIFECYCLE) - 1)), axis=1)
    rows: dict[str, list[Any]] = {field.name: [] for field in TABLE_SCHEMAS["job_events"]}
    rows |= {"dataset": [], "city": []}
    for j in range(jobs):
        city = "berlin" if j % 3 else "paris"
        lat, lon = (52.52, 13.40) if city == "berlin" else (48.85, 2.35)
        for step, kind in enumerate(LIFECYCLE[:-1] if j % 17 else LIFECYCLE[:2] + LIFECYCLE[-1:]):
            ts = int(created[j] + (steps[j, step - 1] if step else 0))
            created_row = step == 0
            values = {
                "event_id": f"e{j}-{step}",
                "type": kind,
                "job": f"order:{j}",
                "ts": ts,
                "entity": None if created_row else f"courier:c{j % 500}",
                "round": f"round:r{j // 10}" if kind == "job_assigned" else None,
                "waybill": None if created_row else f"w{j}",
                "reason": None,
                "kind": "delivery" if created_row else None,
                "zone": f"z{j % 12}" if created_row else None,
                "pickup_lat": lat + rng.normal(0, 0.02) if created_row else None,
                "pickup_lon": lon + rng.normal(0, 0.02) if created_row else None,
                "dropoff_lat": lat + rng.normal(0, 0.02) if created_row else None,
                "dropoff_lon": lon + rng.normal(0, 0.02) if created_row else None,
                "promised_ts": int(created[j]) + 2_400_000 if created_row else None,
                "ready_ts": int(created[j]) + 600_000 if created_row else None,
                "attrs": None,
                "dataset": "bench",
                "city": city,
            }
            for name, value in values.items():
                rows[name].append(value)
    schema = pa.schema(
        [*TABLE_SCHEMAS["job_events"], pa.field("dataset", pa.string()), pa.field("city", pa.string())]
    )
    return pa.Table.from_pydict(rows, schema=schema)


CASES: list[tuple[str, dict[str, Any]]] = [
    ("dataset_counts", {}),
    ("jobs_view", {}),
    ("job_events", {"dataset": "bench", "job": "order:4242"}),
    ("entity_jobs", {"dataset": "bench", "entity": "courier:c42"}),
    ("city_day_jobs", {"dataset": "bench", "city": "paris", "day": "2026-03-02", "order": "delivery_s"}),
    ("job_row", {"dataset": "bench", "job": "order:4242"}),
    ("job_find", {f"job{i}": f"order:{i * 1000}" for i in range(1, 9)}),
]


def p50_ms(warehouse: Warehouse, name: str, params: dict[str, Any], reps: int) -> tuple[float, int]:
    """The median wall time of `reps` runs after one warm-up run, and the rows it returned."""
    rows = len(warehouse.query(name, **params).frame)
    times = []
    for _ in range(reps):
        started = time.perf_counter()
        warehouse.query(name, **params)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=200_000)
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    from tests.engines import require_engine, running_engine_state
    from tests.storage.warehouse.real_engines import engine_schema

    out: dict[str, Any] = {"jobs": args.jobs}
    with tempfile.TemporaryDirectory(prefix="dispatchscope-wh-bench-") as tmp, ExitStack() as stack:
        root = Path(tmp)
        events = job_events(args.jobs)
        write_fact_table(root=root, table="job_events", rows=events)
        out["job_events_rows"] = events.num_rows
        print(f"workload: {events.num_rows:,} job events of {args.jobs:,} jobs", file=sys.stderr)
        warehouses: dict[str, Warehouse] = {"duckdb": DuckDBWarehouse.from_options({"root": str(root)})}
        for engine in ("trino", "presto"):
            if running_engine_state(engine) is None:
                print(f"{engine}: not running (make engines-up); left out", file=sys.stderr)
                continue
            warehouses[engine] = stack.enter_context(
                engine_schema(require_engine(engine), root, label="bench")
            )
        names = list(warehouses)
        print(f"{'query':<16}" + "".join(f"{n + ' p50 ms':>16}" for n in names) + f"{'rows':>10}")
        for name, params in CASES:
            cells = []
            rows = 0
            for engine, warehouse in warehouses.items():
                median, rows = p50_ms(warehouse, name, params, args.reps)
                out[f"{engine}_{name}_p50_ms"] = round(median, 1)
                cells.append(f"{median:>16.1f}")
            print(f"{name:<16}" + "".join(cells) + f"{rows:>10}")
        for warehouse in warehouses.values():
            warehouse.close()
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main()
