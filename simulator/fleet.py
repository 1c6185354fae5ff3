"""Couriers (and trucks): a plan of pickup/dropoff stops executed along fastest paths, waiting at the
merchant until the meal is ready, and the lifecycle events they cause (shifts are in `shifts.py`).

A courier's committed past is a list of legs (times in ms, x, y along the path): the GPS generator samples
them afterwards. Stops not yet started stay in `plan` and may be re-ordered by cheapest insertion.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from simulator.city import City
from simulator.events import Emit, entity_state_event

FloatArray = npt.NDArray[np.float64]

PICKUP_HANDLING_MS = 30_000
DROPOFF_HANDLING_MS = 90_000


@dataclass
class Stop:
    """One planned stop: pick up (P) or drop off (D) job `job` at road node `node`."""

    kind: Literal["P", "D"]
    job: int
    node: int


@dataclass
class Leg:
    """One committed movement: times (ms) and positions of the path's nodes."""

    t: FloatArray
    x: FloatArray
    y: FloatArray
    end_ts: float = field(init=False)

    def __post_init__(self) -> None:
        self.end_ts = float(self.t[-1])

    def position_at(self, ts: float) -> tuple[float, float]:
        """Position at `ts` by linear interpolation between the path's nodes."""
        k = int(np.searchsorted(self.t, ts, side="right"))
        if k <= 0:
            return float(self.x[0]), float(self.y[0])
        if k >= self.t.size:
            return float(self.x[-1]), float(self.y[-1])
        t0, t1 = float(self.t[k - 1]), float(self.t[k])
        f = (ts - t0) / (t1 - t0) if t1 > t0 else 1.0
        x0, y0 = float(self.x[k - 1]), float(self.y[k - 1])
        return x0 + f * (float(self.x[k]) - x0), y0 + f * (float(self.y[k]) - y0)


@dataclass
class Courier:
    """Mutable simulation state of one courier or truck."""

    index: int
    entity: str
    node: int
    free_ts: int
    shift_start: int
    shift_end: int
    capacity: int
    speed_factor: float = 1.0
    plan: list[Stop] = field(default_factory=list)
    carried: list[int] = field(default_factory=list)
    legs: list[Leg] = field(default_factory=list)
    online: bool = False
    offline_ts: int | None = None
    busy_since: int | None = None
    busy_ms: int = 0
    start_node: int = -1
    plan_end_cache: int | None = None
    idle_at: int | None = None
    moving_m: float = 0.0
    moving_s: float = 0.0

    @property
    def capacity_left(self) -> int:
        """Orders it may still take."""
        return self.capacity - len(self.carried)

    def position_at(self, city: City, ts: int) -> tuple[float, float]:
        """Local (x, y) at `ts`: along the last committed leg if still on it, else at its node."""
        if self.legs:
            leg = self.legs[-1]
            if ts < leg.end_ts:
                return leg.position_at(ts)
        return float(city.x[self.node]), float(city.y[self.node])


@dataclass
class JobBook:
    """What plans need to know about jobs, by job index: the id and when it can be picked up."""

    ids: list[str] = field(default_factory=list)
    ready_ts: list[int] = field(default_factory=list)


def plan_end_ts(*, city: City, courier: Courier, jobs: JobBook, ts: int) -> int:
    """When the courier's current plan ends (cached until the plan changes)."""
    if not courier.plan:
        return max(courier.free_ts, ts)
    if courier.plan_end_cache is None:
        courier.plan_end_cache = plan_simulate(
            city=city, courier=courier, plan=courier.plan, jobs=jobs, start_ts=ts
        )[1]
    return courier.plan_end_cache


def plan_simulate(
    *, city: City, courier: Courier, plan: list[Stop], jobs: JobBook, start_ts: int
) -> tuple[int, int, float]:
    """(end node, end ts, sum of dropoff times in seconds after start) of running `plan` from the courier's
    anchor (node, max(free_ts, start_ts))."""
    node, t = courier.node, max(courier.free_ts, start_ts)
    travel = city.travel_s[city.profile_at(t)]
    total = 0.0
    for stop in plan:
        t += int(float(travel[node, stop.node]) / courier.speed_factor * 1000)
        node = stop.node
        if stop.kind == "P":
            t = max(t + PICKUP_HANDLING_MS, jobs.ready_ts[stop.job])
        else:
            t += DROPOFF_HANDLING_MS
            total += (t - start_ts) / 1000.0
    return node, t, total


