"""Nearest: each job, oldest first, goes to the straight-line nearest courier with room (no ETA calls)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.strategies.base import Decision, RoundState, candidates_top, eligible_pairs


@dataclass(frozen=True)
class NearestStrategy:
    """Straight-line nearest courier within `radius_km`; blind to rivers, traffic and backlog."""

    radius_km: float = 4.0
    name: str = "nearest"
    version: str = "nearest-1"

    def decide(self, state: RoundState) -> Decision:
        """Assign jobs oldest first to the nearest courier that still has room."""
        job_idx, courier_idx, dist = eligible_pairs(state, radius_km=self.radius_km)
        room = [c.capacity_left for c in state.couriers]
        order = sorted(range(len(state.jobs)), key=lambda j: (state.jobs[j].created_ts, j))
        assignments: list[tuple[int, int]] = []
        for j in order:
            mask = job_idx == j
            if not mask.any():
                continue
            for k in np.argsort(dist[mask], kind="stable").tolist():
                c = int(courier_idx[mask][k])
                if room[c] > 0:
                    room[c] -= 1
                    assignments.append((j, c))
                    break
        candidates = candidates_top(
            job_idx=job_idx,
            courier_idx=courier_idx,
            score=dist,
            eta_s=None,
            distance_m=dist,
            assignments=tuple(assignments),
        )
        return Decision(candidates=candidates, assignments=tuple(assignments))
