"""Track-store benchmark: the reference workload of benchmarks/workload.py, measured side by side.

One run loads the same fixes into Dispatchscope (through the real ingest pipeline), into PostgreSQL (one row
per point, btree on (entity, ts) and (ts), read with psycopg) and reads them with DuckDB over Parquet, then
prints a table of p50 latencies, load rates and bytes per point with the ratios between them, and last one
JSON line. Positions are rounded to 1e-7 degree (the store's fixed point, and what a GPS log carries)
before any system sees them, so every system answers exactly the same question.

    python benchmarks/track_store.py --dsn "host=127.0.0.1 user=postgres dbname=postgres"
    python benchmarks/track_store.py --backend hbase   # real HBase from `make engines-up`, beside LMDB
    python benchmarks/track_store.py --backend hbase --hbase-server test   # the in-process Thrift double
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")

import django  # noqa: E402

django.setup()

from benchmarks.workload import BOX, BOX_WINDOW, T0, tracks_stored  # noqa: E402
from pipeline.ingest import ingest_paths  # noqa: E402
from storage.kv.base import SortedKV  # noqa: E402
from storage.tracks import Box, TrackStore  # noqa: E402


def p50(f: Callable[[], Any], reps: int) -> float:
    """Median wall time of `reps` calls, in milliseconds (the anchor's p50)."""
    xs = []
    for _ in range(reps):
        a = time.perf_counter()
        f()
        xs.append((time.perf_counter() - a) * 1000)
    return statistics.median(xs)


def workload(n_veh: int, seconds: int, seed: int) -> pa.Table:
    """The reference tracks, positions rounded to the 1e-7 degree every system stores."""
    return tracks_stored(n_veh, seconds, seed)


def events_jsonl(path: Path, lines: int) -> None:
    """A generated event mix: three lines in ten are dispatch_round with ten candidates each."""
    rng = np.random.default_rng(11)
    lifecycle = ("job_created", "job_assigned", "job_accepted", "job_picked_up", "job_delivered")
    with path.open("wb") as out:
        for i in range(lines):
            ts = T0 + i * 10
            if i % 10 in (2, 5, 8):
                jobs = [f"order:o{(i + k) // 3}" for k in range(3)]
                body: dict[str, Any] = {
                    "type": "dispatch_round",
                    "id": f"round-ev:{i}",
                    "round": f"round:{i}",
                    "ts": ts,
                    "city": "bj",
                    "strategy": "hungarian",
                    "latency_ms": 80.0,
                    "jobs": jobs,
                    "candidates": [
                        {
                            "job": jobs[k % 3],
                            "entity": f"courier:c{int(rng.integers(2000))}",
                            "score": 0.5,
                            "eta_s": 300.0,
                            "distance_m": 1200.0,
                            "features": {"load": k % 3},
                            "entity_pos": {"lat": 39.9, "lon": 116.4, "ts": ts - 1000},
                        }
                        for k in range(10)
                    ],
                    "assignments": [{"job": jobs[0], "entity": "courier:c1"}],
                }
            else:
                kind = lifecycle[i % 5]
                body = {"type": kind, "id": f"ev:{i}", "job": f"order:o{i // 3}", "ts": ts, "city": "bj"}
                if kind == "job_created":
                    body |= {
                        "kind": "delivery",
                        "pickup": {"lat": 39.9, "lon": 116.4},
                        "dropoff": {"lat": 39.91, "lon": 116.42},
                        "promised_ts": ts + 1_800_000,
                    }
                else:
                    body["entity"] = f"courier:c{i % 2000}"
            out.write(orjson.dumps(body) + b"\n")


#: Which HBase `--backend hbase` measures: the real one tools/engines.py started, or the Thrift double.
HBASE_SERVER = {"which": "real"}


@contextlib.contextmanager
def kv_backend(name: str, directory: Path) -> Iterator[SortedKV]:
    """The key-value backend under test: LMDB, or happybase against real HBase (or the Thrift double)."""
    if name == "lmdb":
        from storage.kv.lmdb import LMDBStore

        yield LMDBStore(path=directory, map_size_gb=32)
        return
    from storage.kv.hbase import HBaseStore

    if HBASE_SERVER["which"] == "test":
        from tests.servers.hbase_thrift import hbase_server

        with hbase_server() as server:
            store = HBaseStore.from_options(
                {"host": server.host, "port": server.port, "prefix": directory.name}
            )
            store.create_tables()
            yield store
        return
    import happybase

    from tests.engines import require_engine

    engine = require_engine("hbase")
    options = {"host": engine.host, "port": engine.port, "prefix": f"bench_{directory.name}", **engine.extra}
    store = HBaseStore.from_options(
        {k: options[k] for k in ("host", "port", "prefix", "transport", "protocol")}
    )
    store.create_tables()
    try:
        yield store
    finally:
        store.close()
        connection = happybase.Connection(
            engine.host, engine.port, transport=store.transport, protocol=store.protocol
        )
        for table in connection.tables():
            if table.decode().startswith(f"{store.prefix}_"):
                connection.delete_table(table, disable=True)
        connection.close()


def table_bytes(kv: SortedKV, table: str) -> int:
    """Key bytes plus value bytes held in one table."""
    return sum(len(k) + len(v) for k, v in kv.scan(table, b"", None))


def load(store: TrackStore, path: Path, work: Path) -> Any:
    """Ingest one file through the real pipeline into `store`, warehouse and quarantine under `work`."""
    return ingest_paths(
        [path], dataset="bench", track_store=store, warehouse_root=work, quarantine_dir=work / "q"
    )


def ours(
    args: argparse.Namespace, backend: str, tmp: Path, entity_path: Path, box_path: Path
) -> dict[str, Any]:
    """Load and query the workload through one key-value backend; the figures, keyed like the JSON line."""
    out: dict[str, Any] = {}
    tmp = tmp / backend
    tmp.mkdir()
    with kv_backend(backend, tmp / "entity-store") as kv:
        store = TrackStore(kv)
        started = time.perf_counter()
        summary = load(store, entity_path, tmp / "wh")
        elapsed = time.perf_counter() - started
        assert summary.stored == summary.read, summary
        out["ingest_points_per_s"] = round(summary.read / elapsed)
        track = table_bytes(kv, "track")
        cell = table_bytes(kv, "cell")
        out["bytes_per_point"] = round(track / summary.read, 2)
        out["bytes_per_point_with_index"] = round((track + cell) / summary.read, 2)
        rng = np.random.default_rng(3)

        def q() -> None:
            e = f"courier:c{rng.integers(args.vehicles)}"
            s = T0 + int(rng.integers(0, 3600)) * 1000
            store.entity_window(dataset="bench", entity=e, start=s, end=s + 3_600_000)

        p50(q, 20)  # warm the page cache the way a serving process is warm
        rng = np.random.default_rng(3)
        out["entity_hour_p50_ms"] = round(p50(q, args.reps), 3)
        rerun = time.perf_counter()
        again = load(store, entity_path, tmp / "wh")
        out["reingest_stored"] = again.stored
        out["reingest_s"] = round(time.perf_counter() - rerun, 2)

    with kv_backend(backend, tmp / "box-store") as kv:
        store = TrackStore(kv)
        load(store, box_path, tmp / "wh")
        box = Box(*BOX)
        result = store.box_window(dataset="bench", box=box, start=BOX_WINDOW[0], end=BOX_WINDOW[1])
        out["box_points"] = len(result)
        out["box_blocks_read"] = result.blocks_read
        p50(lambda: store.box_window(dataset="bench", box=box, start=BOX_WINDOW[0], end=BOX_WINDOW[1]), 3)
        out["box_p50_ms"] = round(
            p50(
                lambda: store.box_window(dataset="bench", box=box, start=BOX_WINDOW[0], end=BOX_WINDOW[1]), 15
            ),
            2,
        )

    with kv_backend(backend, tmp / "events-store") as kv:
        store = TrackStore(kv)
        path = tmp / "events.jsonl"
        events_jsonl(path, args.events)
        started = time.perf_counter()
        summary = load(store, path, tmp / "wh-events")
        elapsed = time.perf_counter() - started
        assert summary.stored == args.events, summary
        assert summary.quarantined == 0, summary
        out["events_lines_per_s"] = round(args.events / elapsed)
    return out


def baselines(
    args: argparse.Namespace, tables: dict[str, pa.Table], paths: dict[str, Path], out: dict[str, Any]
) -> None:
    """PostgreSQL and DuckDB, loaded and queried exactly as the reference script does."""
    import duckdb
    import psycopg

    for name, t in tables.items():
        with psycopg.connect(args.dsn, autocommit=True) as c:
            c.execute(f"DROP TABLE IF EXISTS pts_{name}")
            c.execute(
                f"CREATE TABLE pts_{name} (id bigserial primary key, entity varchar(64), ts bigint, "
                "lat double precision, lon double precision)"
            )
            a0 = time.perf_counter()
            with c.cursor().copy(f"COPY pts_{name} (entity, ts, lat, lon) FROM STDIN") as cp:
                for b in t.to_batches(200_000):
                    d = b.to_pydict()
                    for row in zip(d["entity"], d["ts"], d["lat"], d["lon"], strict=True):
                        cp.write_row(row)
            c.execute(f"CREATE INDEX ON pts_{name} (entity, ts)")
            c.execute(f"CREATE INDEX ON pts_{name} (ts)")
            c.execute(f"ANALYZE pts_{name}")
            out[f"pg_{name}_load_pts_per_s"] = round(t.num_rows / (time.perf_counter() - a0))
            size = c.execute(f"SELECT pg_total_relation_size('pts_{name}')").fetchone()
            out[f"pg_{name}_bytes_per_point"] = round(size[0] / t.num_rows, 1) if size else None
            con = duckdb.connect()
            src = str(paths[name])
            if name == "entity":
                entity_queries(args, c, con, src, out)
            else:
                box_queries(c, con, src, out)
            c.execute(f"DROP TABLE pts_{name}")


def entity_queries(args: argparse.Namespace, c: Any, con: Any, src: str, out: dict[str, Any]) -> None:
    """The anchor's entity-hour query on PostgreSQL and DuckDB, same random windows as ours."""
    sql = "SELECT ts, lat, lon FROM pts_entity WHERE entity=%s AND ts BETWEEN %s AND %s ORDER BY ts"
    dsql = "SELECT ts, lat, lon FROM read_parquet(?) WHERE entity=? AND ts BETWEEN ? AND ? ORDER BY ts"
    rng = np.random.default_rng(3)

    def window() -> tuple[str, int, int]:
        s = T0 + int(rng.integers(0, 3600)) * 1000
        return f"courier:c{rng.integers(args.vehicles)}", s, s + 3_600_000

    out["pg_entity_hour_p50_ms"] = round(p50(lambda: c.execute(sql, window()).fetchall(), args.reps), 2)
    out["duckdb_entity_hour_p50_ms"] = round(
        p50(lambda: con.execute(dsql, [src, *window()]).fetchnumpy(), 10), 2
    )


def box_queries(c: Any, con: Any, src: str, out: dict[str, Any]) -> None:
    """The anchor's box query on PostgreSQL and DuckDB."""
    where = "ts BETWEEN %s AND %s AND lat BETWEEN %s AND %s AND lon BETWEEN %s AND %s"
    sql = f"SELECT entity, ts, lat, lon FROM pts_box WHERE {where}"
    dsql = f"SELECT entity, ts, lat, lon FROM read_parquet(?) WHERE {where.replace('%s', '?')}"
    params = (*BOX_WINDOW, BOX[0], BOX[2], BOX[1], BOX[3])
    out["pg_box_points"] = len(c.execute(sql, params).fetchall())
    out["pg_box_p50_ms"] = round(p50(lambda: c.execute(sql, params).fetchall(), 5), 1)
    out["duckdb_box_p50_ms"] = round(p50(lambda: con.execute(dsql, [src, *params]).fetchnumpy(), 5), 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vehicles", type=int, default=2000)
    ap.add_argument("--hours", type=float, default=2)
    ap.add_argument("--box-vehicles", type=int, default=10000)
    ap.add_argument("--box-minutes", type=int, default=20)
    ap.add_argument("--events", type=int, default=500_000, help="JSONL lines in the event-ingest mix")
    ap.add_argument("--reps", type=int, default=30, help="entity-hour queries per system")
    ap.add_argument("--dsn", default="host=127.0.0.1 user=postgres dbname=postgres")
    ap.add_argument("--backend", choices=("lmdb", "hbase"), default="lmdb")
    ap.add_argument(
        "--hbase-server",
        choices=("real", "test"),
        default="real",
        help="real: the HBase `make engines-up` started; test: the in-process Thrift double",
    )
    ap.add_argument("--no-baselines", action="store_true", help="skip PostgreSQL and DuckDB")
    args = ap.parse_args()
    HBASE_SERVER["which"] = args.hbase_server

    out: dict[str, Any] = {"backend": args.backend}
    with tempfile.TemporaryDirectory(prefix="dispatchscope-bench-") as tmp_name:
        tmp = Path(tmp_name)
        tables = {
            "entity": workload(args.vehicles, int(args.hours * 3600), seed=1),
            "box": workload(args.box_vehicles, args.box_minutes * 60, seed=2),
        }
        paths = {name: tmp / f"{name}.parquet" for name in tables}
        for name, t in tables.items():
            pq.write_table(t, paths[name])
        out["entity_points"] = tables["entity"].num_rows
        print(
            f"workload: {tables['entity'].num_rows:,} + {tables['box'].num_rows:,} points",
            file=sys.stderr,
        )
        out |= ours(args, "lmdb", tmp, paths["entity"], paths["box"])
        if args.backend == "hbase":
            hbase = ours(args, "hbase", tmp, paths["entity"], paths["box"])
            out |= {f"hbase_{key}": value for key, value in hbase.items()}
        if not args.no_baselines:
            baselines(args, tables, paths, out)
    if "pg_entity_hour_p50_ms" in out:
        out["entity_hour_vs_postgres"] = round(out["pg_entity_hour_p50_ms"] / out["entity_hour_p50_ms"], 1)
        out["box_vs_postgres"] = round(out["pg_box_p50_ms"] / out["box_p50_ms"], 1)
        out["entity_hour_vs_duckdb"] = round(out["duckdb_entity_hour_p50_ms"] / out["entity_hour_p50_ms"], 1)
        out["box_vs_duckdb"] = round(out["duckdb_box_p50_ms"] / out["box_p50_ms"], 1)
    measures = [
        ("entity × 1 h, p50 ms", "entity_hour_p50_ms", "pg_entity_hour_p50_ms", "duckdb_entity_hour_p50_ms"),
        ("box × 10 min, p50 ms", "box_p50_ms", "pg_box_p50_ms", "duckdb_box_p50_ms"),
        ("box points", "box_points", "pg_box_points", None),
        ("ingest, points/s", "ingest_points_per_s", "pg_entity_load_pts_per_s", None),
        ("bytes per point", "bytes_per_point", "pg_entity_bytes_per_point", None),
        ("bytes per point with index", "bytes_per_point_with_index", None, None),
        ("events ingest, lines/s", "events_lines_per_s", None, None),
    ]
    hbase = args.backend == "hbase"
    header = f"{'measure':<28} {'Dispatchscope':>14}"
    if hbase:
        header += f" {'HBase*':>15}"
    print(header + f" {'PostgreSQL':>12} {'DuckDB':>10}")
    for name, mine, pg, duck in measures:
        line = f"{name:<28} {fmt(out.get(mine)):>14}"
        if hbase:
            line += f" {fmt(out.get('hbase_' + mine)):>15}"
        print(line + f" {fmt(out.get(pg) if pg else None):>12} {fmt(out.get(duck) if duck else None):>10}")
    if hbase and args.hbase_server == "test":
        print("* happybase against the in-process HBase Thrift test server: protocol overhead, not HBase")
    elif hbase:
        print("* happybase through the Thrift gateway to a single-node HBase 2.6.1 on this machine")
    if "entity_hour_vs_postgres" in out:
        print(
            f"entity × 1 h: {out['entity_hour_vs_postgres']}× faster than PostgreSQL, "
            f"{out['entity_hour_vs_duckdb']}× than DuckDB; box: {out['box_vs_postgres']}× faster than "
            f"PostgreSQL, {out['box_vs_duckdb']}× than DuckDB"
        )
    keys = (
        "ingest_points_per_s",
        "events_lines_per_s",
        "entity_hour_p50_ms",
        "pg_entity_hour_p50_ms",
        "entity_hour_vs_postgres",
        "box_p50_ms",
        "pg_box_p50_ms",
        "box_vs_postgres",
        "box_points",
        "pg_box_points",
        "bytes_per_point",
        "bytes_per_point_with_index",
    )
    print(json.dumps({k: out.get(k) for k in keys} | {k: v for k, v in out.items() if k not in keys}))


def fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.3f}" if value < 10 else f"{value:,.1f}"
    return f"{value:,}"


if __name__ == "__main__":
    main()
