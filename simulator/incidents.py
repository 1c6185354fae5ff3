"""The incident manifest of a run: late deliveries, re-dispatched jobs, cross-river assignments (worst road
detour first), GPS jumps, failed rounds and (bike sharing) areas that ran dry, each with the job ids to open
in playback.

Layout: {"dataset", "counts": {kind: n}, "incidents": [{"kind", "ts", "jobs", "entity", ...}]}; at most
`per_kind` incidents of each kind are listed (the worst first), `counts` has them all.
"""

from __future__ import annotations

from typing import Any

from simulator.results import RunResult


def incidents_collect(
    *, result: RunResult, gps_jumps: tuple[tuple[str, int, float], ...], per_kind: int
) -> dict[str, Any]:
    """The manifest for `result`, given the GPS jumps the writer injected."""
    late = sorted(
        (
            (j.delivered_ts - j.promised_ts, j)
            for j in result.jobs
            if j.delivered_ts is not None and j.promised_ts is not None and j.delivered_ts > j.promised_ts
        ),
        key=lambda p: (-p[0], p[1].job),
    )
    redispatched = sorted(
        (j for j in result.jobs if j.rejections > 0), key=lambda j: (-j.rejections, j.created_ts)
    )
    cross = sorted((j for j in result.jobs if j.cross_river), key=lambda j: (-j.detour, j.created_ts))
    carried: dict[str, list[tuple[int, int, str]]] = {}
    for j in result.jobs:
        if j.entity is not None and j.delivered_ts is not None:
            carried.setdefault(j.entity, []).append((j.created_ts, j.delivered_ts, j.job))
    kinds: dict[str, list[dict[str, Any]]] = {
        "late": [
            {
                "kind": "late",
                "ts": j.delivered_ts,
                "jobs": [j.job],
                "entity": j.entity,
                "late_s": round(d / 1000),
            }
            for d, j in late
        ],
        "redispatched": [
            {
                "kind": "redispatched",
                "ts": j.created_ts,
                "jobs": [j.job],
                "entity": j.entity,
                "rejections": j.rejections,
            }
            for j in redispatched
        ],
        "cross_river": [
            {
                "kind": "cross_river",
                "ts": j.created_ts,
                "jobs": [j.job],
                "entity": j.entity,
                "detour": round(j.detour, 2),
                "late": j.delivered_ts is not None
                and j.promised_ts is not None
                and j.delivered_ts > j.promised_ts,
            }
            for j in cross
        ],
        "gps_jump": [
            {
                "kind": "gps_jump",
                "ts": ts,
                "entity": entity,
                "jump_m": round(m),
                "jobs": [job for a, b, job in carried.get(entity, []) if a <= ts <= b],
            }
            for entity, ts, m in sorted(gps_jumps, key=lambda g: (-g[2], g[0], g[1]))
        ],
        "failed_round": [
            {
                "kind": "failed_round",
                "ts": f.ts,
                "round": f.round,
                "strategy": f.strategy,
                "error": f.error,
                "jobs": [],
            }
            for f in result.failures
        ],
        "dry_area": list(result.extra_incidents),
    }
    return {
        "dataset": result.dataset,
        "counts": {k: len(v) for k, v in kinds.items()},
        "incidents": [item for k in kinds for item in kinds[k][:per_kind]],
    }
