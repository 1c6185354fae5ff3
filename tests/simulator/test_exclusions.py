"""Why not courier X: the `excluded` list of a round, on hand-made rounds and on a simulated hour."""

import numpy as np

from simulator.exclusions import EXCLUSION_REASONS, LOGGED_EXCLUDED_PER_JOB, excluded_list
from tests.simulator.conftest import read_events

RADIUS_M = 1000.0


def _round(*, on_distance, strategy_chose=(True,), off_distance=(), candidate=(), **masks):
    n = len(on_distance)
    on = np.array([on_distance], dtype=np.float64)
    declined = np.array([masks.get("declined", [False] * n)], dtype=bool)
    ending = np.array(masks.get("ending", [False] * n), dtype=bool)
    room = np.array(masks.get("room", [1] * n), dtype=np.int64)
    cand = np.zeros((1, n), dtype=bool)
    cand[0, list(candidate)] = True
    eligible = (on <= RADIUS_M) & (room > 0)[None, :] & ~ending[None, :] & ~declined
    # road seconds from each courier's node (node i = courier i) to the pickup (node n)
    road = np.zeros((n + 1, n + 1), dtype=np.float32)
    road[:n, n] = masks.get("road_s", [60.0] * n)
    return excluded_list(
        jobs=["order:1"],
        pickup_nodes=np.array([n]),
        radius_m=RADIUS_M,
        on_entities=[f"courier:{i + 1}" for i in range(n)],
        on_order=np.arange(n, dtype=np.int64),
        on_distance_m=on,
        on_nodes=np.arange(n, dtype=np.int64),
        eligible=eligible,
        declined=declined,
        ending=ending,
        room=room,
        candidate=cand,
        strategy_chose=np.array(strategy_chose, dtype=bool),
        off_entities=[f"courier:{100 + i}" for i in range(len(off_distance))],
        off_order=np.arange(100, 100 + len(off_distance), dtype=np.int64),
        off_distance_m=np.array([off_distance], dtype=np.float64).reshape(1, -1),
        road_s=road,
    )


def test_every_nearby_courier_that_is_not_a_candidate_gets_its_reason_nearest_first():
    excluded = _round(
        on_distance=[100, 200, 300, 400, 500, 600, 700, 1500],
        candidate=[0],
        declined=[False, True, False, False, False, False, False, False],
        ending=[False, False, True, False, False, False, False, False],
        room=[1, 1, 1, 0, 1, 1, 1, 1],
        # 1 km of radius is 225 s at 16 km/h: courier 5 is across a river, 20 min away by road
        road_s=[60, 60, 60, 60, 1200, 60, 60, 60],
        off_distance=[650, 5000],
    )
    assert [(x["entity"], x["reason"]) for x in excluded] == [
        ("courier:2", "declined_before"),
        ("courier:3", "shift_ending"),
        ("courier:4", "at_capacity"),
        ("courier:5", "outside_radius_by_road"),
        ("courier:6", "ranked_below_top_k"),
        ("courier:100", "offline"),
        ("courier:7", "ranked_below_top_k"),
    ]  # courier 1 is a candidate; courier 8 and courier 101 are beyond the radius


def test_a_postponed_job_lists_only_the_couriers_the_dispatcher_ruled_out():
    excluded = _round(
        on_distance=[100, 200, 300], room=[1, 0, 1], off_distance=[400], strategy_chose=(False,)
    )
    assert [(x["entity"], x["reason"]) for x in excluded] == [
        ("courier:2", "at_capacity"),
        ("courier:100", "offline"),
    ]


def test_the_list_is_capped_per_job_keeping_the_nearest():
    n = LOGGED_EXCLUDED_PER_JOB + 15
    distances = list(np.linspace(900, 10, n))
    excluded = _round(on_distance=distances)
    assert len(excluded) == LOGGED_EXCLUDED_PER_JOB
    assert [x["entity"] for x in excluded] == [f"courier:{n - k}" for k in range(LOGGED_EXCLUDED_PER_JOB)]


def test_simulated_rounds_explain_nearby_couriers_and_never_exclude_a_candidate(small_run):
    rounds = [e for e in read_events(small_run.runs[1].events_path) if e["type"] == "dispatch_round"]
    reasons: set[str] = set()
    for r in rounds:
        offered = {(c["job"], c["entity"]) for c in r["candidates"]}
        listed = [(x["job"], x["entity"]) for x in r["excluded"]]
        assert not offered & set(listed)
        assert len(listed) == len(set(listed))
        per_job: dict[str, int] = {}
        for job, _ in listed:
            per_job[job] = per_job.get(job, 0) + 1
        assert max(per_job.values(), default=0) <= LOGGED_EXCLUDED_PER_JOB
        assert set(per_job) <= set(r["jobs"])
        reasons |= {x["reason"] for x in r["excluded"]}
    assert reasons <= set(EXCLUSION_REASONS)
    assert {"ranked_below_top_k", "offline", "outside_radius_by_road"} <= reasons
