"""Playback scopes through the configured track store: what a manifest, a fetch and a seek are built from."""

import numpy as np
import orjson
import pytest

from playback import selectors
from playback.reconstruction.anomalies import FLAG_JUMP
from playback.scopes import EntityScope, JobScope, ScopeNotFound, ScopeTooManyPoints
from storage.tracks import PointBatch
from tests.playback.scenario import DATASET, JOB, MIN, PICKUP, ROADS, T0, scenario_write


@pytest.fixture
def store(configured_track_store):
    scenario_write(configured_track_store)
    return configured_track_store


def job_scope(limit=60):
    return selectors.scope_open(scope=JobScope(dataset=DATASET, job=JOB), entity_limit=limit)


def test_a_job_scope_covers_the_flow_with_two_minutes_either_side(store):
    opened = job_scope()
    assert (opened.start, opened.end) == (T0 + 8 * MIN, T0 + 42 * MIN)
    assert (opened.city.name, opened.city.timezone, opened.city.has_roads) == (
        "riverside",
        "Asia/Shanghai",
        True,
    )
    assert not opened.empty


def test_entities_are_assigned_then_offered_then_excluded_nearest_first(store):
    opened = job_scope()
    assert [(e.index, e.entity, e.role) for e in opened.entities] == [
        (0, "courier:c2", "assigned"),
        (1, "courier:c1", "assigned"),
        (2, "courier:c3", "offered"),
        (3, "courier:c5", "excluded"),
        (4, "courier:c4", "excluded"),
        (5, "courier:c9", "excluded"),
    ]
    c5, c4, c9 = opened.entities[3:]
    assert c5.distance_m == pytest.approx(200.0, abs=1.0)
    assert c4.distance_m == pytest.approx(600.0, abs=1.0)
    assert (c9.distance_m, c9.points, c9.first_ts) == (None, 0, None)
    assert opened.entities[1].points == 34 * 60 + 1
    assert opened.entities[1].first_ts == T0 + 8 * MIN


def test_the_entity_limit_drops_the_farthest_excluded_first(store):
    opened = job_scope(limit=4)
    assert [e.entity for e in opened.entities] == ["courier:c2", "courier:c1", "courier:c3", "courier:c5"]
    assert opened.entities_left_out == 2
    (round_1, _) = opened.rounds
    assert [x.entity for x in round_1.round.excluded] == ["courier:c4", "courier:c9", "courier:c5"]
    assert opened.index_of("courier:c4") is None


def test_the_job_lifecycle_rounds_and_their_review(store):
    opened = job_scope()
    job = opened.job
    assert job is not None
    assert [(w.waybill, w.entity, w.outcome) for w in job.waybills] == [
        ("waybill:1-1", "courier:c2", "rejected"),
        ("waybill:1-2", "courier:c1", "delivered"),
    ]
    assert job.late_s == 300.0
    round_1, round_2 = opened.rounds
    assert (round_1.round.decision, round_2.round.decision) == ("assigned", "assigned")
    chosen = round_2.candidates[0]
    assert (chosen.candidate.entity, chosen.candidate.eta_s, chosen.actual_s) == ("courier:c1", 180.0, 240.0)
    assert chosen.pos_age_s == 45.0
    assert chosen.pos_error_m == pytest.approx(0.0, abs=0.05)
    assert round_1.candidates[0].actual_s is None  # c2 declined: it never came
    assert round_1.candidates[0].pos_error_m == pytest.approx(0.7, abs=0.1)


def test_events_states_and_anomalies(store):
    opened = job_scope()
    assert [(e.type, e.index) for e in opened.events][:4] == [
        ("job_created", None),
        ("job_assigned", 0),
        ("job_rejected", 0),
        ("job_assigned", 1),
    ]
    assert opened.events[-1].label == "delivered by courier:c1, 5 min late"
    # The state in force at the start, then the changes inside the range.
    assert [(s.index, s.ts, s.state) for s in opened.states] == [
        (1, T0, "idle"),
        (1, T0 + 675_000, "busy"),
        (1, T0 + 40 * MIN, "idle"),
    ]
    kinds = {(a.index, a.kind) for a in opened.anomalies}
    assert (1, "jump") in kinds
    assert (1, "stale") in kinds  # round:2 used a 45 s old fix of c1
    (stale,) = [a for a in opened.anomalies if a.kind == "stale"]
    assert stale.detail == "round:2 used a fix 45 s old"
    assert opened.bounds is not None
    assert opened.bounds.lat_min == pytest.approx(PICKUP[0])


def test_points_of_a_window_carry_the_scopes_flags(store):
    opened = job_scope()
    points = selectors.scope_points(opened=opened, start=T0 + 19 * MIN, end=T0 + 21 * MIN)
    assert set(np.unique(points.entity_index).tolist()) == {0, 1, 2, 3, 4}
    assert len(points) == 5 * 121
    c1 = points.entity_index == 1
    jumped = points.ts[c1][(points.flags[c1] & FLAG_JUMP) > 0]
    assert jumped.tolist() == [T0 + 1_200_000, T0 + 1_203_000]
    assert np.all(np.diff(points.ts[c1]) > 0)


