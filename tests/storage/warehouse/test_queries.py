"""The named-query registry: rendering, parameter rules, and snapshots of every query's SQL per dialect.

A snapshot mismatch fails with a diff; `UPDATE_SNAPSHOTS=1 pytest tests/storage/warehouse` rewrites them.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from storage.warehouse.queries import QUERIES, SQL_DIR, render

SNAPSHOT_DIR = Path(__file__).with_name("snapshots")
SNAPSHOT_DIALECTS = ("presto", "duckdb")
# One valid set of parameters per query; a new query must be added here to get its snapshot.
SAMPLE_PARAMS: dict[str, dict[str, object]] = {
    "jobs_view": {},
    "job_events": {"dataset": "prod", "job": "order:1"},
    "entity_jobs": {"dataset": "prod", "entity": "courier:1"},
    "city_day_jobs": {"dataset": "prod", "city": "berlin", "day": "2026-03-02"},
    "dataset_counts": {},
    "job_row": {"dataset": "prod", "job": "order:1"},
    "job_find": {f"job{i}": f"order:{i}" for i in range(1, 9)},
    "incidents_found": {},
}


def test_every_query_has_sample_params_and_a_sql_file():
    assert set(SAMPLE_PARAMS) == set(QUERIES)
    assert {path.stem for path in SQL_DIR.glob("*.sql")} == set(QUERIES)


@pytest.mark.parametrize("dialect", SNAPSHOT_DIALECTS)
@pytest.mark.parametrize("name", sorted(SAMPLE_PARAMS))
def test_sql_matches_snapshot(name, dialect):
    sql, _ = render(name, dialect, SAMPLE_PARAMS[name])
    path = SNAPSHOT_DIR / f"{name}.{dialect}.sql"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        path.write_text(sql + "\n", encoding="utf-8")
    assert path.exists(), f"no snapshot {path.name}; run with UPDATE_SNAPSHOTS=1 to write it"
    expected = path.read_text(encoding="utf-8").removesuffix("\n")
    if sql != expected:
        diff = "\n".join(
            difflib.unified_diff(
                expected.splitlines(), sql.splitlines(), f"snapshot {path.name}", "rendered", lineterm=""
            )
        )
        pytest.fail(f"{name} in {dialect} differs from its snapshot (UPDATE_SNAPSHOTS=1 to accept):\n{diff}")


@pytest.mark.parametrize("dialect", ["presto", "trino", "duckdb"])
@pytest.mark.parametrize("name", sorted(SAMPLE_PARAMS))
def test_rendered_sql_keeps_one_placeholder_per_value(name, dialect):
    sql, values = render(name, dialect, SAMPLE_PARAMS[name])
    placeholders = list(sqlglot.parse_one(sql, read=dialect).find_all(exp.Placeholder))
    assert len(placeholders) == len(values) == len(QUERIES[name].params)


def test_values_come_back_in_placeholder_order():
    sql, values = render("city_day_jobs", "duckdb", {"day": "2026-03-02", "city": "paris", "dataset": "prod"})
    assert values == ["prod", "paris", "2026-03-02", "2026-03-02"]
    assert "paris" not in sql
    assert "2026-03-02" not in sql


def test_hostile_values_never_reach_the_sql_text():
    sql, values = render("job_events", "duckdb", {"dataset": "prod", "job": "x'; DROP TABLE job_events; --"})
    assert "DROP" not in sql
    assert values == ["prod", "x'; DROP TABLE job_events; --"]


def test_unknown_query_is_rejected():
    with pytest.raises(ValueError, match="unknown query 'nope'; known: city_day_jobs, dataset_counts"):
        render("nope", "duckdb", {})


def test_unknown_dialect_is_rejected():
    with pytest.raises(ValueError, match="unknown SQL dialect 'mysql'"):
        render("dataset_counts", "mysql", {})


def test_missing_and_extra_params_are_rejected():
    with pytest.raises(ValueError, match=r"missing \['job'\]"):
        render("job_events", "duckdb", {"dataset": "prod"})
    with pytest.raises(ValueError, match=r"unexpected \['limit'\]"):
        render("job_events", "duckdb", {"dataset": "prod", "job": "j", "limit": 3})
    with pytest.raises(ValueError, match=r"unexpected \['order'\]"):
        render("job_events", "duckdb", {"dataset": "prod", "job": "j", "order": "ts"})


def test_non_scalar_values_are_rejected():
    with pytest.raises(ValueError, match="job must be a str, int, float or bool"):
        render("job_events", "duckdb", {"dataset": "prod", "job": ["a", "b"]})


@pytest.mark.parametrize("day", ["2026-3-2", "2026-02-30", "yesterday", 20260302, "2026-03-02' OR '1"])
def test_day_must_be_a_calendar_date(day):
    with pytest.raises(ValueError, match="day"):
        render("city_day_jobs", "duckdb", {"dataset": "prod", "city": "berlin", "day": day})


def test_identifier_slot_takes_only_whitelisted_columns():
    params = {"dataset": "prod", "city": "berlin", "day": "2026-03-02"}
    sql, _ = render("city_day_jobs", "duckdb", {**params, "order": "distance_m"})
    assert "ORDER BY\n  distance_m," in sql
    with pytest.raises(ValueError, match="order must be one of created_ts"):
        render("city_day_jobs", "duckdb", {**params, "order": "created_ts DESC"})
    default, _ = render("city_day_jobs", "duckdb", params)
    assert "ORDER BY\n  created_ts," in default
