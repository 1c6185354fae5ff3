"""The Presto/Trino DDL over the Parquet layout: snapshots per engine, its structure, and the command.

A snapshot mismatch fails with a diff; `UPDATE_SNAPSHOTS=1 pytest tests/storage/warehouse` rewrites them.
"""

from __future__ import annotations

import difflib
import io
import os
import re
from pathlib import Path

import pytest
import sqlglot
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from sqlglot import exp

from storage.warehouse.ddl import ENGINES, ddl_render, ddl_statements, jobs_view_sql, local_location
from storage.warehouse.presto import PrestoWarehouse
from storage.warehouse.schema import PARTITION_COLUMNS, TABLE_SCHEMAS, TABLES
from tests.servers.presto_server import presto_server

SNAPSHOT_DIR = Path(__file__).with_name("snapshots")
LOCATION = "s3://dispatch-lake/warehouse"
LOCAL_ROOT = Path("/srv/dispatchscope/warehouse")


@pytest.mark.parametrize(
    ("engine", "where"), [(engine, where) for engine in ENGINES for where in ("remote", "local")]
)
def test_ddl_matches_snapshot(engine: str, where: str) -> None:
    location = LOCATION if where == "remote" else local_location(engine=engine, path=LOCAL_ROOT)
    ddl = ddl_render(engine=engine, location=location, catalog="hive", schema="dispatch")
    name = "warehouse_ddl" if where == "remote" else "warehouse_ddl_local"
    path = SNAPSHOT_DIR / f"{name}.{engine}.sql"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        path.write_text(ddl, encoding="utf-8")
    assert path.exists(), f"no snapshot {path.name}; run with UPDATE_SNAPSHOTS=1 to write it"
    expected = path.read_text(encoding="utf-8")
    if ddl != expected:
        diff = "\n".join(
            difflib.unified_diff(expected.splitlines(), ddl.splitlines(), path.name, "rendered", lineterm="")
        )
        pytest.fail(
            f"warehouse DDL for {engine} differs from its snapshot (UPDATE_SNAPSHOTS=1 to accept):\n{diff}"
        )


@pytest.mark.parametrize("engine", ENGINES)
def test_every_table_is_external_parquet_partitioned_by_the_path_columns(engine: str) -> None:
    statements = ddl_statements(engine=engine, location=LOCATION + "/", catalog="hive", schema="dispatch")
    creates = [sqlglot.parse_one(s, read=engine) for s in statements if s.startswith("CREATE TABLE")]
    assert [create.this.this.name for create in creates] == list(TABLES)
    for create in creates:
        table = create.this.this.name
        assert create.this.this.sql(dialect=engine) == f"hive.dispatch.{table}"
        columns = [column.name for column in create.this.expressions]
        # File columns in file order, then the partition columns last and in path order (a Hive rule).
        assert columns == [*TABLE_SCHEMAS[table].names, *PARTITION_COLUMNS]
        properties = [p.sql(dialect=engine).lower() for p in create.args["properties"].expressions]
        assert properties == [
            f"external_location='{LOCATION}/{table}'",
            "format='parquet'",
            "partitioned_by=array['dataset', 'dt', 'city']",
        ]


@pytest.mark.parametrize("engine", ENGINES)
def test_statements_run_in_order_schema_tables_syncs_view(engine: str) -> None:
    statements = ddl_statements(engine=engine, location=LOCATION, catalog="lake", schema="dispatch")
    kinds = [" ".join(s.split()[:3]) for s in statements]
    assert kinds[0] == "CREATE SCHEMA IF"
    assert statements[0].endswith(f"WITH (location = '{LOCATION}')")
    for index, table in enumerate(TABLES):
        assert statements[1 + 2 * index].startswith(f"CREATE TABLE IF NOT EXISTS lake.dispatch.{table} (")
        assert statements[2 + 2 * index] == (
            f"CALL lake.system.sync_partition_metadata('dispatch', '{table}', 'FULL')"
        )
    assert statements[-1].startswith("CREATE OR REPLACE VIEW lake.dispatch.jobs AS\n")
    assert len(statements) == 2 + 2 * len(TABLES)


