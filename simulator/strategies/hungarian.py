"""Batched Hungarian assignment (scipy linear_sum_assignment), optionally over bundles of nearby orders."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from simulator.strategies.base import (
    Decision,
    FloatArray,
    IntArray,
    RoundState,
    candidates_top,
    courier_loads,
    eligible_pairs,
    job_promise_in_s,
)

INFEASIBLE = 1e9
PICKUP_WEIGHT = 0.3


def _pair_costs(
    state: RoundState,
    *,
    radius_km: float,
    load_penalty_s: float,
    lateness_weight: float,
    only: list[int] | None = None,
) -> tuple[IntArray, IntArray, FloatArray, FloatArray, FloatArray]:
    job_idx, courier_idx, dist = eligible_pairs(state, radius_km=radius_km)
    if only is not None:  # drop other jobs' pairs before spending ETA calls on them
        keep = np.isin(job_idx, np.array(only, dtype=np.int64))
        job_idx, courier_idx, dist = job_idx[keep], courier_idx[keep], dist[keep]
    if job_idx.size == 0:
        return job_idx, courier_idx, dist, np.zeros(0), np.zeros(0)
    pickup, eta = state.eta.pickup_and_delivery_s(courier_idx, job_idx)
    load = courier_loads(state, courier_idx)
    promised = job_promise_in_s(state, job_idx)
    # riding to the merchant costs even when the meal is not ready yet, so near couriers win ties
    cost = (
        eta
        + PICKUP_WEIGHT * pickup
        + load_penalty_s * load
        + lateness_weight * np.maximum(0.0, eta - promised)
    )
    return job_idx, courier_idx, dist, eta, cost


@dataclass(frozen=True)
class HungarianStrategy:
    """Minimum total cost one-job-per-courier matching each round; cost = ETA to the door
    + `load_penalty_s` per carried order + `lateness_weight` × seconds past the promise."""

    radius_km: float = 4.0
    load_penalty_s: float = 60.0
    lateness_weight: float = 0.0
    name: str = "hungarian"
    version: str = "hungarian-1"

    def decide(self, state: RoundState) -> Decision:
        """Solve the job × courier assignment over eligible pairs; ineligible pairs are never chosen."""
        job_idx, courier_idx, dist, eta, cost = _pair_costs(
            state,
            radius_km=self.radius_km,
            load_penalty_s=self.load_penalty_s,
            lateness_weight=self.lateness_weight,
        )
        if job_idx.size == 0:
            return Decision(candidates=(), assignments=())
        jobs_u, job_row = np.unique(job_idx, return_inverse=True)
        cour_u, cour_col = np.unique(courier_idx, return_inverse=True)
        matrix = np.full((jobs_u.size, cour_u.size), INFEASIBLE)
        matrix[job_row, cour_col] = cost
        rows, cols = linear_sum_assignment(matrix)
        assignments = tuple(
            (int(jobs_u[r]), int(cour_u[c]))
            for r, c in zip(rows.tolist(), cols.tolist(), strict=True)
            if matrix[r, c] < INFEASIBLE
        )
        candidates = candidates_top(
            job_idx=job_idx,
            courier_idx=courier_idx,
            score=cost,
            eta_s=eta,
            distance_m=dist,
            assignments=assignments,
        )
        return Decision(candidates=candidates, assignments=assignments)


def bundles_build(
    state: RoundState, *, jobs: list[int], bundle_radius_m: float, max_bundle: int
) -> list[list[int]]:
    """Groups of jobs (oldest first) whose merchants lie within `bundle_radius_m`, whose doors lie within
    3 × that, and whose meals are ready within 5 minutes of each other."""
    remaining = sorted(jobs, key=lambda j: (state.jobs[j].created_ts, j))
    bundles: list[list[int]] = []
    used: set[int] = set()
    for lead in remaining:
        if lead in used:
            continue
        a = state.jobs[lead]
        group = [lead]
        used.add(lead)
        for other in remaining:
            if len(group) >= max_bundle:
                break
            if other in used:
                continue
            b = state.jobs[other]
            if (
                np.hypot(a.pickup_x - b.pickup_x, a.pickup_y - b.pickup_y) <= bundle_radius_m
                and np.hypot(a.dropoff_x - b.dropoff_x, a.dropoff_y - b.dropoff_y) <= 3 * bundle_radius_m
                and abs(a.ready_ts - b.ready_ts) <= 300_000
            ):
                group.append(other)
                used.add(other)
        bundles.append(group)
    return bundles


@dataclass(frozen=True)
class HungarianBundleStrategy:
    """Hungarian over bundles: nearby orders go to one courier together (cost = the bundle's summed ETAs
    + 60 s per extra stop); a bundle only goes to a courier with room for all of it."""

    radius_km: float = 4.0
    bundle_radius_m: float = 400.0
    max_bundle: int = 2
    load_penalty_s: float = 60.0
    name: str = "hungarian-bundle"
    version: str = "hungarian-bundle-1"

    def decide_jobs(self, state: RoundState, jobs: list[int]) -> Decision:
        """Bundle and assign only `jobs` (the others are left pending)."""
        job_idx, courier_idx, dist, eta, cost = _pair_costs(
            state,
            radius_km=self.radius_km,
            load_penalty_s=self.load_penalty_s,
            lateness_weight=0.0,
            only=jobs,
        )
        if job_idx.size == 0:
            return Decision(candidates=(), assignments=())
        bundles = bundles_build(
            state,
            jobs=sorted(set(job_idx.tolist())),
            bundle_radius_m=self.bundle_radius_m,
            max_bundle=self.max_bundle,
        )
        cour_u = np.unique(courier_idx)
        col_of = {int(c): k for k, c in enumerate(cour_u.tolist())}
        pair_cost = {(int(j), int(c)): float(s) for j, c, s in zip(job_idx, courier_idx, cost, strict=True)}
        matrix = np.full((len(bundles), cour_u.size), INFEASIBLE)
        for r, bundle in enumerate(bundles):
            for c in cour_u.tolist():
                if state.couriers[c].capacity_left < len(bundle):
                    continue
                parts = [pair_cost.get((j, c)) for j in bundle]
                if all(p is not None for p in parts):
                    matrix[r, col_of[c]] = sum(p for p in parts if p is not None) + 60.0 * (len(bundle) - 1)
        rows, cols = linear_sum_assignment(matrix)
        assignments: list[tuple[int, int]] = []
        for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
            if matrix[r, c] < INFEASIBLE:
                assignments.extend((j, int(cour_u[c])) for j in bundles[r])
        candidates = candidates_top(
            job_idx=job_idx,
            courier_idx=courier_idx,
            score=cost,
            eta_s=eta,
            distance_m=dist,
            assignments=tuple(assignments),
        )
        return Decision(candidates=candidates, assignments=tuple(assignments))

    def decide(self, state: RoundState) -> Decision:
        """Bundle every pending job and assign the bundles."""
        return self.decide_jobs(state, list(range(len(state.jobs))))
