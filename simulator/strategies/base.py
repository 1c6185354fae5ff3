"""What a dispatch strategy sees and returns: the round state, the budgeted ETA oracle and the decision.

A strategy is any object with `name`, `version` and `decide(state) -> Decision`. Jobs and couriers are
referred to by their index in `state.jobs` / `state.couriers`. Scores are costs: lower is better.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class EtaBudgetExceeded(RuntimeError):
    """A strategy asked for more ETAs than its per-round budget allows."""


class EtaOracle:
    """Road-network ETAs for one round, counted against a budget (one call = one courier-job pair)."""

    def __init__(
        self,
        *,
        travel_s: npt.NDArray[np.float32],
        speed_factor: float,
        courier_nodes: IntArray,
        courier_backlog_s: FloatArray,
        job_pickup_nodes: IntArray,
        job_dropoff_nodes: IntArray,
        job_ready_in_s: FloatArray,
        budget: int,
    ) -> None:
        self._travel = travel_s
        self._factor = speed_factor
        self._courier_nodes = courier_nodes
        self._backlog = courier_backlog_s
        self._pickup = job_pickup_nodes
        self._dropoff = job_dropoff_nodes
        self._ready = job_ready_in_s
        self.budget = budget
        self.calls = 0

    def _spend(self, n: int) -> None:
        if self.calls + n > self.budget:
            raise EtaBudgetExceeded(
                f"ETA budget of {self.budget} calls exceeded ({self.calls} used, {n} more asked)"
            )
        self.calls += n

    def pickup_s(self, couriers: IntArray, jobs: IntArray) -> FloatArray:
        """Seconds until each courier (after its current plan) reaches each paired job's merchant."""
        self._spend(int(couriers.size))
        road = (
            self._travel[self._courier_nodes[couriers], self._pickup[jobs]].astype(np.float64) / self._factor
        )
        return np.asarray(self._backlog[couriers] + road, dtype=np.float64)

    def delivery_s(self, couriers: IntArray, jobs: IntArray) -> FloatArray:
        """Seconds until each paired job reaches its door: pickup ETA, wait for the meal, ride to the door."""
        return self.pickup_and_delivery_s(couriers, jobs)[1]

    def pickup_and_delivery_s(self, couriers: IntArray, jobs: IntArray) -> tuple[FloatArray, FloatArray]:
        """Both ETAs of each pair (one call per pair): to the merchant, and to the door."""
        pickup = self.pickup_s(couriers, jobs)
        ride = self._travel[self._pickup[jobs], self._dropoff[jobs]].astype(np.float64) / self._factor
        return pickup, np.asarray(np.maximum(pickup, self._ready[jobs]) + ride, dtype=np.float64)

    def travel_s(self, from_nodes: IntArray, to_nodes: IntArray) -> FloatArray:
        """Seconds of riding between paired road nodes (one call per pair)."""
        self._spend(int(from_nodes.size))
        return np.asarray(
            self._travel[from_nodes, to_nodes].astype(np.float64) / self._factor, dtype=np.float64
        )


@dataclass(frozen=True)
class JobView:
    """A pending job as the dispatcher sees it."""

    job: str
    pickup_node: int
    dropoff_node: int
    pickup_x: float
    pickup_y: float
    dropoff_x: float
    dropoff_y: float
    created_ts: int
    ready_ts: int
    promised_ts: int | None
    attempts: int
    zone: str


@dataclass(frozen=True)
class CourierView:
    """An available courier: position now, where and when its current plan ends, what it carries."""

    entity: str
    x: float
    y: float
    node: int
    backlog_s: float
    carried: tuple[str, ...]
    capacity_left: int


@dataclass(frozen=True)
class RoundState:
    """Everything a strategy may use in one round; `eligible[j]` lists couriers the dispatcher allows for
    job j (within the radius, with room, not declined before); `distance_m[j, c]` is straight-line metres."""

    round: str
    ts: int
    jobs: tuple[JobView, ...]
    couriers: tuple[CourierView, ...]
    eligible: tuple[IntArray, ...]
    distance_m: FloatArray
    eta: EtaOracle


