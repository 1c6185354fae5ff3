"""The warehouse contract: every backend answers every named query alike on the fixture data."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from storage.warehouse.base import QueryResult, WarehouseError
from storage.warehouse.queries import QUERIES
from tests.storage.warehouse.fixtures import (
    BERLIN_DROPOFF,
    BERLIN_PICKUP,
    DAY,
    NEXT_DAY,
    PARIS_DROPOFF,
    PARIS_PICKUP,
    PROD,
    QUOTED_JOB,
    ROUNDS_ONLY,
    SIM,
    utc_ms,
)

EARTH_RADIUS_M = 6371008.8


def haversine_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))


def jobs_by_key(warehouse) -> dict[tuple[str, str], pd.Series]:
    frame = warehouse.query("jobs_view").frame
    return {(row["dataset"], row["job"]): row for _, row in frame.iterrows()}


def flag(value) -> bool | None:
    """A nullable boolean cell as True, False or None (SQL NULL)."""
    return None if pd.isna(value) else bool(value)


def test_query_reports_engine_and_sql(warehouse):
    result = warehouse.query("dataset_counts")
    assert isinstance(result, QueryResult)
    assert result.engine == warehouse.engine
    assert result.elapsed_ms >= 0
    assert "job_events" in result.sql


def test_dataset_counts_cover_every_table_and_dataset(warehouse):
    frame = warehouse.query("dataset_counts").frame
    assert frame.to_dict("records") == [
        {"dataset": PROD, "jobs": 5, "events": 26, "rounds": 6, "candidates": 9},
        {"dataset": SIM, "jobs": 1, "events": 5, "rounds": 1, "candidates": 2},
        {"dataset": ROUNDS_ONLY, "jobs": 0, "events": 0, "rounds": 1, "candidates": 0},
    ]
    assert [str(frame[c].dtype) for c in frame.columns] == ["string", "Int64", "Int64", "Int64", "Int64"]


def test_job_events_in_lifecycle_order_with_partition_columns(warehouse):
    frame = warehouse.query("job_events", dataset=PROD, job="order:b2").frame
    assert frame["type"].tolist() == [
        "job_created",
        "job_assigned",
        "job_rejected",
        "job_assigned",
        "job_accepted",
        "job_picked_up",
        "job_delivered",
    ]
    assert frame["ts"].is_monotonic_increasing
    assert frame["waybill"].tolist()[1:] == ["w1", "w1", "w2", "w2", "w2", "w2"]
    assert frame["reason"].tolist()[2] == "too_far"
    assert set(frame["dt"]) == {DAY}
    assert set(frame["city"]) == {"berlin"}
    assert str(frame["ts"].dtype) == "Int64"
    assert str(frame["promised_ts"].dtype) == "Int64"
    assert str(frame["pickup_lat"].dtype) == "float64"
    assert str(frame["entity"].dtype) == "string"
    created = frame.iloc[0]
    assert created["promised_ts"] == utc_ms(DAY, "12:45:00")
    assert pd.isna(created["ready_ts"])
    assert created["attrs"] == '{"items": 2}'


def test_job_events_are_scoped_to_their_dataset(warehouse):
    prod = warehouse.query("job_events", dataset=PROD, job="order:b1").frame
    sim = warehouse.query("job_events", dataset=SIM, job="order:b1").frame
    assert len(prod) == 6
    assert len(sim) == 5
    assert set(sim["entity"].dropna()) == {"courier:s1"}


def test_hostile_job_id_is_bound_not_spliced(warehouse):
    frame = warehouse.query("job_events", dataset=PROD, job=QUOTED_JOB).frame
    assert frame["type"].tolist() == ["job_created", "job_assigned", "job_cancelled"]
    assert set(frame["job"]) == {QUOTED_JOB}
    # The day boundary: created a millisecond before midnight, the rest after it.
    assert frame["dt"].tolist() == [DAY, NEXT_DAY, NEXT_DAY]
    injected = warehouse.query("job_events", dataset=PROD, job="x' OR '1'='1").frame
    assert injected.empty
    assert list(injected.columns) == list(frame.columns)


def test_unknown_job_gives_empty_frame(warehouse):
    assert warehouse.query("job_events", dataset=PROD, job="order:nope").frame.empty


def test_entity_jobs_lists_assigned_accepted_delivered_jobs(warehouse):
    frame = warehouse.query("entity_jobs", dataset=PROD, entity="courier:c1").frame
    assert frame[["job", "first_ts", "last_ts"]].to_dict("records") == [
        {"job": "order:b1", "first_ts": utc_ms(DAY, "12:00:30"), "last_ts": utc_ms(DAY, "12:35:00")},
        {"job": "order:b2", "first_ts": utc_ms(DAY, "12:06:30"), "last_ts": utc_ms(DAY, "12:55:00")},
        {
            "job": "order:b3",
            "first_ts": utc_ms(NEXT_DAY, "00:01:00"),
            "last_ts": utc_ms(NEXT_DAY, "00:30:00"),
        },
    ]
    assert frame["delivered"].tolist() == [True, True, True]
    assert str(frame["delivered"].dtype) == "boolean"
    assert str(frame["first_ts"].dtype) == "Int64"


def test_entity_jobs_of_a_courier_that_declined(warehouse):
    frame = warehouse.query("entity_jobs", dataset=PROD, entity="courier:c2").frame
    # Its rejection is not an assignment, acceptance or delivery: only the assignment counts.
    assert frame[["job", "assigned", "accepted", "delivered"]].to_dict("records") == [
        {"job": "order:b2", "assigned": True, "accepted": False, "delivered": False}
    ]
    assert frame["first_ts"].tolist() == frame["last_ts"].tolist() == [utc_ms(DAY, "12:05:30")]


def test_entity_jobs_are_scoped_to_their_dataset(warehouse):
    assert warehouse.query("entity_jobs", dataset=SIM, entity="courier:c1").frame.empty
    assert warehouse.query("entity_jobs", dataset=SIM, entity="courier:s1").frame["job"].tolist() == [
        "order:b1"
    ]


def test_city_day_jobs_take_the_utc_day_of_creation(warehouse):
    day = warehouse.query("city_day_jobs", dataset=PROD, city="berlin", day=DAY).frame
    # order:o'brien was created at 23:59:59.999 of DAY; order:b3 at 00:00:00.000 of the next day.
    assert day["job"].tolist() == ["order:b1", "order:b2", QUOTED_JOB]
    next_day = warehouse.query("city_day_jobs", dataset=PROD, city="berlin", day=NEXT_DAY).frame
    assert next_day["job"].tolist() == ["order:b3"]
    paris = warehouse.query("city_day_jobs", dataset=PROD, city="paris", day=DAY).frame
    assert paris["job"].tolist() == ["order:p1"]
    assert warehouse.query("city_day_jobs", dataset=PROD, city="berlin", day="2026-03-04").frame.empty


def test_city_day_jobs_sorted_by_a_whitelisted_column(warehouse):
    frame = warehouse.query("city_day_jobs", dataset=PROD, city="berlin", day=DAY, order="delivery_s").frame
    # Undelivered jobs (no delivery time) sort last.
    assert frame["job"].tolist() == ["order:b1", "order:b2", QUOTED_JOB]
    frame = warehouse.query("city_day_jobs", dataset=PROD, city="berlin", day=DAY, order="distance_m").frame
    assert frame["job"].tolist() == ["order:b2", "order:b1", QUOTED_JOB]


def test_city_day_jobs_have_the_jobs_view_columns(warehouse):
    view = warehouse.query("jobs_view").frame
    day = warehouse.query("city_day_jobs", dataset=PROD, city="paris", day=DAY).frame
    assert list(day.columns) == list(view.columns)


def test_job_row_is_that_jobs_row_of_the_view(warehouse):
    frame = warehouse.query("job_row", dataset=PROD, job=QUOTED_JOB).frame
    view = warehouse.query("jobs_view").frame
    assert list(frame.columns) == list(view.columns)
    assert frame[["dataset", "job", "entity", "waybills"]].to_dict("records") == [
        {"dataset": PROD, "job": QUOTED_JOB, "entity": "courier:c3", "waybills": 1}
    ]
    assert warehouse.query("job_row", dataset=SIM, job="order:b2").frame.empty


def test_job_find_finds_a_job_in_every_dataset_that_holds_it(warehouse):
    ids = {f"job{i}": "order:b1" for i in range(1, 9)}
    frame = warehouse.query("job_find", **{**ids, "job2": QUOTED_JOB}).frame
    assert list(frame.columns) == ["dataset", "job", "created_ts", "last_ts", "events"]
    found = frame[["dataset", "job"]].to_dict("records")
    assert {"dataset": PROD, "job": QUOTED_JOB} in found
    assert all(row["job"] in {"order:b1", QUOTED_JOB} for row in found)
    assert (frame["events"] >= 1).all()
    assert (frame["last_ts"] >= frame["created_ts"]).all()


def test_jobs_view_one_row_per_dataset_and_job(warehouse):
    frame = warehouse.query("jobs_view").frame
    assert sorted(zip(frame["dataset"], frame["job"], strict=True)) == [
        (PROD, "order:b1"),
        (PROD, "order:b2"),
        (PROD, "order:b3"),
        (PROD, QUOTED_JOB),
        (PROD, "order:p1"),
        (SIM, "order:b1"),
    ]
    assert list(frame.columns) == [
        "dataset", "city", "zone", "kind", "job", "created_ts", "ready_ts", "promised_ts", "assigned_ts",
        "accepted_ts", "picked_up_ts", "delivered_ts", "cancelled_ts", "entity", "waybills", "rejections",
        "pickup_lat", "pickup_lon", "dropoff_lat", "dropoff_lon", "distance_m", "delivery_s", "late",
    ]  # fmt: skip
    dtypes = {column: str(dtype) for column, dtype in frame.dtypes.items()}
    assert dtypes["created_ts"] == dtypes["waybills"] == dtypes["rejections"] == "Int64"
    assert dtypes["distance_m"] == dtypes["delivery_s"] == dtypes["pickup_lat"] == "float64"
    assert dtypes["late"] == "boolean"
    assert dtypes["entity"] == dtypes["city"] == "string"


def test_jobs_view_on_time_delivery(warehouse):
    job = jobs_by_key(warehouse)[(PROD, "order:b1")]
    assert job["city"] == "berlin"
    assert job["zone"] == "mitte"
    assert job["kind"] == "delivery"
    assert job["created_ts"] == utc_ms(DAY, "12:00:00")
    assert job["ready_ts"] == utc_ms(DAY, "12:10:00")
    assert job["assigned_ts"] == utc_ms(DAY, "12:00:30")
    assert job["accepted_ts"] == utc_ms(DAY, "12:00:40")
    assert job["picked_up_ts"] == utc_ms(DAY, "12:11:00")
    assert job["delivered_ts"] == utc_ms(DAY, "12:35:00")
    assert pd.isna(job["cancelled_ts"])
    assert job["entity"] == "courier:c1"
    assert job["waybills"] == 1
    assert job["rejections"] == 0
    assert job["delivery_s"] == 35 * 60.0
    assert flag(job["late"]) is False
    assert job["distance_m"] == pytest.approx(haversine_m(BERLIN_PICKUP, BERLIN_DROPOFF), rel=1e-9)
    assert (job["pickup_lat"], job["pickup_lon"]) == BERLIN_PICKUP
    assert (job["dropoff_lat"], job["dropoff_lon"]) == BERLIN_DROPOFF


def test_jobs_view_redispatched_late_delivery(warehouse):
    job = jobs_by_key(warehouse)[(PROD, "order:b2")]
    assert job["waybills"] == 2
    assert job["rejections"] == 1
    assert job["assigned_ts"] == utc_ms(DAY, "12:05:30")  # the first assignment
    assert job["accepted_ts"] == utc_ms(DAY, "12:06:40")
    assert job["entity"] == "courier:c1"  # who delivered, not who declined
    assert flag(job["late"]) is True
    assert job["delivery_s"] == 50 * 60.0
    assert job["distance_m"] == 0.0


def test_jobs_view_cancelled_job_without_waybill(warehouse):
    job = jobs_by_key(warehouse)[(PROD, QUOTED_JOB)]
    assert job["cancelled_ts"] == utc_ms(NEXT_DAY, "00:10:00")
    assert job["entity"] == "courier:c3"  # the last assignment
    assert job["waybills"] == 1  # assigned once, logged without a waybill
    assert pd.isna(job["delivered_ts"])
    assert pd.isna(job["delivery_s"])
    assert flag(job["late"]) is None  # not late, not on time: never delivered


def test_jobs_view_without_promise_has_no_late_flag(warehouse):
    job = jobs_by_key(warehouse)[(PROD, "order:p1")]
    assert job["city"] == "paris"
    assert flag(job["late"]) is None
    assert job["delivery_s"] == 21 * 60.0
    assert job["distance_m"] == pytest.approx(haversine_m(PARIS_PICKUP, PARIS_DROPOFF), rel=1e-9)


def test_jobs_view_keeps_datasets_apart(warehouse):
    jobs = jobs_by_key(warehouse)
    assert jobs[(SIM, "order:b1")]["entity"] == "courier:s1"
    assert flag(jobs[(SIM, "order:b1")]["late"]) is True
    assert flag(jobs[(PROD, "order:b1")]["late"]) is False


def test_every_fact_table_is_queryable(warehouse):
    counts = {
        table: int(warehouse.execute(f"SELECT count(*) AS n FROM {table}")["n"].iloc[0])
        for table in ("job_events", "rounds", "candidates", "entity_states", "experiment_assignments", "gps")
    }
    assert counts == {
        "job_events": 31,
        "rounds": 8,
        "candidates": 11,
        "entity_states": 9,
        "experiment_assignments": 2,
        "gps": 5,
    }


def test_execute_binds_parameters(warehouse):
    frame = warehouse.execute("SELECT count(*) AS n FROM job_events WHERE job = ?", [QUOTED_JOB])
    assert frame["n"].tolist() == [3]


def test_unknown_query_name_lists_known_ones(warehouse):
    with pytest.raises(ValueError, match="unknown query 'job_evnts'") as raised:
        warehouse.query("job_evnts", dataset=PROD, job="order:b1")
    assert all(name in str(raised.value) for name in QUERIES)


def test_missing_parameter_is_rejected(warehouse):
    with pytest.raises(ValueError, match="missing \\['job'\\]"):
        warehouse.query("job_events", dataset=PROD)


def test_identifier_outside_whitelist_is_rejected(warehouse):
    with pytest.raises(ValueError, match="order must be one of"):
        warehouse.query("city_day_jobs", dataset=PROD, city="berlin", day=DAY, order="job; DROP TABLE x")


def test_engine_error_becomes_warehouse_error(warehouse):
    with pytest.raises(WarehouseError, match="no_such_table"):
        warehouse.execute("SELECT * FROM no_such_table")


def test_incidents_found_ranks_each_kind_per_dataset(warehouse):
    frame = warehouse.query("incidents_found").frame
    assert list(frame.columns) == ["kind", "dataset", "ts", "job", "entity", "magnitude", "rank"]
    assert set(frame["kind"]) <= {"late", "redispatched", "gps_jump", "stale_fix"}
    assert (frame["rank"] <= 5).all()
    late = frame[frame["kind"] == "late"]
    assert (late["magnitude"] > 0).all()
