from pathlib import Path
from typing import Any

import pytest

from simulator.batch import SimulationOutput, simulate

SMALL = {"hours": 1.0, "couriers": 60, "merchants": 80}


@pytest.fixture(scope="session")
def small_run(tmp_path_factory) -> SimulationOutput:
    """nearest and hungarian on the same small food-delivery demand (paired design)."""
    out = tmp_path_factory.mktemp("sim")
    return simulate(
        scenario="food-delivery", strategies=["nearest", "hungarian"], out_dir=out, overrides=SMALL
    )


def read_events(path: Path) -> list[dict[str, Any]]:
    import orjson

    return [orjson.loads(line) for line in path.read_bytes().splitlines()]
