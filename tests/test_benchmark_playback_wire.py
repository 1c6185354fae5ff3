"""The playback wire benchmark still runs and still measures what docs/benchmarks.md quotes (a tiny run)."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_benchmark_prints_a_table_and_one_json_line():
    done = subprocess.run(
        [sys.executable, "benchmarks/playback_wire.py", "--vehicles", "3", "--hours", "1.6", "--reps", "3"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    lines = done.stdout.strip().splitlines()
    assert lines[0].startswith("measure")
    figures = json.loads(lines[-1])
    assert figures["hour_points"] == 3600
    assert figures["hour_runs"] == 1
    assert figures["hour_binary_bytes_per_point"] < 7.1
    assert figures["hour_json_over_binary"] > 8
