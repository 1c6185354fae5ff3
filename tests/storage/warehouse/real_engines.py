"""Contract builders for the real Trino and PrestoDB that `tools/engines.py up` started.

Each build registers the given Parquet root as a schema of its own in the engine's Hive catalog, with the
very DDL `manage.py warehouse_ddl` prints for a local warehouse, and drops that schema (metadata only: the
tables are external) when the build ends.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from pathlib import Path

from storage.warehouse.base import Warehouse
from storage.warehouse.ddl import ddl_statements, local_location
from storage.warehouse.presto import PrestoWarehouse, TrinoWarehouse
from storage.warehouse.schema import TABLES
from tests.engines import RunningEngine, require_engine

CATALOG = "hive"


def engine_warehouse(engine: RunningEngine, schema: str) -> Warehouse:
    """A Dispatchscope warehouse backend pointed at `schema` of the running `engine`."""
    backend = TrinoWarehouse if engine.engine == "trino" else PrestoWarehouse
    options = {
        "host": engine.host,
        "port": engine.port,
        "user": "tester",
        "catalog": CATALOG,
        "schema": schema,
    }
    return backend.from_options(options)


@contextlib.contextmanager
def engine_schema(engine: RunningEngine, root: Path, *, label: str = "contract") -> Iterator[Warehouse]:
    """`root` as a fresh schema of `engine`'s Hive catalog; the schema is dropped afterwards."""
    schema = f"{label}_{uuid.uuid4().hex[:10]}"
    warehouse = engine_warehouse(engine, schema)
    location = local_location(engine=engine.engine, path=root)
    # Both engines refuse an external location that is not an existing directory.
    for table in TABLES:
        (root / table).mkdir(parents=True, exist_ok=True)
    for statement in ddl_statements(engine=engine.engine, location=location, catalog=CATALOG, schema=schema):
        warehouse.execute(statement)
    try:
        yield warehouse
    finally:
        with contextlib.suppress(Exception):  # an engine stopped by a fault test drops nothing
            warehouse.execute(f"DROP VIEW IF EXISTS {CATALOG}.{schema}.jobs")
            for table in TABLES:
                warehouse.execute(f"DROP TABLE IF EXISTS {CATALOG}.{schema}.{table}")
            warehouse.execute(f"DROP SCHEMA IF EXISTS {CATALOG}.{schema}")
        warehouse.close()


@contextlib.contextmanager
def presto_engine_build(root: Path) -> Iterator[Warehouse]:
    """PrestoWarehouse (presto-python-client) on the real PrestoDB over `root`."""
    with engine_schema(require_engine("presto"), root) as warehouse:
        yield warehouse


@contextlib.contextmanager
def trino_engine_build(root: Path) -> Iterator[Warehouse]:
    """TrinoWarehouse (trino client) on the real Trino over `root`."""
    with engine_schema(require_engine("trino"), root) as warehouse:
        yield warehouse
