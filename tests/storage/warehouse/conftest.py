"""The `warehouse` fixture: every backend in WAREHOUSE_BACKENDS over the same fixture data.

To add a backend, append its name to WAREHOUSE_BACKENDS and a builder to WAREHOUSE_BUILDERS: a context
manager taking the populated Parquet root and yielding a ready Warehouse (starting and stopping whatever
server it needs). `presto` and `trino` are the real engines `tools/engines.py up` started (skipped loudly
without them, fatal under CI=true); the Presto-protocol test server is no longer a contract backend: it stays
for the fault-injection and request-log tests of test_presto_backend.py.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from storage.warehouse.base import Warehouse
from storage.warehouse.duckdb import DuckDBWarehouse
from tests.storage.warehouse.fixtures import fixture_warehouse_write
from tests.storage.warehouse.real_engines import presto_engine_build, trino_engine_build

WAREHOUSE_BACKENDS = ["duckdb", "presto", "trino"]


@contextlib.contextmanager
def duckdb_build(root: Path) -> Iterator[Warehouse]:
    warehouse = DuckDBWarehouse.from_options({"root": str(root)})
    try:
        yield warehouse
    finally:
        warehouse.close()


WAREHOUSE_BUILDERS: dict[str, Callable[[Path], AbstractContextManager[Warehouse]]] = {
    "duckdb": duckdb_build,
    "presto": presto_engine_build,
    "trino": trino_engine_build,
}


@pytest.fixture(scope="session")
def warehouse_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Parquet root holding the fixture dataset (written once per test session, never modified)."""
    root = tmp_path_factory.mktemp("warehouse")
    fixture_warehouse_write(root=root)
    return root


@pytest.fixture(scope="session", params=WAREHOUSE_BACKENDS)
def warehouse(request: pytest.FixtureRequest, warehouse_root: Path) -> Iterator[Warehouse]:
    """A warehouse of each backend over `warehouse_root`; tests must only read through it."""
    with WAREHOUSE_BUILDERS[request.param](warehouse_root) as built:
        yield built
