"""Two ingest processes (real OS processes, spawned) loading one LMDB store at the same time.

Disjoint entities: every count and every stored fix is exactly right. The same entities: every read is
right and the counts stay within the bounds docs/storage.md states.
"""

from __future__ import annotations

import multiprocessing
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from storage.kv.lmdb import LMDBStore
from storage.track_codec import degrees_to_e7
from storage.tracks import Box, TrackStore
from tests.pipeline.conftest import T0, job_created, jsonl_write

SPAWN = multiprocessing.get_context("spawn")


@dataclass
class Counts:
    """What one process's loads of one kind reported, summed over its files."""

    read: int = 0
    stored: int = 0
    duplicates: int = 0
    quarantined: int = 0


BOX = Box(39.8, 116.3, 40.1, 116.6)
Fixes = dict[tuple[str, int], tuple[float, float]]  # (entity, ts) -> (lat, lon)


def _ingest(store_dir: str, paths: list[str], work: str, barrier: Any, results: Any) -> None:
    """One ingest process: open the store, wait for the other, load `paths` one file at a time."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
    import django

    django.setup()
    from pipeline.ingest import ingest_paths

    kv = LMDBStore(path=store_dir, map_size_gb=1)
    try:
        store = TrackStore(kv)
        barrier.wait(timeout=120)
        totals = {"gps": Counts(), "events": Counts()}
        # One load per file, as a feed of small files arrives: many writes, many increments.
        for path in paths:
            summary = ingest_paths(
                [Path(path)], dataset="prod", track_store=store,
                warehouse_root=Path(work) / "warehouse", quarantine_dir=Path(work) / "quarantine",
            )  # fmt: skip
            for file in summary.files:
                counts = totals[file.kind]
                counts.read += file.read
                counts.stored += file.stored
                counts.duplicates += file.duplicates
                counts.quarantined += file.quarantined
        results.put(totals)
    finally:
        kv.close()


def _run_two(store_dir: Path, work: Path, loads: list[list[Path]]) -> list[dict[str, Counts]]:
    barrier = SPAWN.Barrier(len(loads))
    results = SPAWN.Queue()
    processes = [
        SPAWN.Process(
            target=_ingest,
            args=(str(store_dir), [str(p) for p in paths], str(work / f"w{i}"), barrier, results),
        )
        for i, paths in enumerate(loads)
    ]
    for process in processes:
        process.start()
    out = [results.get(timeout=300) for _ in processes]
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    return out


def _fixes(entities: range, seconds: range, prefix: str = "courier:c") -> Fixes:
    """A deterministic fix for every (entity, second): the same (entity, ts) always has the same position."""
    out = {}
    for e in entities:
        rng = np.random.default_rng(e)
        lat = 39.9 + (e % 7) * 0.004 + np.cumsum(rng.normal(0, 4e-5, 3600))
        lon = 116.4 + (e // 7) * 0.004 + np.cumsum(rng.normal(0, 4e-5, 3600))
        for s in seconds:
            out[(f"{prefix}{e}", T0 + s * 1000)] = (float(lat[s]), float(lon[s]))
    return out


def _gps_files(directory: Path, name: str, fixes: Fixes, minutes: list[int]) -> list[Path]:
    """One Parquet file per minute of `fixes`, in the order of `minutes`."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for minute in minutes:
        rows = [(e, t, la, lo) for (e, t), (la, lo) in fixes.items() if (t - T0) // 60_000 == minute]
        if not rows:
            continue
        path = directory / f"{name}-{minute:03d}.parquet"
        pq.write_table(
            pa.table({
                "entity": [r[0] for r in rows], "ts": [r[1] for r in rows], "lat": [r[2] for r in rows],
                "lon": [r[3] for r in rows], "city": ["bj"] * len(rows),
            }),
            path,
        )  # fmt: skip
        paths.append(path)
    return paths


def _event_files(directory: Path, name: str, jobs: range, per_file: int) -> list[Path]:
    paths = []
    for start in range(jobs.start, jobs.stop, per_file):
        events = [
            job_created(f"order:o{j}", ts=T0 + j, city="bj")
            for j in range(start, min(start + per_file, jobs.stop))
        ]
        paths.append(jsonl_write(directory / f"{name}-{start}.jsonl", events))
    return paths


def _assert_reads(store: TrackStore, fixes: Fixes) -> None:
    """Every entity window and the box read hold exactly these fixes, each once."""
    by_entity: dict[str, list[tuple[int, float, float]]] = {}
    for (entity, ts), (lat, lon) in sorted(fixes.items()):
        by_entity.setdefault(entity, []).append((ts, lat, lon))
    for entity, want in by_entity.items():
        track = store.entity_window(dataset="prod", entity=entity, start=T0, end=T0 + 3_600_000)
        assert track.ts.tolist() == [w[0] for w in want]
        assert track.lat_e7.tolist() == degrees_to_e7([w[1] for w in want]).tolist()
        assert track.lon_e7.tolist() == degrees_to_e7([w[2] for w in want]).tolist()
    last = max(ts for _, ts in fixes)
    box = store.box_window(dataset="prod", box=BOX, start=T0, end=last)
    pairs = [(box.entities[e], int(t)) for e, t in zip(box.entity_index, box.ts, strict=True)]
    assert sorted(pairs) == sorted(fixes)


def test_disjoint_entities_count_and_store_every_fix_exactly(tmp_path: Path) -> None:
    first = _fixes(range(0, 12), range(0, 1200))
    second = _fixes(range(100, 112), range(0, 1200))
    minutes = list(range(20))
    loads = [
        _gps_files(tmp_path / "in", "a", first, minutes)
        + _event_files(tmp_path / "in", "a", range(0, 60), 4),
        _gps_files(tmp_path / "in", "b", second, minutes)
        + _event_files(tmp_path / "in", "b", range(60, 120), 4),
    ]

    results = _run_two(tmp_path / "store", tmp_path, loads)

    assert sorted((r["gps"], r["events"]) for r in results) == [
        (Counts(len(first), len(first)), Counts(60, 60)),
        (Counts(len(second), len(second)), Counts(60, 60)),
    ]
    kv = LMDBStore(path=tmp_path / "store", map_size_gb=1)
    store = TrackStore(kv)
    ((name, points, events),) = [(d.name, d.points, d.events) for d in store.datasets()]
    assert (name, points, events) == ("prod", len(first) + len(second), 120)
    _assert_reads(store, first | second)
    assert all(len(store.job_events(dataset="prod", job=f"order:o{j}")) == 1 for j in range(120))
    kv.close()


def test_the_same_entities_read_right_and_counts_stay_within_the_overlap(tmp_path: Path) -> None:
    fixes_a = _fixes(range(0, 16), range(0, 1200))
    fixes_b = _fixes(range(8, 24), range(600, 1800))
    overlap = fixes_a.keys() & fixes_b.keys()
    assert len(overlap) == 8 * 600
    loads = [
        # Both start on the minutes they share, so their reads of the store race.
        _gps_files(tmp_path / "in", "a", fixes_a, [*range(10, 20), *range(0, 10)])
        + _event_files(tmp_path / "in", "a", range(0, 40), 5),
        _gps_files(tmp_path / "in", "b", fixes_b, [*range(10, 20), *range(20, 30)])
        + _event_files(tmp_path / "in", "b", range(0, 40), 5),
    ]

    results = _run_two(tmp_path / "store", tmp_path, loads)

    # Every row is stored or a duplicate (the overlapping fixes agree, so nothing is a conflict).
    for counts in (r[kind] for r in results for kind in ("gps", "events")):
        assert (counts.stored + counts.duplicates, counts.quarantined) == (counts.read, 0)
    stored_points = sum(r["gps"].stored for r in results)
    stored_events = sum(r["events"].stored for r in results)
    kv = LMDBStore(path=tmp_path / "store", map_size_gb=1)
    store = TrackStore(kv)
    union = fixes_a | fixes_b
    _assert_reads(store, union)
    assert all(len(store.job_events(dataset="prod", job=f"order:o{j}")) == 1 for j in range(40))
    ((points, events),) = [(d.points, d.events) for d in store.datasets()]
    # No increment is lost: a count is the sum of what the writers reported stored ...
    assert (points, events) == (stored_points, stored_events)
    # ... and a fix or event that both stored before either saw the other's is counted twice, at most.
    assert len(union) <= points <= len(union) + len(overlap)
    assert 40 <= events <= 80
    kv.close()
