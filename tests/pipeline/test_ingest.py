"""End to end: files into a real LMDB track store and Hive-layout Parquet, quarantine, and re-runs."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.ingest import IngestError, ingest_paths
from storage.tracks import TrackStore
from tests.pipeline.conftest import T0, dispatch_round, job_created, jsonl_write, quarantine_read


def parquet_files(root: Path) -> dict[str, float]:
    return {str(p.relative_to(root)): p.stat().st_mtime_ns for p in sorted(root.rglob("*.parquet"))}


def kv_counts(store: TrackStore) -> dict[str, tuple[int, int]]:
    return {d.name: (d.points, d.events) for d in store.datasets()}


def warehouse(root: Path, table: str, sql: str = "SELECT * FROM t ORDER BY ALL") -> list[tuple[Any, ...]]:
    con = duckdb.connect()
    files = f"{root}/{table}/**/*.parquet"
    con.execute(f"CREATE VIEW t AS SELECT * FROM read_parquet('{files}', hive_partitioning = true)")
    return con.execute(sql).fetchall()


def gps_parquet(path: Path, n: int = 1000) -> Path:
    entities = np.array([f"courier:c{i % 10}" for i in range(n)])
    ts = T0 + (np.arange(n) // 10) * 1000
    lat = 40.7 + np.arange(n) * 1e-5
    table = pa.table(
        {"entity": entities, "ts": ts, "lat": lat, "lon": np.full(n, -74.0), "city": ["nyc"] * n}
    )
    # Row 501 (1-based) is implausible, row 601 repeats row 600's key at the same position (a duplicate),
    # row 701 repeats row 700's key somewhere else (a conflict).
    ts[500] = 1_700_000_000
    for dup, orig in ((600, 599), (700, 699)):
        entities[dup], ts[dup], lat[dup] = entities[orig], ts[orig], lat[orig]
    lat[700] += 0.01
    table = table.set_column(0, "entity", pa.array(entities)).set_column(1, "ts", pa.array(ts))
    table = table.set_column(2, "lat", pa.array(lat))
    pq.write_table(table, path, row_group_size=256)
    return path


def test_a_parquet_load_stores_quarantines_and_a_rerun_changes_nothing(
    tmp_path: Path, stores: dict[str, Any]
) -> None:
    path = gps_parquet(tmp_path / "gps.parquet")
    first = ingest_paths([path], dataset="prod", warehouse_gps=True, **stores)
    (summary,) = first.files
    assert (summary.kind, summary.read, summary.stored, summary.duplicates, summary.quarantined) == (
        "gps",
        1000,
        997,
        1,
        2,
    )
    assert summary.quarantine_path == tmp_path / "quarantine" / "prod" / "gps.parquet.quarantine.jsonl"
    rows = quarantine_read(summary.quarantine_path)
    assert [(r["line"], r["reason"]) for r in rows] == [
        (501, "implausible_timestamp"),
        (701, "conflicting_duplicate"),
    ]
    assert rows[1]["row"]["entity"] == "courier:c9"
    assert kv_counts(stores["track_store"]) == {"prod": (997, 0)}
    root = stores["warehouse_root"]
    assert warehouse(
        root, "gps", "SELECT count(*), count(DISTINCT entity), min(dataset), min(city) FROM t"
    ) == [(997, 10, "prod", "nyc")]
    files = parquet_files(root)
    quarantine_bytes = summary.quarantine_path.read_bytes()

    again = ingest_paths([path], dataset="prod", warehouse_gps=True, **stores)
    (summary,) = again.files
    assert (summary.read, summary.stored, summary.duplicates, summary.quarantined) == (1000, 0, 998, 2)
    assert kv_counts(stores["track_store"]) == {"prod": (997, 0)}
    assert parquet_files(root) == files
    assert summary.quarantine_path is not None
    assert summary.quarantine_path.read_bytes() == quarantine_bytes  # rewritten, not appended


def test_out_of_order_fixes_are_stored_in_time_order(tmp_path: Path, stores: dict[str, Any]) -> None:
    ts = [T0 + 5000, T0 + 1000, T0 + 3000, T0, T0 + 4000]
    path = tmp_path / "late.parquet"
    pq.write_table(pa.table({"entity": ["bike:7"] * 5, "ts": ts, "lat": [1.0] * 5, "lon": [2.0] * 5}), path)
    ingest_paths([path], **stores)
    late = tmp_path / "later.parquet"
    pq.write_table(pa.table({"entity": ["bike:7"], "ts": [T0 + 2000], "lat": [1.5], "lon": [2.0]}), late)
    assert ingest_paths([late], **stores).stored == 1
    track = stores["track_store"].entity_window(dataset="default", entity="bike:7", start=T0, end=T0 + 9000)
    assert track.ts.tolist() == [T0 + i * 1000 for i in range(6)]


def test_a_csv_with_a_broken_row_in_the_middle_loads_the_rest(tmp_path: Path, stores: dict[str, Any]) -> None:
    path = tmp_path / "fixes.csv"
    lines = ["entity,ts,lat,lon,speed_mps"]
    for i in range(50):
        lines.append(f"courier:{i},{T0 + i},40.{i:02d},-74.0,3.5")
    lines.insert(26, 'courier:x,"2023-11-14T22:13:20Z",40.1')  # line 27: wrong width
    lines.insert(31, "courier:y,2023-11-14T22:13:20,40.1,-74.0,")  # line 32: a naive time
    path.write_text("\n".join(lines) + "\n")
    result = ingest_paths([path], **stores)
    assert (result.read, result.stored, result.duplicates, result.quarantined) == (52, 50, 0, 2)
    (summary,) = result.files
    assert summary.quarantine_path is not None
    rejects = quarantine_read(summary.quarantine_path)
    assert [(r["line"], r["reason"]) for r in rejects] == [(27, "malformed_row"), (32, "bad_timestamp")]
    assert rejects[1]["row"]["entity"] == "courier:y"


def events_file(path: Path) -> Path:
    return jsonl_write(
        path,
        [
            # Lifecycle events before their job_created: out of order, the city must still be found.
            {"type": "job_assigned", "job": "order:1", "ts": T0 + 60_000, "entity": "courier:1",
             "round": "round:1", "waybill": "waybill:1"},
            {"type": "job_delivered", "job": "order:1", "ts": "2023-11-14T22:43:20Z", "entity": "courier:1"},
            job_created("order:1", zone="z1", promised_ts=T0 + 1_800_000),
            job_created("order:2", city="sfo"),
            "{not json",
            dispatch_round("round:1", ts=T0 + 30_000),
            {"type": "entity_state", "entity": "courier:1", "ts": T0, "state": "online", "capacity": 3},
            {"type": "experiment_assignment", "experiment": "eta-v2", "unit": "order:2", "variant": "b",
             "ts": T0},
            {"lat": 40.7, "lon": -74.0, "entity": "courier:1", "ts": T0},  # a GPS row among events
            {"type": "job_picked_up", "job": "order:1", "ts": T0, "entity": "courier 1"},
            {**job_created("order:3"), "dataset": "sim-a"},
            "",
            [1, 2],
        ],
    )  # fmt: skip


def test_an_events_file_fills_every_fact_table_and_quarantines_with_line_numbers(
    tmp_path: Path, stores: dict[str, Any]
) -> None:
    path = events_file(tmp_path / "events.jsonl")
    result = ingest_paths([path], dataset="prod", **stores)
    (summary,) = result.files
    assert (summary.kind, summary.read, summary.stored, summary.duplicates, summary.quarantined) == (
        "events",
        12,
        9,
        0,
        3,
    )
    assert summary.quarantine_path is not None
    rejects = quarantine_read(summary.quarantine_path)
    assert [(r["line"], r["reason"]) for r in rejects] == [
        (5, "invalid_json"),
        (10, "bad_id"),
        (13, "invalid_json"),
    ]
    assert rejects[0]["row"] == "{not json"
    assert rejects[1]["row"]["entity"] == "courier 1"
    assert "entity" in rejects[1]["detail"]

    root = stores["warehouse_root"]
    assert warehouse(root, "job_events", "SELECT dataset, city, job, type, ts FROM t ORDER BY job, ts") == [
        ("prod", "nyc", "order:1", "job_created", T0),
        ("prod", "nyc", "order:1", "job_assigned", T0 + 60_000),
        ("prod", "nyc", "order:1", "job_delivered", T0 + 1_800_000),
        ("prod", "sfo", "order:2", "job_created", T0),
        ("sim-a", "nyc", "order:3", "job_created", T0),
    ]
    assert warehouse(root, "rounds", "SELECT round, n_jobs, n_candidates, n_assignments, city FROM t") == [
        ("round:1", 2, 3, 2, "nyc")
    ]
    assert warehouse(
        root, "candidates", "SELECT job, entity, assigned, features FROM t ORDER BY job, entity"
    ) == [
        ("order:1", "courier:1", True, '{"load":1}'),
        ("order:1", "courier:10", False, "{}"),
        ("order:2", "courier:10", True, None),
    ]
    assert warehouse(root, "entity_states", "SELECT entity, state, capacity, city FROM t") == [
        ("courier:1", "online", 3, "unknown")
    ]
    assert warehouse(root, "experiment_assignments", "SELECT unit, variant, city FROM t") == [
        ("order:2", "b", "sfo")
    ]
    assert kv_counts(stores["track_store"]) == {"prod": (1, 7), "sim-a": (0, 1)}
    assert [e.type for e in stores["track_store"].job_events(dataset="prod", job="order:1")] == [
        "job_created", "dispatch_round", "job_assigned", "job_delivered"
    ]  # fmt: skip

    files = parquet_files(root)
    again = ingest_paths([path], dataset="prod", **stores)
    assert (again.read, again.stored, again.duplicates, again.quarantined) == (12, 0, 9, 3)
    assert parquet_files(root) == files
    assert kv_counts(stores["track_store"]) == {"prod": (1, 7), "sim-a": (0, 1)}


def test_a_job_event_in_a_later_load_gets_the_city_from_the_track_store(
    tmp_path: Path, stores: dict[str, Any]
) -> None:
    ingest_paths([jsonl_write(tmp_path / "a.jsonl", [job_created("order:9", city="ber")])], **stores)
    later = jsonl_write(
        tmp_path / "b.jsonl",
        [
            {"type": "job_cancelled", "job": "order:9", "ts": T0 + 5000, "reason": "customer"},
            {"type": "job_cancelled", "job": "order:404", "ts": T0 + 5000},
        ],
    )
    ingest_paths([later], **stores)
    assert warehouse(
        stores["warehouse_root"], "job_events", "SELECT job, type, city FROM t ORDER BY job, ts"
    ) == [
        ("order:404", "job_cancelled", "unknown"),
        ("order:9", "job_created", "ber"),
        ("order:9", "job_cancelled", "ber"),
    ]


def test_same_id_with_other_content_is_a_conflicting_duplicate(
    tmp_path: Path, stores: dict[str, Any]
) -> None:
    first = jsonl_write(tmp_path / "one.jsonl", [{**job_created("order:1"), "id": "ev:1"}])
    second = jsonl_write(
        tmp_path / "two.jsonl",
        [
            {**job_created("order:1"), "id": "ev:1"},
            {**job_created("order:1", city="sfo"), "id": "ev:1"},
        ],
    )
    result = ingest_paths([first, second], **stores)
    assert [(f.stored, f.duplicates, f.quarantined) for f in result.files] == [(1, 0, 0), (0, 1, 1)]
    assert result.files[1].quarantine_path is not None
    (reject,) = quarantine_read(result.files[1].quarantine_path)
    assert (reject["line"], reject["reason"], reject["row"]["city"]) == (2, "conflicting_duplicate", "sfo")
    assert warehouse(stores["warehouse_root"], "job_events", "SELECT city FROM t") == [("nyc",)]


def test_a_rerun_of_a_fixed_file_removes_its_old_quarantine_file(
    tmp_path: Path, stores: dict[str, Any]
) -> None:
    path = jsonl_write(tmp_path / "e.jsonl", [job_created("order:1"), "oops"])
    (summary,) = ingest_paths([path], **stores).files
    assert summary.quarantine_path is not None
    assert summary.quarantine_path.exists()
    jsonl_write(path, [job_created("order:1")])
    (fixed,) = ingest_paths([path], **stores).files
    assert fixed.quarantine_path is None
    assert not summary.quarantine_path.exists()
    assert (fixed.read, fixed.stored, fixed.duplicates) == (1, 0, 1)


def test_a_row_level_dataset_wins_for_gps_rows_too(tmp_path: Path, stores: dict[str, Any]) -> None:
    path = tmp_path / "mixed.parquet"
    pq.write_table(
        pa.table(
            {
                "entity": ["bike:1", "bike:1"],
                "ts": [T0, T0],
                "lat": [1.0, 1.0],
                "lon": [2.0, 2.0],
                "dataset": ["sim-x", None],
            }
        ),
        path,
    )
    result = ingest_paths([path], dataset="prod", warehouse_gps=True, **stores)
    assert (result.stored, result.duplicates) == (2, 0)  # the same key in two datasets is two fixes
    assert kv_counts(stores["track_store"]) == {"prod": (1, 0), "sim-x": (1, 0)}
    assert warehouse(stores["warehouse_root"], "gps", "SELECT dataset, city FROM t ORDER BY dataset") == [
        ("prod", "unknown"),
        ("sim-x", "unknown"),
    ]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [("missing.jsonl", None, "no such file"), ("fixes.txt", "entity,ts\n", "cannot tell the format")],
)
def test_unusable_inputs_stop_before_anything_is_written(
    tmp_path: Path, stores: dict[str, Any], name: str, content: str | None, message: str
) -> None:
    good = jsonl_write(tmp_path / "good.jsonl", [job_created("order:1")])
    if content is not None:
        (tmp_path / name).write_text(content)
    with pytest.raises(IngestError, match=message):
        ingest_paths([good, tmp_path / name], **stores)
    assert kv_counts(stores["track_store"]) == {}


def test_a_bad_dataset_option_is_refused(tmp_path: Path, stores: dict[str, Any]) -> None:
    good = jsonl_write(tmp_path / "good.jsonl", [job_created("order:1")])
    with pytest.raises(IngestError, match="dataset"):
        ingest_paths([good], dataset="../up", **stores)


def test_a_file_that_is_not_parquet_is_an_error_naming_it(tmp_path: Path, stores: dict[str, Any]) -> None:
    path = tmp_path / "fake.parquet"
    path.write_text("not parquet")
    with pytest.raises(IngestError, match=r"fake\.parquet"):
        ingest_paths([path], **stores)


def test_gps_rows_in_jsonl_and_gzipped_csv_load_and_conflict_like_any_other(
    tmp_path: Path, stores: dict[str, Any]
) -> None:
    csv_path = tmp_path / "fixes.csv.gz"
    with gzip.open(csv_path, "wt") as handle:
        handle.write(f"entity,ts,lat,lon\nbike:1,{T0},1.0,2.0\nbike:1,{T0 + 1000},1.1,2.0\n")
    jsonl_path = jsonl_write(
        tmp_path / "fixes.jsonl",
        [
            {"entity": "bike:1", "ts": T0, "lat": 1.0, "lon": 2.0},  # duplicate of the CSV's first fix
            {
                "entity": "bike:1",
                "ts": "2023-11-14T22:13:21Z",
                "lat": 1.2,
                "lon": 2.0,
            },  # conflict with its second
            {"entity": "bike:1", "ts": T0 + 2000, "lat": 1.3, "lon": 2.0},
        ],
    )
    result = ingest_paths([csv_path, jsonl_path], **stores)
    assert [(f.kind, f.read, f.stored, f.duplicates, f.quarantined) for f in result.files] == [
        ("gps", 2, 2, 0, 0),
        ("gps", 3, 1, 1, 1),
    ]
    assert result.files[1].quarantine_path is not None
    (reject,) = quarantine_read(result.files[1].quarantine_path)
    assert (reject["line"], reject["reason"], reject["row"]["lat"]) == (2, "conflicting_duplicate", 1.2)


def test_inputs_with_the_same_name_keep_separate_quarantine_files(
    tmp_path: Path, stores: dict[str, Any]
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = jsonl_write(tmp_path / "a" / "events.jsonl", ["broken a"])
    second = jsonl_write(tmp_path / "b" / "events.jsonl", ["broken b", "broken b again"])
    result = ingest_paths([first, second], **stores)
    paths = [f.quarantine_path for f in result.files if f.quarantine_path is not None]
    assert len(paths) == 2
    assert paths[0] != paths[1]
    assert [len(quarantine_read(p)) for p in paths] == [1, 2]


def test_the_progress_bar_goes_to_stderr_only_when_asked(
    tmp_path: Path, stores: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    path = jsonl_write(tmp_path / "events.jsonl", [job_created("order:1")])
    ingest_paths([path], **stores)
    assert capsys.readouterr().err == ""
    ingest_paths([path], progress=True, **stores)
    assert "events.jsonl" in capsys.readouterr().err


def test_a_corrupt_gzip_stream_is_an_error_naming_the_file(tmp_path: Path, stores: dict[str, Any]) -> None:
    path = tmp_path / "events.jsonl.gz"
    path.write_bytes(b"\x1f\x8b\x08\x00 definitely not deflate data")
    with pytest.raises(IngestError, match=r"events\.jsonl\.gz"):
        ingest_paths([path], **stores)


def test_a_corrupt_gzipped_csv_is_an_error_naming_the_file(tmp_path: Path, stores: dict[str, Any]) -> None:
    path = tmp_path / "fixes.csv.gz"
    good = gzip.compress(b"entity,ts,lat,lon\n" + b"bike:1,1700000000000,1.0,2.0\n" * 5000)
    path.write_bytes(good[:40] + b"\x00" * 64 + good[104:])
    with pytest.raises(IngestError, match=r"fixes\.csv\.gz"):
        ingest_paths([path], **stores)


def test_a_rerun_restores_warehouse_rows_a_dead_load_never_wrote(
    tmp_path: Path, stores: dict[str, Any]
) -> None:
    path = events_file(tmp_path / "events.jsonl")
    overlap = jsonl_write(
        tmp_path / "more.jsonl", [job_created("order:2", city="sfo"), job_created("order:3")]
    )
    ingest_paths([path, overlap], dataset="prod", **stores)
    root = stores["warehouse_root"]
    everything = {t: warehouse(root, t) for t in ("job_events", "rounds", "candidates", "entity_states")}
    files = sorted(p.relative_to(root) for p in root.rglob("*.parquet"))
    # A load that died after its track-store writes: the warehouse lacks files; a plain re-run writes them.
    shutil.rmtree(root / "job_events")
    again = ingest_paths([path, overlap], dataset="prod", **stores)
    assert again.stored == 0
    assert {t: warehouse(root, t) for t in everything} == everything
    assert sorted(p.relative_to(root) for p in root.rglob("*.parquet")) == files

    result = ingest_paths([path, overlap], dataset="prod", rebuild_warehouse=True, **stores)
    assert result.stored == 0
    assert {t: warehouse(root, t) for t in everything} == everything
    assert sorted(p.relative_to(root) for p in root.rglob("*.parquet")) == files
    ingest_paths([path, overlap], dataset="prod", rebuild_warehouse=True, **stores)
    assert {t: warehouse(root, t) for t in everything} == everything


def test_rebuilding_refuses_the_gps_table(tmp_path: Path, stores: dict[str, Any]) -> None:
    with pytest.raises(IngestError, match="rebuild"):
        ingest_paths(
            [gps_parquet(tmp_path / "g.parquet")], rebuild_warehouse=True, warehouse_gps=True, **stores
        )
