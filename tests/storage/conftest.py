from collections.abc import Iterator
from pathlib import Path

import pytest

from storage.kv.base import SortedKV
from storage.tracks import TrackStore
from tests.storage.backends import KV_BACKENDS


@pytest.fixture(params=sorted(KV_BACKENDS))
def kv(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SortedKV]:
    with KV_BACKENDS[request.param](tmp_path) as store:
        yield store


@pytest.fixture
def track_store(kv: SortedKV) -> TrackStore:
    return TrackStore(kv)
