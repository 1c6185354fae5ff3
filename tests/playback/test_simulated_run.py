"""Reconstruction on the simulator's own logs: what it says it did must be what playback shows."""

from pathlib import Path

import numpy as np
import orjson
import pytest

from pipeline.ingest import ingest_paths
from playback import selectors, wire
from playback.limits import PlaybackLimits
from playback.scopes import EntityScope, JobScope
from simulator.batch import simulate

SMALL = {"hours": 0.5, "couriers": 30, "merchants": 40}


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    out = simulate(
        scenario="food-delivery",
        strategies=["nearest"],
        out_dir=tmp_path_factory.mktemp("sim"),
        overrides=SMALL,
    )
    (run,) = out.runs
    return run.events_path.parent


@pytest.fixture
def loaded(run_dir, configured_track_store, tmp_path):
    paths = [run_dir / "events.jsonl", run_dir / "gps.parquet", run_dir / "roads.json"]
    ingest_paths(
        paths,
        track_store=configured_track_store,
        warehouse_root=tmp_path / "w",
        quarantine_dir=tmp_path / "q",
        dataset="sim",
    )
    return orjson.loads((run_dir / "incidents.json").read_bytes())["incidents"]


def test_redispatched_jobs_show_each_decline_under_its_own_waybill(loaded):
    redispatched = [i for i in loaded if i["kind"] == "redispatched"]
    assert redispatched
    for item in redispatched:
        opened = selectors.scope_open(scope=JobScope("sim", item["jobs"][0]), entity_limit=60)
        assert opened.job is not None
        waybills = opened.job.waybills
        assert [w.outcome for w in waybills].count("rejected") == item["rejections"]
        assert len({w.waybill for w in waybills}) == len(waybills)
        if item["entity"] is not None:
            assert opened.job.entity == item["entity"]
            assert waybills[-1].outcome in ("accepted", "delivered")


def test_durations_add_up_and_actual_times_match_the_arrivals(loaded):
    late = [i for i in loaded if i["kind"] == "late"]
    assert late
    for item in late:
        opened = selectors.scope_open(scope=JobScope("sim", item["jobs"][0]), entity_limit=60)
        job = opened.job
        assert job is not None
        d = job.durations
        stages = [d.wait_s, d.to_pickup_s, d.at_pickup_s, d.to_dropoff_s]
        assert None not in stages
        assert sum(s for s in stages if s is not None) == pytest.approx(d.total_s)
        assert job.late_s == pytest.approx(item["late_s"], abs=1)
        carrying = [r for r in opened.rounds if r.round.assigned_to == job.entity]
        chosen = next(c for c in carrying[-1].candidates if c.candidate.chosen)
        assert job.arrived_pickup_ts is not None
        assert chosen.actual_s == pytest.approx((job.arrived_pickup_ts - carrying[-1].round.ts) / 1000)
        # The dispatcher used true positions; the stored fixes carry GPS noise of a few metres.
        errors = [c.pos_error_m for r in opened.rounds for c in r.candidates if c.pos_error_m is not None]
        assert errors
        assert np.median(errors) < 15
        assert {e.role for e in opened.entities} >= {"assigned", "offered"}


def test_injected_gps_jumps_are_flagged_where_the_simulator_put_them(loaded):
    jumps = [i for i in loaded if i["kind"] == "gps_jump"]
    assert jumps
    for item in jumps:
        scope = EntityScope("sim", item["entity"], item["ts"] - 60_000, item["ts"] + 60_000)
        opened = selectors.scope_open(scope=scope, entity_limit=60)
        flagged = {a.ts for a in opened.anomalies if a.kind == "jump"}
        # The first fix of the jump, or the one after it when a dropout swallowed the first.
        assert any(item["ts"] <= ts <= item["ts"] + 5_000 for ts in flagged), (item, sorted(flagged))


def test_the_run_s_road_graph_and_exclusion_reasons_reach_the_manifest(loaded):
    from simulator.exclusions import EXCLUSION_REASONS

    item = next(i for i in loaded if i["jobs"])
    opened = selectors.scope_open(scope=JobScope("sim", item["jobs"][0]), entity_limit=60)
    assert opened.city.has_roads
    assert opened.city.name is not None
    roads = selectors.city_document(dataset="sim")
    assert roads is not None
    assert {"nodes", "edges", "classes"} <= set(orjson.loads(roads))
    reasons = {x.reason for r in opened.rounds for x in r.round.excluded}
    assert reasons
    assert reasons <= set(EXCLUSION_REASONS)
    excluded = [e.distance_m for e in opened.entities if e.role == "excluded" and e.distance_m is not None]
    assert excluded == sorted(excluded)


def test_every_manifest_and_chunk_of_the_run_encodes(loaded):
    for item in loaded[:10]:
        if not item["jobs"]:
            continue
        opened = selectors.scope_open(scope=JobScope("sim", item["jobs"][0]), entity_limit=60)
        manifest = orjson.loads(
            wire.manifest_json(request_id=1, opened=opened, limits=PlaybackLimits(), roads_url=None)
        )
        assert manifest["entities"]
        points = selectors.scope_points(opened=opened, start=opened.start, end=opened.start + 3_600_000)
        chunk = wire.chunk_decode(wire.chunk_encode(request_id=1, points=points))
        assert np.array_equal(chunk.ts, points.ts)
        assert len(wire.chunk_encode(request_id=1, points=points)) / max(1, len(points)) < 8
