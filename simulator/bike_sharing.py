"""Bike sharing: riders take bikes between docking areas; a trip finding no bike is cancelled
(`no_bike_available`) and its area is a `dry_area` incident; areas at or below `low_stock` get rebalancing
tasks that the strategy dispatches to trucks. See docs/simulator.md for what is modelled.

Rides are not dispatched: a trip takes the area's longest-parked bike at once. Bikes are entities that park
(`RunResult.parked_entities`): they report GPS while ridden and rarely while parked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from simulator.city import City
from simulator.demand import Trips, areas_place, bike_trips_generate
from simulator.designs import Design
from simulator.draws import unit_draw
from simulator.events import entity_state_event, job_created_event
from simulator.fleet import Courier, Leg
from simulator.jobs import JobState
from simulator.results import RunResult
from simulator.runs import Progress, RunFrame, run_open
from simulator.scenarios import BikeSharingParams
from simulator.shifts import couriers_create, fleet_step, shifts_close
from simulator.strategies.base import Strategy

IntArray = npt.NDArray[np.int64]


@dataclass
class _Docks:
    """The bikes: which are parked in each area, which are on their way to one, and the areas in trouble."""

    area_nodes: IntArray
    bikes: list[Courier]
    stock: list[list[int]]  # bike indices parked per area, longest parked first
    initial: list[int]
    free_at: list[int]  # when each bike's current ride ends
    arriving: list[tuple[int, int, int]] = field(default_factory=list)  # (ts, area, bike)
    dry_now: set[int] = field(default_factory=set)
    awaiting_truck: set[int] = field(default_factory=set)  # areas with an open rebalancing task
    dry_incidents: list[dict[str, Any]] = field(default_factory=list)

    def dock_arrivals(self, ts: int) -> None:
        """Rides and truck drops that have arrived by `ts` dock at their area."""
        self.arriving.sort()
        while self.arriving and self.arriving[0][0] <= ts:
            _, area, bike = self.arriving.pop(0)
            self.stock[area].append(bike)


def _docks_stock(*, params: BikeSharingParams, area_nodes: IntArray, start_ms: int, end_ms: int) -> _Docks:
    rng = np.random.default_rng([params.seed, 6])
    # initial stock: evenly spread, so residential areas drain into work areas at the morning peak
    stock: list[list[int]] = [[] for _ in range(area_nodes.size)]
    for b, a in enumerate(rng.permutation(np.arange(params.bikes) % area_nodes.size).tolist()):
        stock[a].append(b)
    bikes = [
        Courier(
            index=b,
            entity=f"bike:{b + 1}",
            node=0,
            start_node=0,
            free_ts=start_ms,
            shift_start=start_ms,
            shift_end=end_ms,
            capacity=1,
        )
        for b in range(params.bikes)
    ]
    for a, parked in enumerate(stock):
        for b in parked:
            bikes[b].node = bikes[b].start_node = int(area_nodes[a])
    return _Docks(
        area_nodes=area_nodes,
        bikes=bikes,
        stock=stock,
        initial=[len(s) for s in stock],
        free_at=[start_ms] * params.bikes,
    )


def _trip_ride(*, frame: RunFrame, docks: _Docks, trips: Trips, k: int) -> JobState:
    """Trip `k`: a ride on the origin area's longest-parked bike, or a cancellation if the area is dry."""
    city, log = frame.city, frame.log
    t_req = int(trips.ts[k])
    origin, dest = int(trips.origin[k]), int(trips.destination[k])
    o_node, d_node = int(docks.area_nodes[origin]), int(docks.area_nodes[dest])
    ride = JobState(
        index=k,
        job=f"ride:{k + 1}",
        kind="ride",
        zone=city.zone[o_node],
        variant="",
        pickup=o_node,
        dropoff=d_node,
        created_ts=t_req,
        ready_ts=t_req,
        promised_ts=None,
        available_ts=t_req,
        done=True,
    )
    log.emit(
        job_created_event(
            city=city,
            job=ride.job,
            ts=t_req,
            kind=ride.kind,
            zone=ride.zone,
            pickup_node=o_node,
            dropoff_node=d_node,
            attrs={"origin_area": f"area:{origin + 1}", "destination_area": f"area:{dest + 1}"},
        )
    )
    if not docks.stock[origin]:
        log.emit({"type": "job_cancelled", "job": ride.job, "ts": t_req, "reason": "no_bike_available"})
        ride.cancelled_ts = t_req
        if origin not in docks.dry_now:
            docks.dry_now.add(origin)
            docks.dry_incidents.append(
                {
                    "kind": "dry_area",
                    "ts": t_req,
                    "area": f"area:{origin + 1}",
                    "zone": ride.zone,
                    "jobs": [ride.job],
                }
            )
        return ride
    b = docks.stock[origin].pop(0)
    bike = docks.bikes[b]
    dep = max(t_req + 30_000, docks.free_at[b])
    profile = city.profile_at(dep)
    path = city.path(profile, o_node, d_node)
    # riders are slower than couriers and vary: 0.7-1.0 of the e-bike courier speed
    factor = 0.7 + 0.3 * unit_draw(frame.seed, 23, k + 1)
    seconds = city.travel_s[profile][o_node, path].astype(np.float64) / factor
    times = dep + seconds * 1000.0
    bike.legs.append(Leg(t=times, x=city.x[path], y=city.y[path]))
    bike.moving_m += float(np.hypot(np.diff(city.x[path]), np.diff(city.y[path])).sum())
    bike.moving_s += float(seconds[-1])
    arrive = int(times[-1])
    bike.node = d_node
    docks.free_at[b] = arrive
    docks.arriving.append((arrive, dest, b))
    ride.attempts, ride.entity = 1, bike.entity
    base = {"job": ride.job, "entity": bike.entity}
    log.emit({"type": "job_assigned", "ts": t_req, **base})
    log.emit({"type": "job_accepted", "ts": t_req, **base})
    log.emit(entity_state_event(entity=bike.entity, ts=dep, state="busy", capacity=1))
    log.emit({"type": "job_picked_up", "ts": dep, **base})
    log.emit({"type": "job_delivered", "ts": arrive, **base})
    log.emit(entity_state_event(entity=bike.entity, ts=arrive, state="idle", capacity=1))
    return ride