@dataclass(frozen=True)
class Candidate:
    """One scored (job, courier) pair; `score` is a cost, lower is better."""

    job: int
    courier: int
    score: float
    eta_s: float | None
    distance_m: float
    features: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Decision:
    """A strategy's answer: the candidates it scored, its (job, courier) assignments, the jobs held back."""

    candidates: tuple[Candidate, ...]
    assignments: tuple[tuple[int, int], ...]
    postponed: tuple[int, ...] = ()


class Strategy(Protocol):
    """A dispatch strategy: one method from round state to decision."""

    @property
    def name(self) -> str:
        """The name the strategy is registered and logged under."""
        ...

    @property
    def version(self) -> str:
        """Logged as the round's `strategy_version`."""
        ...

    def decide(self, state: RoundState) -> Decision:
        """Scored candidates, assignments and postponements for this round."""
        ...


def eligible_pairs(state: RoundState, *, radius_km: float) -> tuple[IntArray, IntArray, FloatArray]:
    """(job, courier, distance_m) arrays of every eligible pair within `radius_km`, jobs in order."""
    jobs: list[IntArray] = []
    couriers: list[IntArray] = []
    for j, allowed in enumerate(state.eligible):
        near = allowed[state.distance_m[j, allowed] <= radius_km * 1000.0]
        jobs.append(np.full(near.size, j, dtype=np.int64))
        couriers.append(near.astype(np.int64))
    if not jobs:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    job_idx = np.concatenate(jobs)
    courier_idx = np.concatenate(couriers)
    return job_idx, courier_idx, state.distance_m[job_idx, courier_idx]


def candidates_top(
    *,
    job_idx: IntArray,
    courier_idx: IntArray,
    score: FloatArray,
    eta_s: FloatArray | None,
    distance_m: FloatArray,
    assignments: tuple[tuple[int, int], ...],
    per_job: int = 8,
) -> tuple[Candidate, ...]:
    """The `per_job` lowest-score candidates of each job, plus every assigned pair (what the log keeps)."""
    if job_idx.size == 0:
        return ()
    order = np.lexsort((courier_idx, score, job_idx))
    sorted_jobs = job_idx[order]
    starts = np.searchsorted(sorted_jobs, sorted_jobs, side="left")
    rank = np.arange(order.size) - starts
    keep = np.zeros(order.size, dtype=bool)
    keep[order[rank < per_job]] = True
    if assignments:
        width = int(courier_idx.max()) + 1 + max(c for _, c in assignments)
        wanted = np.array([j * width + c for j, c in assignments], dtype=np.int64)
        keep |= np.isin(job_idx * width + courier_idx, wanted)
    chosen = np.flatnonzero(keep)
    etas = [None] * chosen.size if eta_s is None else eta_s[chosen].tolist()
    return tuple(
        Candidate(job=j, courier=c, score=s, eta_s=e, distance_m=d)
        for j, c, s, e, d in zip(
            job_idx[chosen].tolist(),
            courier_idx[chosen].tolist(),
            score[chosen].tolist(),
            etas,
            distance_m[chosen].tolist(),
            strict=True,
        )
    )


def courier_loads(state: RoundState, couriers: IntArray) -> FloatArray:
    """Orders carried by each listed courier."""
    carried = np.array([len(c.carried) for c in state.couriers], dtype=np.float64)
    return np.asarray(carried[couriers], dtype=np.float64)


def job_promise_in_s(state: RoundState, jobs: IntArray, *, default_s: float = 1e6) -> FloatArray:
    """Seconds from now to each listed job's promised time (`default_s` when it has none)."""
    promise = np.array(
        [default_s if j.promised_ts is None else (j.promised_ts - state.ts) / 1000.0 for j in state.jobs],
        dtype=np.float64,
    )
    return np.asarray(promise[jobs], dtype=np.float64)
