"""Fixtures shared by every test package."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings

from storage.connections import track_stores
from storage.tracks import TrackStore

# The real engines' session fixtures (hbase_engine, trino_engine, presto_engine).
pytest_plugins = ["tests.engines"]


@pytest.fixture(autouse=True)
def isolated_stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Every test gets empty stores of its own, whatever a developer's `var/` holds after `make demo`."""
    root = tmp_path_factory.mktemp("stores")
    with override_settings(
        TRACK_STORES={
            "default": {
                "BACKEND": "storage.kv.lmdb.LMDBStore",
                "OPTIONS": {"path": str(root / "tracks"), "map_size_gb": 1},
            }
        },
        WAREHOUSES={
            "default": {
                "BACKEND": "storage.warehouse.duckdb.DuckDBWarehouse",
                "OPTIONS": {"root": str(root / "warehouse")},
            }
        },
        WAREHOUSE_ROOT=root / "warehouse",
        QUARANTINE_DIR=root / "quarantine",
    ):
        yield


@pytest.fixture
def configured_track_store(tmp_path: Path) -> Iterator[TrackStore]:
    """settings.TRACK_STORES pointed at a fresh LMDB directory; yields the store domain code will use."""
    config: dict[str, Any] = {
        "default": {
            "BACKEND": "storage.kv.lmdb.LMDBStore",
            "OPTIONS": {"path": str(tmp_path / "tracks"), "map_size_gb": 1},
        }
    }
    with override_settings(TRACK_STORES=config):
        yield track_stores["default"]
