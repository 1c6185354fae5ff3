"""write_fact_table: Hive layout, content-named files, idempotent rewrites, validation."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from storage.warehouse.parquet import write_fact_table
from storage.warehouse.schema import PARTITION_COLUMNS, TABLE_SCHEMAS, TABLES
from tests.storage.warehouse.fixtures import fixture_rows, fixture_warehouse_write, utc_ms


def parquet_files(root):
    return sorted(path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file())


def assignments(*rows: tuple[str, str, int], dataset: str = "prod", city: str = "berlin") -> pa.Table:
    schema = pa.schema(
        [*TABLE_SCHEMAS["experiment_assignments"], ("dataset", pa.string()), ("city", pa.string())]
    )
    return pa.Table.from_pylist(
        [
            {"event_id": event_id, "experiment": "exp", "unit": unit, "variant": "control", "ts": ts,
             "dataset": dataset, "city": city}
            for event_id, unit, ts in rows
        ],
        schema=schema,
    )  # fmt: skip


def test_schema_whitelist_and_partition_columns():
    assert set(TABLES) == {
        "job_events",
        "rounds",
        "candidates",
        "entity_states",
        "experiment_assignments",
        "gps_anomalies",
        "gps",
    }
    assert PARTITION_COLUMNS == ("dataset", "dt", "city")
    for schema in TABLE_SCHEMAS.values():
        assert not set(PARTITION_COLUMNS) & set(schema.names)


def test_files_land_in_hive_partitions_without_partition_columns(tmp_path):
    summary = write_fact_table(root=tmp_path, table="job_events", rows=fixture_rows("job_events"))
    files = parquet_files(tmp_path)
    assert summary.files_written == len(files) == 4
    assert summary.rows == fixture_rows("job_events").num_rows
    assert {path.rsplit("/", 1)[0] for path in files} == {
        "job_events/dataset=prod/dt=2026-03-02/city=berlin",
        "job_events/dataset=prod/dt=2026-03-02/city=paris",
        "job_events/dataset=prod/dt=2026-03-03/city=berlin",
        "job_events/dataset=sim-lunch-nearest-7/dt=2026-03-02/city=berlin",
    }
    for path in files:
        assert path.rsplit("/", 1)[1].startswith("part-")
        stored = pq.read_table(tmp_path / path)
        assert stored.schema.names == TABLE_SCHEMAS["job_events"].names
        assert stored.schema.field("ts").type == pa.int64()


def test_rows_inside_a_file_are_sorted_by_time(tmp_path):
    write_fact_table(root=tmp_path, table="job_events", rows=fixture_rows("job_events"))
    for path in (tmp_path / "job_events").rglob("*.parquet"):
        ts = pq.read_table(path)["ts"].to_pylist()
        assert ts == sorted(ts)


def test_rewriting_the_same_rows_changes_nothing(tmp_path):
    first = fixture_warehouse_write(root=tmp_path)
    files = parquet_files(tmp_path)
    contents = {path: (tmp_path / path).read_bytes() for path in files}
    mtimes = {path: (tmp_path / path).stat().st_mtime_ns for path in files}
    second = fixture_warehouse_write(root=tmp_path)
    assert parquet_files(tmp_path) == files
    assert {path: (tmp_path / path).read_bytes() for path in files} == contents
    assert {path: (tmp_path / path).stat().st_mtime_ns for path in files} == mtimes
    for table, summary in second.items():
        assert summary.files_written == 0
        assert summary.files_unchanged == first[table].files_written
        assert summary.rows == first[table].rows


def test_same_rows_in_another_order_give_the_same_file(tmp_path):
    rows = fixture_rows("candidates")
    write_fact_table(root=tmp_path / "a", table="candidates", rows=rows)
    reversed_rows = rows.take(pa.array(range(rows.num_rows - 1, -1, -1)))
    summary = write_fact_table(root=tmp_path / "b", table="candidates", rows=reversed_rows)
    assert parquet_files(tmp_path / "a") == parquet_files(tmp_path / "b")
    for path in parquet_files(tmp_path / "a"):
        assert (tmp_path / "a" / path).read_bytes() == (tmp_path / "b" / path).read_bytes()
    assert summary.files_written == 4


def test_same_rows_written_twice_in_one_root_report_unchanged(tmp_path):
    rows = assignments(("e1", "order:1", utc_ms("2026-03-02", "10:00:00")))
    assert write_fact_table(root=tmp_path, table="experiment_assignments", rows=rows).files_written == 1
    again = write_fact_table(root=tmp_path, table="experiment_assignments", rows=rows)
    assert (again.files_written, again.files_unchanged, again.rows) == (0, 1, 1)
    assert len(parquet_files(tmp_path)) == 1


def test_different_rows_make_a_new_file_beside_the_old(tmp_path):
    ts = utc_ms("2026-03-02", "10:00:00")
    write_fact_table(root=tmp_path, table="experiment_assignments", rows=assignments(("e1", "order:1", ts)))
    before = parquet_files(tmp_path)
    summary = write_fact_table(
        root=tmp_path, table="experiment_assignments", rows=assignments(("e2", "order:2", ts))
    )
    after = parquet_files(tmp_path)
    assert summary.files_written == 1
    assert len(after) == 2
    assert set(before) < set(after)


def test_dt_is_the_utc_date_of_ts_at_midnight(tmp_path):
    rows = assignments(
        ("last", "order:1", utc_ms("2026-03-02", "23:59:59.999")),
        ("first", "order:2", utc_ms("2026-03-03", "00:00:00")),
    )
    write_fact_table(root=tmp_path, table="experiment_assignments", rows=rows)
    by_dir = {
        path.parent.relative_to(tmp_path).as_posix(): pq.read_table(path)["event_id"].to_pylist()
        for path in tmp_path.rglob("*.parquet")
    }
    assert by_dir == {
        "experiment_assignments/dataset=prod/dt=2026-03-02/city=berlin": ["last"],
        "experiment_assignments/dataset=prod/dt=2026-03-03/city=berlin": ["first"],
    }


def test_no_temp_files_are_left_behind(tmp_path):
    fixture_warehouse_write(root=tmp_path)
    assert all(path.endswith(".parquet") for path in parquet_files(tmp_path))


def test_empty_rows_write_nothing(tmp_path):
    summary = write_fact_table(root=tmp_path, table="experiment_assignments", rows=assignments())
    assert (summary.files_written, summary.files_unchanged, summary.rows) == (0, 0, 0)
    assert parquet_files(tmp_path) == []


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("city", "../etc"),
        ("city", "ber lin"),
        ("city", "berlin/mitte"),
        ("city", "berlin.x"),
        ("city", ""),
        ("city", "x" * 33),
        ("dataset", "prod/../../x"),
        ("dataset", ".."),
        ("dataset", "a=b"),
        ("dataset", "sim run"),
    ],
)
def test_unsafe_partition_values_are_rejected(tmp_path, column, value):
    kwargs = {column: value}
    rows = assignments(("e1", "order:1", utc_ms("2026-03-02", "10:00:00")), **kwargs)
    with pytest.raises(ValueError, match=f"{column} .* is not a safe partition value"):
        write_fact_table(root=tmp_path, table="experiment_assignments", rows=rows)
    assert parquet_files(tmp_path) == []


def test_dataset_names_may_hold_dots_dashes_underscores(tmp_path):
    rows = assignments(("e1", "order:1", utc_ms("2026-03-02", "10:00:00")), dataset="sim-a_b.v2-7")
    write_fact_table(root=tmp_path, table="experiment_assignments", rows=rows)
    assert parquet_files(tmp_path)[0].startswith("experiment_assignments/dataset=sim-a_b.v2-7/dt=2026-03-02/")


def test_unknown_table_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="unknown fact table 'jobs'"):
        write_fact_table(root=tmp_path, table="jobs", rows=fixture_rows("job_events"))


def test_missing_and_unexpected_columns_are_named(tmp_path):
    rows = fixture_rows("rounds").drop_columns(["strategy"]).append_column("dt", pa.array(["x"] * 8))
    with pytest.raises(ValueError, match="missing columns strategy; unexpected columns dt"):
        write_fact_table(root=tmp_path, table="rounds", rows=rows)


def test_wrong_type_is_named(tmp_path):
    rows = fixture_rows("rounds")
    rows = rows.set_column(rows.schema.get_field_index("n_jobs"), "n_jobs", pa.array(["many"] * 8))
    with pytest.raises(ValueError, match=r"rounds\.n_jobs must be int32"):
        write_fact_table(root=tmp_path, table="rounds", rows=rows)


def test_null_in_required_column_is_named(tmp_path):
    rows = fixture_rows("job_events")
    types = rows["type"].to_pylist()
    types[3] = None
    rows = rows.set_column(rows.schema.get_field_index("type"), "type", pa.array(types, pa.string()))
    with pytest.raises(
        ValueError, match=r"job_events\.type must not be null \(1 null rows, first at row 3\)"
    ):
        write_fact_table(root=tmp_path, table="job_events", rows=rows)


def test_compatible_types_are_cast(tmp_path):
    rows = fixture_rows("rounds")
    rows = rows.set_column(rows.schema.get_field_index("n_jobs"), "n_jobs", rows["n_jobs"].cast(pa.int64()))
    write_fact_table(root=tmp_path, table="rounds", rows=rows)
    stored = pq.read_table(next((tmp_path / "rounds").rglob("*.parquet")))
    assert stored.schema.field("n_jobs").type == pa.int32()
