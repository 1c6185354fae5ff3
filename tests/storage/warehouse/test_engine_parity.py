"""Every named query gives the same rows on the real Trino and PrestoDB as on DuckDB over the same files.

Integers, strings, booleans and NULLs must match exactly; doubles within 1e-12 relative. A query added to
QUERIES without cases here fails `test_every_named_query_has_cases`, so none escapes the comparison.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from storage.warehouse.base import Warehouse
from storage.warehouse.duckdb import DuckDBWarehouse
from storage.warehouse.queries import QUERIES
from tests.storage.warehouse.fixtures import DAY, NEXT_DAY, PROD, QUOTED_JOB, SIM
from tests.storage.warehouse.real_engines import presto_engine_build, trino_engine_build

RELATIVE_TOLERANCE = 1e-12
_ORDERS = QUERIES["city_day_jobs"].identifiers[0].allowed

#: (query name, parameters) pairs; each query's cases cover its datasets, misses and whitelisted orders.
CASES: list[tuple[str, dict[str, Any]]] = [
    ("jobs_view", {}),
    ("dataset_counts", {}),
    *(("job_events", {"dataset": d, "job": j}) for d in (PROD, SIM) for j in ("order:b1", "order:b2")),
    ("job_events", {"dataset": PROD, "job": QUOTED_JOB}),
    ("job_events", {"dataset": PROD, "job": "order:nope"}),
    *(("entity_jobs", {"dataset": PROD, "entity": e}) for e in ("courier:c1", "courier:c2", "courier:c3")),
    ("entity_jobs", {"dataset": SIM, "entity": "courier:s1"}),
    # Every whitelisted order on the day with ties and NULLs to sort; the other days in the default order.
    *(("city_day_jobs", {"dataset": PROD, "city": "berlin", "day": DAY, "order": o}) for o in _ORDERS),
    *(
        ("city_day_jobs", {"dataset": PROD, "city": city, "day": day})
        for city, day in (("berlin", NEXT_DAY), ("paris", DAY), ("paris", NEXT_DAY))
    ),
    *(
        ("job_row", {"dataset": d, "job": j})
        for d, j in ((PROD, QUOTED_JOB), (PROD, "order:b2"), (SIM, "order:b1"))
    ),
    ("job_find", {f"job{i}": job for i, job in enumerate(["order:b1", QUOTED_JOB, *["order:p1"] * 6], 1)}),
    ("incidents_found", {}),
]


@pytest.fixture(scope="module")
def duckdb_warehouse(warehouse_root: Path) -> Iterator[Warehouse]:
    warehouse = DuckDBWarehouse.from_options({"root": str(warehouse_root)})
    yield warehouse
    warehouse.close()


@pytest.fixture(scope="module", params=["presto", "trino"])
def engine_warehouse(request: pytest.FixtureRequest, warehouse_root: Path) -> Iterator[Warehouse]:
    build = presto_engine_build if request.param == "presto" else trino_engine_build
    with build(warehouse_root) as warehouse:
        yield warehouse


def _cell_equal(left: Any, right: Any) -> bool:
    if pd.isna(left) or pd.isna(right):
        return bool(pd.isna(left) and pd.isna(right))
    if isinstance(left, float) or isinstance(right, float):
        return math.isclose(float(left), float(right), rel_tol=RELATIVE_TOLERANCE, abs_tol=0.0)
    return bool(left == right)


def _rows(frame: pd.DataFrame) -> list[tuple[Any, ...]]:
    """Rows in a canonical order: engines may break ORDER BY ties differently."""
    rows = [tuple(row) for row in frame.astype(object).itertuples(index=False)]
    return sorted(rows, key=lambda row: tuple("\0" if pd.isna(v) else str(v) for v in row))


def test_every_named_query_has_cases() -> None:
    assert {name for name, _ in CASES} == set(QUERIES)


@pytest.mark.parametrize(("name", "params"), CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_named_query_matches_duckdb(
    engine_warehouse: Warehouse, duckdb_warehouse: Warehouse, name: str, params: dict[str, Any]
) -> None:
    expected = duckdb_warehouse.query(name, **params).frame
    got = engine_warehouse.query(name, **params).frame
    assert list(got.columns) == list(expected.columns)
    assert [str(t) for t in got.dtypes] == [str(t) for t in expected.dtypes]
    expected_rows, got_rows = _rows(expected), _rows(got)
    assert len(got_rows) == len(expected_rows)
    for got_row, expected_row in zip(got_rows, expected_rows, strict=True):
        mismatched = [
            (column, g, e)
            for column, g, e in zip(expected.columns, got_row, expected_row, strict=True)
            if not _cell_equal(g, e)
        ]
        assert not mismatched, f"{engine_warehouse.engine} differs from DuckDB in {name}: {mismatched}"
