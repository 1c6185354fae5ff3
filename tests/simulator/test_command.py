from io import StringIO

import orjson
import pyarrow.parquet as pq
import pytest
from django.core.management import CommandError, call_command

from tests.simulator.conftest import read_events


def _run(*args):
    out = StringIO()
    call_command("simulate", *args, "--no-progress", stdout=out)
    return out.getvalue()


def test_list_shows_scenarios_and_more_than_100_strategies():
    text = _run("--list")
    assert "food-delivery" in text
    assert "bike-sharing" in text
    assert "grid variants (104" in text
    assert "hungarian-bundle-r3-b400-k2-lp60" in text


def test_paired_run_writes_datasets_and_a_summary_table(tmp_path):
    text = _run(
        "--scenario",
        "food-delivery",
        "--strategies",
        "nearest,greedy",
        "--hours",
        "0.5",
        "--couriers",
        "30",
        "--seed",
        "7",
        "--out",
        str(tmp_path),
    )
    assert "summary:" in text
    rows = pq.read_table(tmp_path / "summary.parquet").to_pylist()
    assert [(r["dataset"], r["strategy"]) for r in rows] == [
        ("sim-food-delivery-greedy-7", "greedy"),
        ("sim-food-delivery-nearest-7", "nearest"),
    ]
    assert all(r["jobs"] > 0 and r["gps_points"] > 0 for r in rows)
    assert (tmp_path / "sim-food-delivery-greedy-7" / "incidents.json").exists()


def test_ab_design_splits_orders_between_strategies_in_one_dataset(tmp_path):
    _run(
        "--strategies",
        "nearest,hungarian",
        "--design",
        "ab",
        "--hours",
        "0.5",
        "--couriers",
        "30",
        "--out",
        str(tmp_path),
    )
    events = read_events(tmp_path / "sim-food-delivery-ab-1" / "events.jsonl")
    variants = {e["unit"]: e["variant"] for e in events if e["type"] == "experiment_assignment"}
    assert set(variants.values()) == {"nearest", "hungarian"}
    assert {e["strategy"] for e in events if e["type"] == "dispatch_round"} == {"nearest", "hungarian"}
    for r in (e for e in events if e["type"] == "dispatch_round"):
        assert all(variants[j] == r["strategy"] for j in r["jobs"])
    rows = pq.read_table(tmp_path / "summary.parquet").to_pylist()
    assert sorted(r["strategy"] for r in rows) == ["hungarian", "nearest"]


def test_switchback_design_assigns_city_zone_slot_cells(tmp_path):
    _run(
        "--strategies",
        "nearest,hungarian",
        "--design",
        "switchback",
        "--hours",
        "1",
        "--couriers",
        "30",
        "--out",
        str(tmp_path),
    )
    events = read_events(tmp_path / "sim-food-delivery-switchback-1" / "events.jsonl")
    cells = [e for e in events if e["type"] == "experiment_assignment"]
    assert cells
    for cell in cells:
        city, zone, slot = cell["unit"].split("|")
        assert city == "riverside"
        assert zone.startswith("z")
        assert int(slot) % 1_800_000 == 0
        assert int(slot) == cell["ts"]
    assert len({c["unit"] for c in cells}) == len(cells)


def test_bad_parameters_are_a_command_error_with_ranges(tmp_path):
    with pytest.raises(CommandError, match=r"hours=99.0 \(valid 0.1..24\)"):
        _run("--hours", "99", "--out", str(tmp_path))
    with pytest.raises(CommandError, match="unknown strategy"):
        _run("--strategies", "nearest,fastest", "--out", str(tmp_path))


def test_bike_sharing_writes_bikes_and_trucks(tmp_path):
    _run(
        "--scenario",
        "bike-sharing",
        "--strategies",
        "hungarian",
        "--hours",
        "1",
        "--couriers",
        "200",
        "--out",
        str(tmp_path),
    )
    folder = tmp_path / "sim-bike-sharing-hungarian-1"
    entities = set(pq.read_table(folder / "gps.parquet", columns=["entity"]).column("entity").to_pylist())
    assert any(e.startswith("bike:") for e in entities)
    assert any(e.startswith("truck:") for e in entities)
    kinds = {e.get("kind") for e in read_events(folder / "events.jsonl") if e["type"] == "job_created"}
    assert kinds == {"ride", "rebalance"}
    manifest = orjson.loads((folder / "incidents.json").read_bytes())
    assert "dry_area" in manifest["counts"]
