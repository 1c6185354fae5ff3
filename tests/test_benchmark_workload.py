"""The benchmarks' own workload generator makes exactly the points of the shared reference script."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from benchmarks import workload

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "bench" / "anchor_tracks.py"


@pytest.mark.parametrize(("n_veh", "seconds", "seed"), [(40, 300, 1), (25, 200, 2), (3, 7, 9)])
def test_the_generator_matches_the_reference_point_for_point(n_veh: int, seconds: int, seed: int) -> None:
    if not REFERENCE.exists():
        pytest.skip(f"SKIPPED: the shared reference workload {REFERENCE} is not beside this checkout")
    spec = importlib.util.spec_from_file_location("anchor_tracks", REFERENCE)
    assert spec is not None
    assert spec.loader is not None
    reference = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(reference)
    assert workload.tracks(n_veh, seconds, seed).equals(reference.tracks(n_veh, seconds, seed))


def test_the_named_sets_are_the_reference_sizes() -> None:
    assert workload.ENTITY_SET == {"n_veh": 2000, "seconds": 7200, "seed": 1}
    assert workload.BOX_SET == {"n_veh": 10_000, "seconds": 1200, "seed": 2}
    small = workload.tracks_stored(2, 3, 1)
    assert small.num_rows == 6
    assert small.column("ts").to_pylist()[:3] == [workload.T0, workload.T0 + 1000, workload.T0 + 2000]