def _tasks_open(
    *,
    frame: RunFrame,
    docks: _Docks,
    params: BikeSharingParams,
    tasks: list[JobState],
    task_loads: list[tuple[int, int, int]],
) -> list[JobState]:
    """Rebalancing tasks for areas at or below low stock (or dry), each from the area of largest surplus."""
    city, ts = frame.city, frame.now
    opened: list[JobState] = []
    n_areas = docks.area_nodes.size
    counts = [len(s) for s in docks.stock]
    for a in range(n_areas):
        if a in docks.awaiting_truck or (counts[a] > params.low_stock and a not in docks.dry_now):
            continue
        surplus = [counts[s] - docks.initial[s] for s in range(n_areas)]
        donor = int(np.argmax(surplus))
        if surplus[donor] <= params.low_stock or donor == a:
            continue
        load = min(params.truck_load, surplus[donor])
        i = len(tasks)
        p_node, d_node = int(docks.area_nodes[donor]), int(docks.area_nodes[a])
        zone = city.zone[d_node]
        task = JobState(
            index=i,
            job=f"task:{i + 1}",
            kind="rebalance",
            zone=zone,
            variant=frame.experiment.variant(job_no=i, zone=zone, created_ts=ts),
            pickup=p_node,
            dropoff=d_node,
            created_ts=ts,
            ready_ts=ts,
            promised_ts=None,
            available_ts=ts,
        )
        tasks.append(task)
        task_loads.append((donor, a, load))
        frame.book.ids.append(task.job)
        frame.book.ready_ts.append(ts)
        docks.awaiting_truck.add(a)
        counts[donor] -= load
        frame.log.emit(
            job_created_event(
                city=city,
                job=task.job,
                ts=ts,
                kind=task.kind,
                zone=zone,
                pickup_node=p_node,
                dropoff_node=d_node,
                attrs={"bikes": load, "from_area": f"area:{donor + 1}", "to_area": f"area:{a + 1}"},
            )
        )
        frame.job_announce(task)
        for inc in docks.dry_incidents:
            if inc["area"] == f"area:{a + 1}" and "task" not in inc:
                inc["task"] = task.job
                inc["jobs"] = [*inc["jobs"], task.job]
        opened.append(task)
    return opened


