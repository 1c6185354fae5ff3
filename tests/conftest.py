"""Fixtures shared by every test package."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings

from storage.connections import track_stores
from storage.tracks import TrackStore


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
