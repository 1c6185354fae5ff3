import itertools
from typing import Any

import pyarrow.parquet as pq

from pipeline.contract import RowError, time_bounds_now
from pipeline.events import event_normalise
from tests.simulator.conftest import read_events


def test_every_event_passes_the_pipeline_contract(small_run):
    bounds = time_bounds_now()
    for run in small_run.runs:
        for line_no, event in enumerate(read_events(run.events_path), start=1):
            try:
                event_normalise(event, default_dataset=run.dataset, bounds=bounds)
            except RowError as exc:  # pragma: no cover - the message is the point
                raise AssertionError(f"{run.events_path}:{line_no}: {exc}") from exc


def test_events_are_ordered_by_integer_ms_and_cover_the_lifecycle(small_run):
    events = read_events(small_run.runs[1].events_path)
    stamps = [e["ts"] for e in events]
    assert all(type(t) is int for t in stamps)
    assert stamps == sorted(stamps)
    types = {e["type"] for e in events}
    assert {
        "job_created",
        "dispatch_round",
        "job_assigned",
        "job_accepted",
        "job_arrived_pickup",
        "job_picked_up",
        "job_delivered",
        "entity_state",
        "experiment_assignment",
    } <= types


def test_dispatch_rounds_carry_the_optional_fields(small_run):
    rounds = [e for e in read_events(small_run.runs[1].events_path) if e["type"] == "dispatch_round"]
    assert rounds
    assert {r["strategy"] for r in rounds} == {"hungarian"}
    assert all(
        set(r)
        >= {
            "round",
            "ts",
            "city",
            "strategy",
            "jobs",
            "candidates",
            "assignments",
            "postponed",
            "excluded",
            "latency_ms",
            "strategy_version",
        }
        for r in rounds
    )
    cands = [c for r in rounds for c in r["candidates"]]
    assert all(c["entity_pos"]["ts"] == r["ts"] for r in rounds for c in r["candidates"])
    assert all(c["eta_s"] is not None and c["eta_s"] > 0 for c in cands)
    reasons = {x["reason"] for r in rounds for x in r["excluded"]}
    assert reasons & {"at_capacity", "declined_before", "shift_ending", "offline"}
    # each assignment is one of the round's logged candidates
    for r in rounds:
        logged = {(c["job"], c["entity"]) for c in r["candidates"]}
        assert all((a["job"], a["entity"]) in logged for a in r["assignments"])


def test_a_declined_order_comes_back_under_a_new_waybill(small_run):
    events = read_events(small_run.runs[1].events_path)
    rejected = [e for e in events if e["type"] == "job_rejected"]
    assert rejected, "decline behaviour should show up in an hour of demand"
    job = rejected[0]["job"]
    waybills = [e["waybill"] for e in events if e["type"] == "job_assigned" and e["job"] == job]
    assert len(waybills) >= 2
    assert len(set(waybills)) == len(waybills)
    assert rejected[0]["waybill"] == waybills[0]


def test_pickup_never_happens_before_the_meal_is_ready(small_run):
    events = read_events(small_run.runs[0].events_path)
    ready = {e["job"]: e["ready_ts"] for e in events if e["type"] == "job_created"}
    picked = [e for e in events if e["type"] == "job_picked_up"]
    assert picked
    assert all(e["ts"] >= ready[e["job"]] for e in picked)


def test_gps_parquet_has_exactly_the_contract_columns(small_run):
    table = pq.read_table(small_run.runs[0].gps_path)
    assert table.schema.names == [
        "entity",
        "ts",
        "lat",
        "lon",
        "speed_mps",
        "heading_deg",
        "accuracy_m",
        "city",
    ]
    assert str(table.schema.field("ts").type) == "int64"
    assert str(table.schema.field("entity").type) == "string"
    assert table.num_rows == small_run.runs[0].gps_points
    entities = table.column("entity").to_pylist()
    assert entities[0].startswith("courier:")
    assert set(table.column("city").to_pylist()) == {"riverside"}