def _loads_move(*, frame: RunFrame, docks: _Docks, to_area: int, donor: int, load: int) -> None:
    """A finished task's bikes leave the donor area and dock at `to_area`; on the truck they report nothing,
    so they reappear at the drop (a "teleport" in GPS)."""
    city, ts, stock = frame.city, frame.now, docks.stock
    moved = [stock[donor].pop(0) for _ in range(min(load, len(stock[donor])))]
    docks.arriving.extend((ts, to_area, b) for b in moved)
    drop = docks.area_nodes[to_area]
    for b in moved:
        bike = docks.bikes[b]
        last = bike.legs[-1].end_ts if bike.legs else float(frame.start_ms)
        bike.legs.append(
            Leg(
                t=np.array([max(last, float(ts - 1000)), float(ts)]),
                x=np.array([city.x[bike.node], city.x[drop]]),
                y=np.array([city.y[bike.node], city.y[drop]]),
            )
        )
        bike.node = int(drop)
    docks.awaiting_truck.discard(to_area)
    docks.dry_now.discard(to_area)


def run(
    *,
    params: BikeSharingParams,
    strategies: dict[str, Strategy],
    design: Design,
    dataset: str,
    city: City | None = None,
    progress: Progress | None = None,
) -> RunResult:
    """Simulate bike trips between areas; areas that run dry get rebalancing tasks dispatched to trucks."""
    frame = run_open(params=params, strategies=strategies, design=design, dataset=dataset, city=city)
    city, log, start, end = frame.city, frame.log, frame.start_ms, frame.end_ms
    area_nodes, area_district = areas_place(city=city, params=params)
    trips = bike_trips_generate(
        city=city, params=params, start_ms=start, area_nodes=area_nodes, area_district=area_district
    )
    docks = _docks_stock(params=params, area_nodes=area_nodes, start_ms=start, end_ms=end)
    trucks = couriers_create(
        n=params.trucks,
        city=city,
        start_ms=start,
        end_ms=end,
        capacity=1,
        late_share=0.0,
        seed=params.seed,
        stream=7,
        kind="truck",
        speed_factor=2.0,
        near={"commercial"},
    )
    rides: list[JobState] = []
    tasks: list[JobState] = []
    task_loads: list[tuple[int, int, int]] = []  # (donor area, to area, bikes) per task
    pending: list[JobState] = []
    for bike in docks.bikes:
        log.emit(entity_state_event(entity=bike.entity, ts=start, state="online", city=city.name, capacity=1))
    for ts in frame.ticks(progress=progress):
        docks.dock_arrivals(ts)
        while len(rides) < trips.ts.size and trips.ts[len(rides)] <= ts:
            rides.append(_trip_ride(frame=frame, docks=docks, trips=trips, k=len(rides)))
        if ts < end:
            pending += _tasks_open(
                frame=frame, docks=docks, params=params, tasks=tasks, task_loads=task_loads
            )
        carried_before = {c.entity: list(c.carried) for c in trucks}
        online = fleet_step(couriers=trucks, city=city, ts=ts, book=frame.book, log=log, end_ms=end)
        for truck in trucks:
            for task_index in carried_before.get(truck.entity, []):
                if task_index not in truck.carried:
                    donor, to_area, load = task_loads[task_index]
                    _loads_move(frame=frame, docks=docks, to_area=to_area, donor=donor, load=load)
        pending = frame.dispatch(pending=pending, fleet=trucks, online=online, decline_base=0.0)
        if ts >= end and not pending and not docks.arriving and all(c.offline_ts is not None for c in trucks):
            break
    shifts_close(couriers=trucks, ts=frame.now, city=city, log=log, end_ms=end, settle_busy=False)
    for bike in docks.bikes:
        bike.offline_ts = max(end, docks.free_at[bike.index])
        bike.shift_end = bike.offline_ts
    return frame.result(
        couriers=trucks + docks.bikes,
        jobs=rides + tasks,
        parked_entities=frozenset(bike.entity for bike in docks.bikes),
        extra_incidents=docks.dry_incidents,
    )
