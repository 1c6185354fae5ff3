"""Nothing lost: a load killed between its track-store and warehouse writes, re-run, leaves both stores
complete; overlapping loads leave every warehouse row once."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from pipeline.ingest import ingest_paths
from storage.kv.lmdb import LMDBStore
from storage.tracks import TrackStore
from tests.pipeline.conftest import T0, dispatch_round, job_created, jsonl_write
from tests.pipeline.test_ingest import gps_parquet, kv_counts, warehouse

ROOT = Path(__file__).resolve().parents[2]
TABLES = ("job_events", "rounds", "candidates", "entity_states", "gps")

# Runs the real pipeline in another process and kills it (no cleanup, no finally blocks: os._exit) the
# moment it is about to write its first warehouse file, after the track store took the batch.
KILLED_LOAD = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    import django
    django.setup()
    import pipeline.ingest as ingest
    from storage.kv.lmdb import LMDBStore
    from storage.tracks import TrackStore

    def killed(**kwargs):
        os._exit(137)

    ingest.write_fact_table = killed
    work = Path(sys.argv[1])
    store = TrackStore(LMDBStore(path=work / "kv", map_size_gb=1))
    ingest.ingest_paths(
        [Path(p) for p in sys.argv[2:]], dataset="prod", track_store=store, warehouse_root=work / "warehouse",
        quarantine_dir=work / "quarantine", warehouse_gps=True,
    )
    """
)


def _inputs(tmp_path: Path) -> list[Path]:
    events = jsonl_write(
        tmp_path / "events.jsonl",
        [
            job_created("order:1", zone="z1", promised_ts=T0 + 1_800_000),
            job_created("order:2", city="sfo"),
            dispatch_round("round:1", ts=T0 + 30_000),
            {"type": "job_assigned", "job": "order:1", "ts": T0 + 60_000, "entity": "courier:1"},
            {"type": "entity_state", "entity": "courier:1", "ts": T0, "state": "online"},
        ],
    )
    return [events, gps_parquet(tmp_path / "gps.parquet")]


def _load(work: Path, inputs: list[Path]) -> tuple[dict[str, tuple[int, int]], dict[str, list[Any]]]:
    kv = LMDBStore(path=work / "kv", map_size_gb=1)
    store = TrackStore(kv)
    try:
        ingest_paths(
            inputs,
            dataset="prod",
            track_store=store,
            warehouse_root=work / "warehouse",
            quarantine_dir=work / "quarantine",
            warehouse_gps=True,
        )
        counts = kv_counts(store)
    finally:
        kv.close()
    root = work / "warehouse"
    return counts, {t: warehouse(root, t) for t in TABLES if (root / t).exists()}


def test_a_load_killed_between_the_two_writes_and_rerun_leaves_both_stores_complete(tmp_path: Path) -> None:
    inputs = _inputs(tmp_path)
    clean = _load(tmp_path / "clean", inputs)

    work = tmp_path / "killed"
    work.mkdir()
    died = subprocess.run(
        [sys.executable, "-c", KILLED_LOAD, str(work), *map(str, inputs)],
        cwd=ROOT,
        env={"DJANGO_SETTINGS_MODULE": "dashboard.settings", "DISPATCHSCOPE_VAR_DIR": str(tmp_path / "var")},
        capture_output=True,
        check=False,
    )
    assert died.returncode == 137, died.stderr.decode()
    assert not list((work / "warehouse").rglob("*.parquet")), "the kill came before any warehouse file"

    rerun = _load(work, inputs)
    assert rerun == clean
    assert sum(len(rows) for rows in clean[1].values()) > 1000


def test_overlapping_loads_leave_each_warehouse_row_once(tmp_path: Path) -> None:
    first = jsonl_write(tmp_path / "a.jsonl", [job_created("order:1"), job_created("order:2")])
    second = jsonl_write(tmp_path / "b.jsonl", [job_created("order:2"), job_created("order:3")])
    _, _ = _load(tmp_path / "w", [first])
    counts, _ = _load(tmp_path / "w", [second, first])
    assert counts == {"prod": (0, 3)}
    jobs = warehouse(tmp_path / "w" / "warehouse", "job_events", "SELECT job FROM t ORDER BY job")
    assert jobs == [("order:1",), ("order:2",), ("order:3",)]
    files = list((tmp_path / "w" / "warehouse" / "job_events").rglob("*.parquet"))
    assert len(files) == 1, "one partition, compacted to one file"
