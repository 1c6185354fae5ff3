"""simulation_load takes a run's road graph (`roads.json` beside its events) into the track store."""

from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from experiments.services import RunToLoad, simulation_load

pytestmark = pytest.mark.django_db
T0 = 1_700_000_000_000
ROADS = {
    "city": "riverside",
    "timezone": "Asia/Shanghai",
    "classes": ["primary"],
    "nodes": [[31.2, 121.4], [31.21, 121.41]],
    "edges": [[0, 1, "primary"]],
}


def run_files(folder: Path, *, roads: bool) -> RunToLoad:
    folder.mkdir()
    event = {"type": "entity_state", "entity": "courier:c1", "ts": T0, "state": "online"}
    (folder / "events.jsonl").write_bytes(orjson.dumps(event) + b"\n")
    table = pa.table({"entity": ["courier:c1"], "ts": [T0], "lat": [31.2], "lon": [121.4]})
    pq.write_table(table, folder / "gps.parquet")
    (folder / "incidents.json").write_bytes(orjson.dumps({"incidents": []}))
    if roads:
        (folder / "roads.json").write_bytes(orjson.dumps(ROADS))
    return RunToLoad(
        dataset=folder.name,
        events_path=folder / "events.jsonl",
        gps_path=folder / "gps.parquet",
        incidents_path=folder / "incidents.json",
    )


def test_a_runs_roads_file_is_loaded_with_it(tmp_path, configured_track_store):
    with_roads, without = (
        run_files(tmp_path / "sim-a", roads=True),
        run_files(tmp_path / "sim-b", roads=False),
    )
    done = simulation_load(runs=[with_roads, without])
    assert [[f.kind for f in run.summary.files] for run in done.runs] == [
        ["events", "gps", "city"],
        ["events", "gps"],
    ]
    stored = configured_track_store.city_get(dataset="sim-a")
    assert stored is not None
    assert orjson.loads(stored)["timezone"] == "Asia/Shanghai"
    assert configured_track_store.city_get(dataset="sim-b") is None