def test_paired_runs_share_demand_and_name_datasets_by_strategy(small_run):
    names = [r.dataset for r in small_run.runs]
    assert names == ["sim-food-delivery-nearest-1", "sim-food-delivery-hungarian-1"]
    created = [
        [
            (e["job"], e["ts"], e["pickup"], e["dropoff"])
            for e in read_events(r.events_path)
            if e["type"] == "job_created"
        ]
        for r in small_run.runs
    ]
    assert created[0] == created[1]
    assignments = [
        e for e in read_events(small_run.runs[0].events_path) if e["type"] == "experiment_assignment"
    ]
    assert {a["variant"] for a in assignments} == {"nearest"}
    assert {a["unit"] for a in assignments} == {c[0] for c in created[0]}


def test_bike_sharing_events_pass_the_pipeline_contract(tmp_path):
    from simulator.batch import simulate

    output = simulate(
        scenario="bike-sharing",
        strategies=["nearest", "hungarian"],
        design="switchback",
        out_dir=tmp_path,
        overrides={"hours": 1.0, "bikes": 300},
    )
    bounds = time_bounds_now()
    events = read_events(output.runs[0].events_path)
    for line_no, event in enumerate(events, start=1):
        try:
            event_normalise(event, default_dataset=output.runs[0].dataset, bounds=bounds)
        except RowError as exc:  # pragma: no cover - the message is the point
            raise AssertionError(f"line {line_no}: {exc}") from exc
    kinds = {e["kind"] for e in events if e["type"] == "job_created"}
    assert kinds == {"ride", "rebalance"}
    # a ridden bike reports every second while ridden and rarely while parked
    rider = next(e["entity"] for e in events if e["type"] == "job_picked_up" and e["job"].startswith("ride:"))
    table = pq.read_table(output.runs[0].gps_path)
    stamps = [
        t
        for e, t in zip(table.column("entity").to_pylist(), table.column("ts").to_pylist(), strict=True)
        if e == rider
    ]
    gaps = {b - a for a, b in itertools.pairwise(stamps)}
    assert 1000 in gaps
    assert max(gaps) >= 60_000


def test_the_manifest_lists_incidents_with_their_jobs(small_run):
    import orjson

    nearest = orjson.loads(small_run.runs[0].incidents_path.read_bytes())
    assert nearest["dataset"] == "sim-food-delivery-nearest-1"
    assert nearest["counts"]["late"] > 0
    assert nearest["counts"]["gps_jump"] > 0
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for item in nearest["incidents"]:
        by_kind.setdefault(item["kind"], []).append(item)
    # the straight-line strategy sends someone across the river on a long road detour
    assert by_kind["cross_river"][0]["detour"] >= 3
    created = {e["job"] for e in read_events(small_run.runs[0].events_path) if e["type"] == "job_created"}
    for item in by_kind["late"] + by_kind["cross_river"] + by_kind.get("redispatched", []):
        assert set(item["jobs"]) <= created
        assert item["jobs"]
    late = by_kind["late"]
    assert [i["late_s"] for i in late] == sorted((i["late_s"] for i in late), reverse=True)


def test_each_run_writes_its_road_graph_for_the_map(small_run):
    import orjson

    from simulator.city import city_for
    from simulator.scenarios import FoodDeliveryParams

    city = city_for(params=FoodDeliveryParams().city, seed=1)
    roads = orjson.loads(small_run.runs[0].roads_path.read_bytes())
    assert roads["city"] == "riverside"
    assert roads["classes"] == ["arterial", "local", "bridge"]
    assert len(roads["nodes"]) == city.n_nodes
    assert len(roads["edges"]) == len(city.edge_class)
    assert {c for _, _, c in roads["edges"]} == {0, 1, 2}
    assert all(0 <= a < city.n_nodes and 0 <= b < city.n_nodes for a, b, _ in roads["edges"])
    bounds = roads["bounds"]
    assert all(bounds["south"] <= lat <= bounds["north"] for lat, _ in roads["nodes"])
    assert all(bounds["west"] <= lon <= bounds["east"] for _, lon in roads["nodes"])
    # every pickup and door of the run is a node the map draws
    nodes = {(lat, lon) for lat, lon in roads["nodes"]}
    for e in read_events(small_run.runs[0].events_path):
        if e["type"] == "job_created":
            assert (e["pickup"]["lat"], e["pickup"]["lon"]) in nodes
            assert (e["dropoff"]["lat"], e["dropoff"]["lon"]) in nodes