@pytest.mark.parametrize("engine", ENGINES)
def test_the_jobs_view_reads_only_qualified_fact_tables(engine: str) -> None:
    view = sqlglot.parse_one(jobs_view_sql(engine=engine, catalog="hive", schema="dispatch"), read=engine)
    ctes = {cte.alias for cte in view.find_all(exp.CTE)}
    tables = {table.sql(dialect=engine) for table in view.find_all(exp.Table) if table.name not in ctes}
    assert tables == {"hive.dispatch.job_events"}


def test_the_jobs_view_body_gives_the_jobs_view_rows(warehouse_root: Path) -> None:
    with presto_server(warehouse_root) as server:
        warehouse = PrestoWarehouse(
            host=server.host, port=server.port, user="u", catalog="hive", schema="dispatch"
        )
        from_ddl = warehouse.execute(jobs_view_sql(engine="presto", catalog="hive", schema="dispatch"))
        from_view = warehouse.execute("SELECT * FROM jobs")
    key = ["dataset", "job"]
    assert (
        from_ddl.sort_values(key)
        .reset_index(drop=True)
        .equals(from_view.sort_values(key).reset_index(drop=True))
    )


def test_values_are_quoted_and_names_checked() -> None:
    ddl = ddl_render(engine="trino", location="s3://bucket/o'neil", catalog="hive", schema="dispatch")
    assert "external_location = 's3://bucket/o''neil/gps'" in ddl
    with pytest.raises(ValueError, match="catalog 'hive; DROP' must be a plain SQL identifier"):
        ddl_statements(engine="presto", location=LOCATION, catalog="hive; DROP", schema="dispatch")
    assert ddl_statements(engine="trino", location=LOCATION, catalog="Hive", schema="Dispatch")[0] == (
        f"CREATE SCHEMA IF NOT EXISTS hive.dispatch WITH (location = '{LOCATION}')"
    )
    with pytest.raises(ValueError, match="must be a URI"):
        ddl_statements(engine="presto", location="relative/dir", catalog="hive", schema="dispatch")
    with pytest.raises(ValueError, match="unknown engine 'mysql'"):
        ddl_statements(engine="mysql", location=LOCATION, catalog="hive", schema="dispatch")


@pytest.mark.parametrize("engine", ENGINES)
def test_command_prints_the_ddl_for_the_configured_root_and_schema(engine: str, tmp_path: Path) -> None:
    warehouses = {"default": {"BACKEND": "x", "OPTIONS": {"catalog": "lake", "schema": "ops"}}}
    out = io.StringIO()
    with override_settings(WAREHOUSE_ROOT=tmp_path, WAREHOUSES=warehouses):
        call_command("warehouse_ddl", "--engine", engine, stdout=out)
    location = local_location(engine=engine, path=tmp_path)
    expected = ddl_render(engine=engine, location=location, catalog="lake", schema="ops")
    assert out.getvalue() == expected
    scheme = "local" if engine == "trino" else "file"
    assert location == f"{scheme}://{tmp_path.resolve().as_posix()}"
    assert re.search(rf"external_location = '{re.escape(location)}/job_events'", out.getvalue())
    # A local warehouse's schema has no location: Presto's file metastore refuses one.
    assert "CREATE SCHEMA IF NOT EXISTS lake.ops;" in out.getvalue()


def test_local_location_is_what_each_connector_reads() -> None:
    assert local_location(engine="trino", path=Path("/srv/w")) == "local:///srv/w"
    assert local_location(engine="presto", path=Path("/srv/w")) == "file:///srv/w"
    with pytest.raises(ValueError, match="unknown engine"):
        local_location(engine="hive", path=Path("/srv/w"))


def test_command_options_override_the_settings() -> None:
    out = io.StringIO()
    call_command(
        "warehouse_ddl",
        "--engine",
        "trino",
        "--location",
        LOCATION,
        "--catalog",
        "hive",
        "--schema",
        "d2",
        stdout=out,
    )
    assert out.getvalue() == ddl_render(engine="trino", location=LOCATION, catalog="hive", schema="d2")


def test_command_rejects_a_bad_name_without_a_traceback() -> None:
    with pytest.raises(CommandError, match="must be a plain SQL identifier"):
        call_command("warehouse_ddl", "--engine", "presto", "--schema", "Bad-Name", stdout=io.StringIO())
    with pytest.raises(CommandError, match="invalid choice: 'hive'"):
        call_command("warehouse_ddl", "--engine", "hive", stdout=io.StringIO())
