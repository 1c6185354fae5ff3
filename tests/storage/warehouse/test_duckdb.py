"""DuckDBWarehouse beyond the shared contract: empty and growing roots, bad roots, threads, DuckDB dialect."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pyarrow as pa
import pytest
import sqlglot

from storage.warehouse.base import WarehouseError
from storage.warehouse.duckdb import DuckDBWarehouse
from storage.warehouse.parquet import write_fact_table
from storage.warehouse.schema import PARTITION_COLUMNS, TABLE_SCHEMAS, TABLES
from tests.storage.warehouse.fixtures import PROD, fixture_rows, fixture_warehouse_write, utc_ms


@pytest.fixture
def empty_warehouse(tmp_path):
    warehouse = DuckDBWarehouse(root=tmp_path / "warehouse")
    yield warehouse
    warehouse.close()


def test_from_options_reads_root(tmp_path):
    fixture_warehouse_write(root=tmp_path)
    warehouse = DuckDBWarehouse.from_options({"root": str(tmp_path), "host": "", "port": 0})
    try:
        assert warehouse.engine == warehouse.dialect == "duckdb"
        assert warehouse.root == tmp_path
        assert len(warehouse.query("dataset_counts").frame) == 3
    finally:
        warehouse.close()


def test_from_options_without_root_names_the_setting():
    with pytest.raises(WarehouseError, match="check the WAREHOUSE setting"):
        DuckDBWarehouse.from_options({"root": ""})


def test_root_that_is_a_file_names_the_setting(tmp_path):
    not_a_dir = tmp_path / "warehouse"
    not_a_dir.write_text("oops")
    with pytest.raises(WarehouseError, match="not a readable directory; check the WAREHOUSE setting"):
        DuckDBWarehouse(root=not_a_dir)


@pytest.mark.parametrize("table", TABLES)
def test_tables_without_files_are_empty_with_their_columns(empty_warehouse, table):
    frame = empty_warehouse.execute(f"SELECT * FROM {table}")
    assert frame.empty
    assert list(frame.columns) == [*TABLE_SCHEMAS[table].names, *PARTITION_COLUMNS]


def test_named_queries_run_on_an_empty_root(empty_warehouse):
    assert empty_warehouse.query("dataset_counts").frame.empty
    jobs = empty_warehouse.query("jobs_view").frame
    assert jobs.empty
    assert "late" in jobs.columns
    assert empty_warehouse.query("job_events", dataset=PROD, job="order:b1").frame.empty
    assert empty_warehouse.query("city_day_jobs", dataset=PROD, city="berlin", day="2026-03-02").frame.empty


def test_a_table_without_files_beside_tables_with_files(tmp_path):
    write_fact_table(root=tmp_path, table="job_events", rows=fixture_rows("job_events"))
    warehouse = DuckDBWarehouse(root=tmp_path)
    try:
        counts = warehouse.query("dataset_counts").frame
        assert counts["rounds"].tolist() == [0, 0]
        assert counts["events"].tolist() == [26, 5]
        assert warehouse.execute("SELECT count(*) AS n FROM gps")["n"].tolist() == [0]
    finally:
        warehouse.close()


def test_refresh_shows_a_table_first_files(empty_warehouse):
    fixture_warehouse_write(root=empty_warehouse.root)
    assert empty_warehouse.query("dataset_counts").frame.empty
    empty_warehouse.refresh()
    assert empty_warehouse.query("dataset_counts").frame["dataset"].tolist() == [
        "prod",
        "sim-lunch-nearest-7",
        "sim-rounds-only-1",
    ]
    assert len(empty_warehouse.query("jobs_view").frame) == 6


def test_new_files_of_a_table_with_files_are_visible_at_once(tmp_path):
    fixture_warehouse_write(root=tmp_path)
    warehouse = DuckDBWarehouse(root=tmp_path)
    try:
        rows = fixture_rows("rounds")
        later = rows.set_column(rows.schema.get_field_index("dataset"), "dataset", pa.array(["later"] * 8))
        write_fact_table(root=tmp_path, table="rounds", rows=later)
        counts = warehouse.query("dataset_counts").frame
        # Relabelled to one dataset, the fixture's three rounds named r-1 are one round: six distinct rounds.
        assert counts.set_index("dataset").loc["later", "rounds"] == 6
    finally:
        warehouse.close()


def test_files_removed_under_the_warehouse_fail_clearly_then_refresh_recovers(tmp_path):
    write_fact_table(root=tmp_path, table="gps", rows=fixture_rows("gps"))
    warehouse = DuckDBWarehouse(root=tmp_path)
    try:
        for path in (tmp_path / "gps").rglob("*.parquet"):
            path.unlink()
        with pytest.raises(WarehouseError, match="check the WAREHOUSE setting"):
            warehouse.execute("SELECT * FROM gps")
        warehouse.refresh()
        assert warehouse.execute("SELECT * FROM gps").empty
    finally:
        warehouse.close()


def test_partition_values_stay_text(tmp_path):
    rows = fixture_rows("gps")
    rows = rows.set_column(rows.schema.get_field_index("city"), "city", pa.array(["0100"] * rows.num_rows))
    write_fact_table(root=tmp_path, table="gps", rows=rows)
    warehouse = DuckDBWarehouse(root=tmp_path)
    try:
        frame = warehouse.execute("SELECT DISTINCT dataset, dt, city FROM gps")
        assert frame.to_dict("records") == [{"dataset": "prod", "dt": "2026-03-02", "city": "0100"}]
        assert all(str(dtype) == "string" for dtype in frame.dtypes)
    finally:
        warehouse.close()


def test_concurrent_queries_from_many_threads(tmp_path):
    fixture_warehouse_write(root=tmp_path)
    warehouse = DuckDBWarehouse(root=tmp_path)
    barrier = threading.Barrier(8)

    def run(n: int) -> list[str]:
        barrier.wait()
        jobs = []
        for _ in range(10):
            frame = warehouse.query("city_day_jobs", dataset=PROD, city="berlin", day="2026-03-02").frame
            jobs.append(",".join(frame["job"]))
        return jobs

    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(run, range(8)))
        assert {job for result in results for job in result} == {"order:b1,order:b2,order:o'brien"}
    finally:
        warehouse.close()


def test_closed_warehouse_refuses_queries(tmp_path):
    warehouse = DuckDBWarehouse(root=tmp_path)
    warehouse.close()
    with pytest.raises(WarehouseError, match="closed"):
        warehouse.query("dataset_counts")
    warehouse.close()  # closing twice is harmless


# Presto functions metric SQL relies on, with Presto's answer; sqlglot's DuckDB text must give the same.
PRESTO_PROBES = [
    ("date_format(from_unixtime(1772495999999 / 1000), '%Y-%m-%d %H:%i:%s')", "2026-03-02 23:59:59"),
    ("date_format(from_unixtime(1772496000000 / 1000), '%Y-%m-%d')", "2026-03-03"),
    ("to_unixtime(from_iso8601_timestamp('2026-03-03T00:00:00Z'))", 1772496000.0),
    (
        "date_diff('day', DATE '1970-01-01', CAST('2026-03-03' AS DATE)) * 86400000",
        utc_ms("2026-03-03", "00:00:00"),
    ),
    ("round(2 * 6371008.8 * asin(sqrt(power(sin(radians(52.53 - 52.52) / 2), 2))), 3)", 1111.951),
    ("round(cos(radians(60)), 12)", 0.5),
    ("CAST(7 AS DOUBLE) / 2", 3.5),
    ("greatest(3, 7)", 7),
    ("coalesce(NULL, 'x')", "x"),
    ("max_by(v, k) FROM (VALUES (1, 'a'), (3, 'c'), (2, 'b')) AS t(k, v)", "c"),
    ("count(*) FILTER (WHERE k > 1) FROM (VALUES 1, 2, 3) AS t(k)", 2),
    ("approx_percentile(k, 0.5) FROM (VALUES 1, 2, 3) AS t(k)", 2),
    ("arbitrary(k) FROM (VALUES 5) AS t(k)", 5),
]


@pytest.mark.parametrize(("presto", "expected"), PRESTO_PROBES)
def test_presto_functions_run_on_duckdb_after_transpiling(empty_warehouse, presto, expected):
    duck = sqlglot.transpile(f"SELECT {presto}", read="presto", write="duckdb")[0]
    value = empty_warehouse.execute(duck).iloc[0, 0]
    if isinstance(expected, float):
        assert value == pytest.approx(expected)
    else:
        assert value == expected


def test_hugeint_aggregates_come_back_as_int64(empty_warehouse):
    # DuckDB's sum of integers and count_if are HUGEINT; pages must see the same Int64 Presto gives.
    frame = empty_warehouse.execute(
        "SELECT sum(k) AS total, count_if(k > 1) AS big FROM (VALUES (1), (2), (3)) AS t(k)"
    )
    assert frame.to_dict("records") == [{"total": 6, "big": 2}]
    assert [str(dtype) for dtype in frame.dtypes] == ["Int64", "Int64"]
