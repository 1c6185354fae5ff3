"""Why not courier X: the couriers of a round within its search radius of a job (straight line) that are
not among the job's logged candidates, each with the first reason that applies:

1. `offline` — not on shift at the round (before its shift starts, or gone offline);
2. `declined_before` — it declined this job earlier (a declined job is never offered to it again);
3. `shift_ending` — its shift ends within 10 minutes (`dispatcher.SHIFT_END_MARGIN_MS`): no new job;
4. `at_capacity` — it carries as many jobs as it may;
5. `outside_radius_by_road` — eligible, but farther than the radius by road (a river, a detour): road
   metres are estimated as off-peak e-bike riding time at `ROAD_ESTIMATE_KMH`, from the node nearest it;
6. `ranked_below_top_k` — eligible and near by road, but not among the `k` candidates the round logs for
   the job: the strategy ranked it lower, or did not consider it (a smaller radius of its own).

Reasons 5 and 6 describe the strategy's choice, so they are left out for a job the strategy postponed and
for every job of a failed round (the round's `postponed` and `error` say why). At most
`LOGGED_EXCLUDED_PER_JOB` couriers are listed per job, nearest first (ties by fleet order), so the list
stays bounded in a dense fleet: every courier nearer than the last one listed is a candidate, is listed, or
is eligible for a job the strategy postponed or whose round failed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

OFFLINE = "offline"
DECLINED_BEFORE = "declined_before"
SHIFT_ENDING = "shift_ending"
AT_CAPACITY = "at_capacity"
OUTSIDE_RADIUS_BY_ROAD = "outside_radius_by_road"
RANKED_BELOW_TOP_K = "ranked_below_top_k"
#: Every reason, in the order they are tried.
EXCLUSION_REASONS: tuple[str, ...] = (
    OFFLINE,
    DECLINED_BEFORE,
    SHIFT_ENDING,
    AT_CAPACITY,
    OUTSIDE_RADIUS_BY_ROAD,
    RANKED_BELOW_TOP_K,
)
#: Excluded couriers logged per job, nearest first.
LOGGED_EXCLUDED_PER_JOB = 20
#: Road metres are estimated from off-peak e-bike riding seconds at this speed (a local street's).
ROAD_ESTIMATE_KMH = 16.0


def excluded_list(
    *,
    jobs: Sequence[str],
    pickup_nodes: IntArray,
    radius_m: float,
    on_entities: Sequence[str],
    on_order: IntArray,
    on_distance_m: FloatArray,
    on_nodes: IntArray,
    eligible: BoolArray,
    declined: BoolArray,
    ending: BoolArray,
    room: IntArray,
    candidate: BoolArray,
    strategy_chose: BoolArray,
    off_entities: Sequence[str],
    off_order: IntArray,
    off_distance_m: FloatArray,
    road_s: npt.NDArray[np.float32],
) -> list[dict[str, Any]]:
    """The round's `excluded` entries, job by job in round order.

    `on_*` describe the on-shift couriers (the round's couriers) and `off_*` the others: entity ids, fleet
    order (for ties), straight-line metres to each job's pickup (jobs × couriers). `eligible`, `declined`,
    `candidate` are jobs × on-shift masks, `ending` and `room` per on-shift courier, `on_nodes` the node
    nearest each, `strategy_chose[j]` whether the strategy decided job j, `road_s` off-peak seconds."""
    road_limit_s = radius_m / (ROAD_ESTIMATE_KMH / 3.6)
    excluded: list[dict[str, Any]] = []
    for k, job in enumerate(jobs):
        on = np.flatnonzero((on_distance_m[k] <= radius_m) & ~candidate[k])
        if not strategy_chose[k]:
            on = on[~eligible[k, on]]
        off = np.flatnonzero(off_distance_m[k] <= radius_m)
        if on.size + off.size == 0:
            continue
        dist = np.concatenate([on_distance_m[k, on], off_distance_m[k, off]])
        order = np.concatenate([on_order[on], off_order[off]])
        picked = np.lexsort((order, dist))[:LOGGED_EXCLUDED_PER_JOB]
        for p in picked.tolist():
            if p >= on.size:
                excluded.append(
                    {"job": job, "entity": off_entities[int(off[p - on.size])], "reason": OFFLINE}
                )
                continue
            i = int(on[p])
            if declined[k, i]:
                reason = DECLINED_BEFORE
            elif ending[i]:
                reason = SHIFT_ENDING
            elif room[i] <= 0:
                reason = AT_CAPACITY
            elif float(road_s[on_nodes[i], pickup_nodes[k]]) > road_limit_s:
                reason = OUTSIDE_RADIUS_BY_ROAD
            else:
                reason = RANKED_BELOW_TOP_K
            excluded.append({"job": job, "entity": on_entities[i], "reason": reason})
    return excluded
