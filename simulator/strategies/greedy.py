"""Greedy by ETA: all eligible pairs sorted by estimated delivery time, taken while jobs and room remain."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.strategies.base import (
    Decision,
    RoundState,
    candidates_top,
    courier_loads,
    eligible_pairs,
)


@dataclass(frozen=True)
class GreedyEtaStrategy:
    """Cheapest pair first; cost = estimated seconds to the door + `load_penalty_s` per order carried."""

    radius_km: float = 4.0
    load_penalty_s: float = 60.0
    name: str = "greedy"
    version: str = "greedy-1"

    def decide(self, state: RoundState) -> Decision:
        """Assign pairs in increasing cost while the job is unassigned and the courier has room."""
        job_idx, courier_idx, dist = eligible_pairs(state, radius_km=self.radius_km)
        if job_idx.size == 0:
            return Decision(candidates=(), assignments=())
        pickup, eta = state.eta.pickup_and_delivery_s(courier_idx, job_idx)
        load = courier_loads(state, courier_idx)
        cost = eta + 0.3 * pickup + self.load_penalty_s * load
        room = [c.capacity_left for c in state.couriers]
        taken: set[int] = set()
        assignments: list[tuple[int, int]] = []
        for k in np.argsort(cost, kind="stable").tolist():
            j, c = int(job_idx[k]), int(courier_idx[k])
            if j in taken or room[c] <= 0:
                continue
            taken.add(j)
            room[c] -= 1
            assignments.append((j, c))
            if len(taken) == len(state.jobs):
                break
        candidates = candidates_top(
            job_idx=job_idx,
            courier_idx=courier_idx,
            score=cost,
            eta_s=eta,
            distance_m=dist,
            assignments=tuple(assignments),
        )
        return Decision(candidates=candidates, assignments=tuple(assignments))
