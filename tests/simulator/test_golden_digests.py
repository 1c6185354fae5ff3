"""The simulator's output, pinned: SHA-256 of every file of a few small runs (each scenario and design).

A refactor must leave these unchanged; a deliberate change to what the simulator writes regenerates them
(`python -m tests.simulator.test_golden_digests`) in the same commit, saying why.
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from simulator.batch import simulate

GOLDEN = Path(__file__).with_name("golden_digests.json")

#: name → simulate() arguments; small enough to run in a few seconds each.
RUNS: dict[str, dict[str, Any]] = {
    "food-delivery-paired": {
        "scenario": "food-delivery",
        "strategies": ["nearest", "hungarian-bundle"],
        "design": "paired",
        "overrides": {"hours": 0.5, "couriers": 40, "merchants": 50, "seed": 11},
    },
    "food-delivery-ab": {
        "scenario": "food-delivery",
        "strategies": ["greedy", "postpone"],
        "design": "ab",
        "overrides": {"hours": 0.5, "couriers": 40, "merchants": 50, "seed": 12},
    },
    "food-delivery-switchback": {
        "scenario": "food-delivery",
        "strategies": ["nearest", "hungarian"],
        "design": "switchback",
        "overrides": {"hours": 1.0, "couriers": 40, "merchants": 50, "seed": 13},
    },
    "bike-sharing-paired": {
        "scenario": "bike-sharing",
        "strategies": ["nearest", "greedy"],
        "design": "paired",
        "overrides": {"hours": 0.5, "bikes": 120, "trucks": 3, "areas": 8, "seed": 14},
    },
    "bike-sharing-switchback": {
        "scenario": "bike-sharing",
        "strategies": ["nearest", "hungarian"],
        "design": "switchback",
        "overrides": {"hours": 1.0, "bikes": 120, "trucks": 3, "areas": 8, "seed": 15},
    },
}


def run_digests(name: str, out_dir: Path) -> dict[str, str]:
    """SHA-256 of every file the run `name` writes, by path relative to its output directory."""
    output = simulate(out_dir=out_dir, **RUNS[name])
    return {
        str(path.relative_to(output.out_dir)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(output.out_dir.rglob("*"))
        if path.is_file()
    }


@pytest.mark.parametrize("name", sorted(RUNS))
def test_simulator_output_is_byte_identical_to_the_pinned_digests(name: str, tmp_path: Path) -> None:
    golden = json.loads(GOLDEN.read_text())[name]
    assert run_digests(name, tmp_path) == golden


if __name__ == "__main__":
    digests = {}
    for run in sorted(RUNS):
        with tempfile.TemporaryDirectory() as tmp:
            digests[run] = run_digests(run, Path(tmp))
            print(run, len(digests[run]), "files", file=sys.stderr)
    GOLDEN.write_text(json.dumps(digests, indent=2, sort_keys=True) + "\n")