def test_points_are_clipped_to_the_scope_restricted_and_thinned(store):
    opened = job_scope()
    clipped = selectors.scope_points(opened=opened, start=T0, end=T0 + 9 * MIN, entities=[1])
    assert (int(clipped.ts.min()), len(clipped)) == (T0 + 8 * MIN, 61)
    thin = selectors.scope_points(
        opened=opened, start=T0, end=T0 + 60 * MIN, resolution_ms=60_000, entities=[1]
    )
    assert len(thin) == 35
    # Intervals are aligned to the epoch: the first fix of the range, then one at each whole minute.
    assert thin.ts[0] == T0 + 8 * MIN
    assert np.all(thin.ts[1:] % 60_000 == 0)
    with pytest.raises(ScopeTooManyPoints):
        selectors.scope_points(opened=opened, start=T0, end=T0 + 60 * MIN, point_limit=1000)


def test_a_snapshot_has_each_last_fix_and_the_open_job(store):
    opened = job_scope()
    snap = selectors.scope_snapshot(opened=opened, ts=T0 + 16 * MIN + 500)
    assert {p.index: p.position.ts for p in snap.positions} == dict.fromkeys(range(5), T0 + 16 * MIN)
    c1 = next(p.position for p in snap.positions if p.index == 1)
    assert (c1.lat, c1.lon) == (PICKUP[0], round(PICKUP[1] + 960e-7, 7))
    [(job, index)] = [(o.job, o.index) for o in snap.open_jobs]
    assert (job.job, job.state, job.entity, index) == (JOB, "at_pickup", "courier:c1", 1)
    assert selectors.scope_snapshot(opened=opened, ts=T0 + 41 * MIN).open_jobs == ()
    assert selectors.scope_snapshot(opened=opened, ts=T0).positions == ()


def test_an_entity_scope_has_its_track_states_and_held_jobs(store):
    scope = EntityScope(dataset=DATASET, entity="courier:c1", start=T0, end=T0 + 30 * MIN)
    opened = selectors.scope_open(scope=scope, entity_limit=60)
    ((index, entity, role, points),) = [(e.index, e.entity, e.role, e.points) for e in opened.entities]
    assert (index, entity, role, points) == (0, "courier:c1", "subject", 30 * 60 + 1)
    assert [life.job for life in opened.jobs] == [JOB]
    assert opened.job is None
    assert opened.rounds == ()
    assert [e.label for e in opened.events] == [
        "order:o1 assigned to courier:c1 (round:2, waybill:1-2)",
        "order:o1 accepted by courier:c1",
        "order:o1 courier:c1 arrived at the pickup",
        "order:o1 picked up by courier:c1",
    ]
    assert [s.state for s in opened.states] == ["online", "idle", "busy"]
    snap = selectors.scope_snapshot(opened=opened, ts=T0 + 20 * MIN)
    assert [(o.job.job, o.job.state, o.index) for o in snap.open_jobs] == [(JOB, "picked_up", 0)]


def test_an_entity_scope_without_fixes_in_its_window_is_empty(store):
    scope = EntityScope(dataset=DATASET, entity="courier:c1", start=T0 + 10**8, end=T0 + 10**8 + 1000)
    opened = selectors.scope_open(scope=scope, entity_limit=60)
    assert opened.empty
    assert opened.bounds is None


def test_unknown_ids_suggest_the_same_id_elsewhere(store):
    with pytest.raises(ScopeNotFound) as caught:
        selectors.scope_open(scope=JobScope(dataset=DATASET, job="ride:o1"), entity_limit=60)
    assert caught.value.message == "job ride:o1 is unknown"
    assert [s.scope for s in caught.value.suggestions] == [JobScope(dataset=DATASET, job=JOB)]
    with pytest.raises(ScopeNotFound) as caught:
        selectors.scope_open(scope=JobScope(dataset=DATASET, job="order:c1"), entity_limit=60)
    (suggestion,) = caught.value.suggestions
    assert suggestion.scope == EntityScope(
        DATASET, "courier:c1", T0 + 3599_000 - 3_600_000 + 1000, T0 + 3599_000
    )


def test_an_unknown_dataset_suggests_the_datasets_that_have_the_id(store):
    store.points_write(
        dataset="other",
        batch=PointBatch(
            ("courier:c1",), np.zeros(1, np.int32), np.array([T0]), np.array([31.2]), np.array([121.4])
        ),
    )
    with pytest.raises(ScopeNotFound) as caught:
        selectors.scope_open(scope=JobScope(dataset="nope", job=JOB), entity_limit=60)
    assert caught.value.message == "dataset nope is unknown"
    assert [s.scope for s in caught.value.suggestions] == [JobScope(dataset=DATASET, job=JOB)]
    with pytest.raises(ScopeNotFound) as caught:
        selectors.scope_open(scope=EntityScope("nope", "courier:c1", T0, T0 + 1000), entity_limit=60)
    assert {s.scope.dataset for s in caught.value.suggestions} == {DATASET, "other"}


def test_without_a_city_document_the_time_zone_is_utc(configured_track_store):
    scenario_write(configured_track_store, roads=False)
    opened = job_scope()
    assert (opened.city.name, opened.city.timezone, opened.city.has_roads) == ("riverside", "UTC", False)
    assert selectors.city_document(dataset=DATASET) is None


def test_a_city_document_without_a_time_zone_still_gives_roads_and_utc(configured_track_store):
    scenario_write(configured_track_store, roads=False)
    document = orjson.dumps({k: v for k, v in ROADS.items() if k != "timezone"}, option=orjson.OPT_SORT_KEYS)
    configured_track_store.city_put(dataset=DATASET, document=document)
    opened = job_scope()
    assert (opened.city.name, opened.city.timezone, opened.city.has_roads) == ("riverside", "UTC", True)
