"""Fixtures for the ingest tests: a real LMDB track store and directories for the warehouse and quarantine."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from storage.kv.lmdb import LMDBStore
from storage.tracks import TrackStore

T0 = 1_700_000_000_000  # 2023-11-14T22:13:20Z


@pytest.fixture
def track_store(tmp_path: Path) -> Iterator[TrackStore]:
    kv = LMDBStore(path=tmp_path / "kv", map_size_gb=1)
    yield TrackStore(kv=kv)
    kv.close()


@pytest.fixture
def stores(tmp_path: Path, track_store: TrackStore) -> dict[str, Any]:
    """Keyword arguments of ingest_paths pointing at this test's stores."""
    return {
        "track_store": track_store,
        "warehouse_root": tmp_path / "warehouse",
        "quarantine_dir": tmp_path / "quarantine",
    }


def jsonl_write(path: Path, rows: list[Any]) -> Path:
    """Write rows as JSONL (str rows are written verbatim, e.g. broken JSON)."""
    lines = [row if isinstance(row, str) else orjson.dumps(row).decode() for row in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def quarantine_read(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def job_created(job: Any, ts: Any = T0, city: str = "nyc", **extra: Any) -> dict[str, Any]:
    return {
        "type": "job_created",
        "job": job,
        "ts": ts,
        "city": city,
        "kind": "delivery",
        "pickup": {"lat": 40.7, "lon": -74.0},
        "dropoff": {"lat": 40.71, "lon": -74.01},
        **extra,
    }


def dispatch_round(round_id: str, ts: int = T0, **extra: Any) -> dict[str, Any]:
    return {
        "type": "dispatch_round",
        "round": round_id,
        "ts": ts,
        "city": "nyc",
        "strategy": "greedy",
        "jobs": ["order:1", "order:2"],
        "candidates": [
            {"job": "order:1", "entity": "courier:1", "score": 0.9, "eta_s": 120, "distance_m": 800.0,
             "features": {"load": 1}},
            {"job": "order:1", "entity": "courier:10", "score": 0.5, "eta_s": 300.0, "distance_m": 2100.0,
             "features": {}},
            {"job": "order:2", "entity": "courier:10", "score": 0.7, "eta_s": 90.0, "distance_m": 400.0},
        ],
        "assignments": [
            {"job": "order:1", "entity": "courier:1"},
            {"job": "order:2", "entity": "courier:10"},
        ],
        **extra,
    }  # fmt: skip