def plan_insert(
    *, city: City, courier: Courier, job: int, pickup: int, dropoff: int, jobs: JobBook, ts: int
) -> None:
    """Insert the job's pickup and dropoff where they least increase the sum of dropoff times."""
    best: list[Stop] | None = None
    best_cost = float("inf")
    base = courier.plan
    for i in range(len(base) + 1):
        with_pickup = [*base[:i], Stop("P", job, pickup), *base[i:]]
        for k in range(i + 1, len(with_pickup) + 1):
            candidate = [*with_pickup[:k], Stop("D", job, dropoff), *with_pickup[k:]]
            _, _, cost = plan_simulate(city=city, courier=courier, plan=candidate, jobs=jobs, start_ts=ts)
            if cost < best_cost:
                best, best_cost = candidate, cost
    if best is not None:  # always true: the empty insertion point exists
        courier.plan = best
    courier.plan_end_cache = None


def courier_advance(
    *, city: City, courier: Courier, until_ts: int, jobs: JobBook, emit: Emit, horizon_ts: int
) -> None:
    """Commit every stop that starts at or before `until_ts`, emitting its lifecycle events."""
    while courier.plan and courier.free_ts <= until_ts:
        stop = courier.plan.pop(0)
        courier.plan_end_cache = None
        dep = courier.free_ts
        arrive = dep
        if stop.node != courier.node:
            profile = city.profile_at(dep)
            path = city.path(profile, courier.node, stop.node)
            seconds = city.travel_s[profile][courier.node, path].astype(np.float64) / courier.speed_factor
            times = dep + seconds * 1000.0
            xs, ys = city.x[path], city.y[path]
            courier.legs.append(Leg(t=times, x=xs, y=ys))
            courier.moving_m += float(np.hypot(np.diff(xs), np.diff(ys)).sum())
            courier.moving_s += float(seconds[-1])
            arrive = int(times[-1])
        courier.node = stop.node
        job_id = jobs.ids[stop.job]
        if stop.kind == "P":
            emit({"type": "job_arrived_pickup", "job": job_id, "ts": arrive, "entity": courier.entity})
            done = max(arrive + PICKUP_HANDLING_MS, jobs.ready_ts[stop.job])
            emit({"type": "job_picked_up", "job": job_id, "ts": done, "entity": courier.entity})
        else:
            done = arrive + DROPOFF_HANDLING_MS
            emit({"type": "job_delivered", "job": job_id, "ts": done, "entity": courier.entity})
            courier.carried.remove(stop.job)
        courier.free_ts = done
        if not courier.plan:
            # idle only once `done` has passed without a new assignment (see courier_settle)
            courier.idle_at = done
    courier_settle(courier=courier, until_ts=until_ts, emit=emit, horizon_ts=horizon_ts)


def courier_settle(*, courier: Courier, until_ts: int, emit: Emit, horizon_ts: int) -> None:
    """Turn a pending idle moment at or before `until_ts` into the idle state."""
    if courier.idle_at is not None and not courier.plan and courier.idle_at <= until_ts:
        courier_set_idle(courier=courier, ts=courier.idle_at, emit=emit, horizon_ts=horizon_ts)
        courier.idle_at = None


def courier_set_busy(*, courier: Courier, ts: int, emit: Emit) -> None:
    """Mark the courier busy from `ts` (no event if it already is)."""
    courier.idle_at = None
    if courier.busy_since is None:
        courier.busy_since = ts
        emit(entity_state_event(entity=courier.entity, ts=ts, state="busy", capacity=courier.capacity))


def courier_set_idle(*, courier: Courier, ts: int, emit: Emit, horizon_ts: int) -> None:
    """Mark the courier idle at `ts`, adding its busy time inside the measured horizon."""
    if courier.busy_since is not None:
        courier.busy_ms += max(0, min(ts, horizon_ts) - min(courier.busy_since, horizon_ts))
        courier.busy_since = None
        emit(entity_state_event(entity=courier.entity, ts=ts, state="idle", capacity=courier.capacity))
