"""Simulator speed: one big run (2,000 couriers × 2 h at 1 Hz, ~20,000 orders) and 100 strategy variants
(300 couriers × 1 h each) on two worker processes. Prints the figures; not a timed test.

Run: .venv/bin/python benchmarks/simulator.py [--out DIR] [--variants N] [--skip-big] [--skip-variants]
Targets from the issue: the big run in ≤ 60 s, the 100 variants in ≤ 10 min on two cores. After the big run
its GPS is loaded into a fresh LMDB track store and the stored bytes per point are printed beside those of
the reference workload (benchmarks/workload.py, a smooth random walk), loaded the same way.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from simulator.batch import simulate
from simulator.strategies.registry import strategy_variants


def _size_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6


def stored_bytes_per_point(gps_path: Path, work: Path) -> tuple[float, float, int]:
    """Bytes per point of the track table, and with the cell index, after ingesting `gps_path`."""
    from pipeline.ingest import ingest_paths
    from storage.kv.lmdb import LMDBStore
    from storage.tracks import TrackStore

    kv = LMDBStore(path=work / "store", map_size_gb=32)
    summary = ingest_paths(
        [gps_path],
        dataset="bench",
        track_store=TrackStore(kv),
        warehouse_root=work / "wh",
        quarantine_dir=work / "q",
    )
    track, cell = kv.size_bytes("track"), kv.size_bytes("cell")
    return track / summary.stored, (track + cell) / summary.stored, summary.stored


def stored_bytes(big_out: Path) -> None:
    """The simulated (noisy, realistic) tracks' stored size beside the reference workload's."""
    import os

    import django
    import pyarrow.parquet as pq

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
    django.setup()
    from benchmarks.workload import ENTITY_SET, tracks

    gps = next(big_out.rglob("gps.parquet"))
    work = Path(tempfile.mkdtemp(prefix="simbytes-"))
    try:
        sim_track, sim_all, sim_n = stored_bytes_per_point(gps, work / "sim")
        reference = work / "reference.parquet"
        pq.write_table(tracks(ENTITY_SET["n_veh"], 3600, seed=ENTITY_SET["seed"]), reference)
        ref_track, ref_all, ref_n = stored_bytes_per_point(reference, work / "ref")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{'stored bytes per GPS point':<30} {'track table':>12} {'with cell index':>16} {'points':>12}")
    print(f"{'simulated couriers (big run)':<30} {sim_track:>12.2f} {sim_all:>16.2f} {sim_n:>12,}")
    print(f"{'reference workload (anchor)':<30} {ref_track:>12.2f} {ref_all:>16.2f} {ref_n:>12,}")


def big_run(out: Path) -> None:
    """2,000 couriers for 2 hours at 1 Hz with about 20,000 orders, greedy-by-ETA dispatch."""
    overrides = {
        "couriers": 2000,
        "hours": 2.0,
        "orders_per_courier_hour": 5.0,
        "capacity": 4,
        "merchants": 2000,
        "city.width_km": 14.0,
        "city.height_km": 12.0,
        "search_radius_km": 3.0,
        "eta_budget": 1_000_000,
        "round_interval_s": 60,
    }
    started = time.perf_counter()
    output = simulate(scenario="food-delivery", strategies=["greedy"], out_dir=out, overrides=overrides)
    seconds = time.perf_counter() - started
    row = output.rows[0]
    run = output.runs[0]
    print(
        f"big run: {row.jobs} orders, {run.gps_points / 1e6:.2f} M GPS points, {run.events} events, "
        f"{_size_mb(out):.0f} MB written in {seconds:.1f} s (target ≤ 60 s) — "
        f"{run.gps_points / seconds / 1e6:.2f} M points/s; mean delivery {row.mean_delivery_min:.1f} min, "
        f"utilisation {row.utilisation:.2f}, failed rounds {row.failed_rounds}"
    )


def variants_run(out: Path, count: int) -> None:
    """`count` grid variants, each 300 couriers × 1 h on the same demand, on two worker processes."""
    names = list(strategy_variants())[:count]
    started = time.perf_counter()
    output = simulate(
        scenario="food-delivery",
        strategies=names,
        out_dir=out,
        overrides={"couriers": 300, "hours": 1.0},
        workers=2,
    )
    seconds = time.perf_counter() - started
    points = sum(r.gps_points for r in output.runs)
    best = min(output.rows, key=lambda r: r.mean_delivery_min or float("inf"))
    worst = max(output.rows, key=lambda r: r.mean_delivery_min or 0.0)
    print(
        f"variants: {len(output.runs)} datasets + summary ({len(output.rows)} rows), "
        f"{points / 1e6:.1f} M GPS points, {_size_mb(out):.0f} MB in {seconds:.1f} s (target ≤ 600 s) — "
        f"{seconds / len(names):.2f} s per variant; best {best.strategy} {best.mean_delivery_min:.1f} min, "
        f"worst {worst.strategy} {worst.mean_delivery_min:.1f} min"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=None, help="keep the output here (default: a temp dir)")
    parser.add_argument("--variants", type=int, default=100)
    parser.add_argument("--skip-big", action="store_true")
    parser.add_argument("--skip-variants", action="store_true")
    args = parser.parse_args()
    root = args.out or Path(tempfile.mkdtemp(prefix="simbench-"))
    try:
        if not args.skip_big:
            big_run(root / "big")
            stored_bytes(root / "big")
        if not args.skip_variants:
            variants_run(root / "variants", args.variants)
    finally:
        if args.out is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
