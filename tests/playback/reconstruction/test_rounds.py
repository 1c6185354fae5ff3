"""Rounds as they concern one job, reviewed against the stored tracks and the later events."""

import numpy as np
import pytest

from playback.reconstruction.flow import flow_skeleton
from playback.reconstruction.geo import metres_between
from playback.reconstruction.lifecycle import job_lifecycle
from playback.reconstruction.rounds import EntityPos, round_review, round_view
from storage.tracks import EntityTrack
from tests.playback.reconstruction.events import JOB, T0, created, dispatch_round, event

C1, C2, C3 = "courier:c1", "courier:c2", "courier:c3"


def track(entity, ts, lat, lon):
    return EntityTrack(
        entity=entity,
        ts=np.asarray(ts, dtype=np.int64),
        lat_e7=np.rint(np.asarray(lat) * 1e7).astype(np.int32),
        lon_e7=np.rint(np.asarray(lon) * 1e7).astype(np.int32),
    )


def the_round(**kwargs):
    return dispatch_round(
        T0 + 60_000,
        "round:2",
        candidates=[
            {
                "entity": C2,
                "score": 0.4,
                "eta_s": 300,
                "distance_m": 900,
                "features": {"load": 2},
                "entity_pos": {"lat": 31.2, "lon": 121.4005, "ts": T0 + 15_000},
            },
            {
                "entity": C1,
                "score": 0.9,
                "eta_s": 120,
                "distance_m": 300,
                "features": {"load": 0},
                "entity_pos": {"lat": 31.2, "lon": 121.4, "ts": T0 + 59_000},
            },
        ],
        excluded=[(C3, "at_capacity")],
        **kwargs,
    )


def test_round_view_keeps_the_job_only_best_score_first():
    view = round_view(the_round(assigned=C1), JOB)
    assert [(c.entity, c.chosen) for c in view.candidates] == [(C1, True), (C2, False)]
    assert [(x.entity, x.reason) for x in view.excluded] == [(C3, "at_capacity")]
    assert (view.decision, view.assigned_to, view.jobs_in_round, view.candidates_logged) == (
        "assigned",
        C1,
        3,
        3,
    )
    assert (view.strategy, view.strategy_version, view.latency_ms, view.error) == (
        "nearest",
        "v2",
        12.5,
        None,
    )
    assert view.candidates[1].features == {"load": 2}
    assert view.candidates[1].pos == EntityPos(lat=31.2, lon=121.4005, ts=T0 + 15_000)


def test_decision_is_postponed_or_none_without_an_assignment():
    assert round_view(the_round(postponed=True), JOB).decision == "postponed"
    assert round_view(the_round(), JOB).decision == "none"


def test_review_measures_fix_age_error_and_the_chosen_candidates_actual_time_to_pickup():
    view = round_view(the_round(assigned=C1), JOB)
    tracks = {
        # c1 moves east 0.001 degree in 10 s: at T0+59 s it was half way.
        C1: track(C1, [T0 + 54_000, T0 + 64_000], [31.2, 31.2], [121.3995, 121.4005]),
        C2: track(C2, [T0 + 15_000, T0 + 16_000], [31.2, 31.2], [121.4005, 121.4006]),
    }
    life = job_lifecycle(JOB, [created(), event("job_arrived_pickup", T0 + 200_000, entity=C1)])
    review = round_review(view, tracks=tracks, arrivals=life.arrivals())
    chosen, other = review.candidates
    assert chosen.pos_age_s == 1.0
    assert chosen.pos_error_m == pytest.approx(0.0, abs=0.02)
    assert chosen.actual_s == 140.0
    assert other.pos_age_s == 45.0
    assert other.pos_error_m == pytest.approx(0.0, abs=0.02)
    assert other.actual_s is None


def test_pos_error_is_the_distance_to_the_interpolated_track():
    view = round_view(the_round(assigned=C1), JOB)
    moved = track(C1, [T0 + 58_000, T0 + 60_000], [31.2010, 31.2010], [121.4, 121.4])
    (review,) = [c for c in round_review(view, tracks={C1: moved}).candidates if c.candidate.entity == C1]
    assert review.pos_error_m == pytest.approx(metres_between(31.2, 121.4, 31.201, 121.4), rel=1e-6)
    outside = track(C1, [T0 + 60_000, T0 + 61_000], [31.2, 31.2], [121.4, 121.4])
    (review,) = [c for c in round_review(view, tracks={C1: outside}).candidates if c.candidate.entity == C1]
    assert review.pos_error_m is None


def test_actual_time_falls_back_to_the_pickup_and_ignores_other_entities():
    view = round_view(the_round(assigned=C1), JOB)
    life = job_lifecycle(
        JOB,
        [
            created(),
            event("job_arrived_pickup", T0 + 100_000, entity=C2),
            event("job_picked_up", T0 + 300_000, entity=C1),
        ],
    )
    chosen = round_review(view, tracks={}, arrivals=life.arrivals()).candidates[0]
    assert chosen.actual_s == 240.0


def test_flow_skeleton_lists_assigned_offered_and_excluded_once_each():
    events = [
        created(),
        dispatch_round(
            T0 + 30_000,
            "round:1",
            candidates=[{"entity": C1}, {"entity": C2}],
            assigned=C1,
            excluded=[(C3, "beyond_radius"), (C2, "declined_before")],
        ),
        event("job_rejected", T0 + 40_000, entity=C1),
        dispatch_round(
            T0 + 60_000,
            "round:2",
            candidates=[{"entity": C2}],
            assigned=C2,
            excluded=[(C1, "declined_before")],
        ),
    ]
    skeleton = flow_skeleton(JOB, events)
    assert (skeleton.assigned, skeleton.offered, skeleton.excluded) == ((C1, C2), (), (C3,))
    assert [r.round for r in skeleton.rounds] == ["round:1", "round:2"]
    assert (skeleton.start, skeleton.end) == (T0, T0 + 60_000)
