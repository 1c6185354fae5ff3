"""Simulation runs: the food-delivery and bike-sharing loops, experiment designs and dataset naming.

A run steps through dispatch rounds; between rounds couriers commit the stops they have started. Designs:
`paired` runs one strategy per dataset on common random numbers (the same orders, shifts and decline draws);
`ab` splits jobs between strategies by a hash of the job inside one run; `switchback` gives each
city × zone × 30-minute cell one strategy.
Datasets are named `sim-<scenario>-<strategy|ab|switchback>-<seed>`.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from simulator.city import City, city_generate
from simulator.demand import (
    areas_place,
    bike_trips_generate,
    food_orders_generate,
    sim_start_ms,
)
from simulator.dispatcher import PendingJob, round_run
from simulator.fleet import (
    Courier,
    Event,
    JobBook,
    Leg,
    courier_advance,
    courier_set_busy,
    courier_set_idle,
    courier_settle,
    plan_insert,
    unit_draw,
)
from simulator.scenarios import BikeSharingParams, CityParams, FoodDeliveryParams, ScenarioParams
from simulator.strategies.base import Strategy

Design = Literal["paired", "ab", "switchback"]
DESIGNS: tuple[Design, ...] = ("paired", "ab", "switchback")
SWITCHBACK_SLOT_MS = 30 * 60_000
#: After demand stops, rounds go on this long at most so started orders can finish.
DRAIN_MS = 2 * 3_600_000
#: Shifts run this long past the end of demand so the last orders still find couriers.
SHIFT_OVERTIME_MS = 45 * 60_000


@dataclass(frozen=True)
class RoundFailure:
    """A round whose strategy failed, and why."""

    round: str
    ts: int
    strategy: str
    error: str


@dataclass(frozen=True)
class JobRecord:
    """Outcome of one job, for metrics and the incident manifest."""

    job: str
    kind: str
    variant: str
    created_ts: int
    promised_ts: int | None
    picked_up_ts: int | None
    delivered_ts: int | None
    cancelled_ts: int | None
    attempts: int
    rejections: int
    entity: str | None
    cross_river: bool
    detour: float = 1.0  # road metres ÷ straight metres from the courier to the merchant when assigned


@dataclass
class RunResult:
    """Everything one run produced: its events, the entities' committed movements and per-job outcomes."""

    dataset: str
    scenario: str
    design: Design
    seed: int
    strategies: tuple[str, ...]
    city: City
    params: ScenarioParams
    start_ms: int
    end_ms: int
    events: list[Event]
    couriers: list[Courier]
    jobs: list[JobRecord]
    failures: list[RoundFailure]
    rounds: int
    eta_calls: int
    parked_entities: frozenset[str] = frozenset()
    extra_incidents: list[dict[str, Any]] = field(default_factory=list)


_CITY_CACHE: dict[tuple[CityParams, int], City] = {}


def city_for(*, params: CityParams, seed: int) -> City:
    """The generated city for (params, seed), built once per process."""
    key = (params, seed)
    if key not in _CITY_CACHE:
        _CITY_CACHE.clear()  # one city at a time keeps memory flat across seeds
        _CITY_CACHE[key] = city_generate(params=params, seed=seed)
    return _CITY_CACHE[key]


def dataset_name(*, scenario: str, strategy_or_design: str, seed: int) -> str:
    """`sim-<scenario>-<strategy>-<seed>` (or the design name for multi-strategy runs)."""
    return f"sim-{scenario}-{strategy_or_design}-{seed}"


def _variant_picker(
    *, design: Design, names: tuple[str, ...], seed: int, city: City
) -> Callable[[int, str, int], str]:
    def pick(job_no: int, zone: str, created_ts: int) -> str:
        if design == "paired" or len(names) == 1:
            return names[0]
        if design == "ab":
            return names[int(unit_draw(seed, 11, job_no) * len(names))]
        slot = created_ts // SWITCHBACK_SLOT_MS
        return names[int(unit_draw(seed, 13, zlib.crc32(zone.encode()), slot) * len(names))]

    return pick


class _Log:
    """Events in emission order; the writer sorts them by (ts, emission order)."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def emit(self, event: Event) -> None:
        self.events.append(event)


def _experiment_events(
    *,
    log: _Log,
    design: Design,
    scenario: str,
    seed: int,
    city: City,
    job: str,
    zone: str,
    variant: str,
    created_ts: int,
    cells: set[str],
) -> None:
    experiment = f"sim-{scenario}-{design}-{seed}"
    if design == "switchback":
        slot = created_ts // SWITCHBACK_SLOT_MS * SWITCHBACK_SLOT_MS
        unit = f"{city.name}|{zone}|{slot}"
        if unit not in cells:
            cells.add(unit)
            log.emit(
                {
                    "type": "experiment_assignment",
                    "experiment": experiment,
                    "unit": unit,
                    "variant": variant,
                    "ts": slot,
                    "city": city.name,
                }
            )
        return
    log.emit(
        {
            "type": "experiment_assignment",
            "experiment": experiment,
            "unit": job,
            "variant": variant,
            "ts": created_ts,
            "city": city.name,
        }
    )


def _couriers_create(
    *,
    n: int,
    city: City,
    start_ms: int,
    end_ms: int,
    capacity: int,
    late_share: float,
    seed: int,
    stream: int,
    kind: str,
    speed_factor: float,
    near: set[str],
) -> list[Courier]:
    rng = np.random.default_rng([seed, stream])
    near_nodes = np.flatnonzero(np.array([d in near for d in city.district]))
    near_nodes = near_nodes if near_nodes.size else np.arange(city.n_nodes)
    start_nodes = np.where(
        rng.uniform(0, 1, n) < 0.6,
        near_nodes[rng.integers(0, near_nodes.size, n)],
        rng.integers(0, city.n_nodes, n),
    )
    late = rng.uniform(0, 1, n) < late_share
    early = rng.uniform(0, 1, n) < late_share
    starts = start_ms + np.where(late, rng.integers(0, 30 * 60_000, n), 0)
    ends = end_ms + SHIFT_OVERTIME_MS - np.where(early, rng.integers(30 * 60_000, 75 * 60_000, n), 0)
    return [
        Courier(
            index=i,
            entity=f"{kind}:{i + 1}",
            node=int(start_nodes[i]),
            start_node=int(start_nodes[i]),
            free_ts=int(starts[i]),
            shift_start=int(starts[i]),
            shift_end=int(max(ends[i], starts[i] + 60_000)),
            capacity=capacity,
            speed_factor=speed_factor,
        )
        for i in range(n)
    ]


def _fleet_step(
    *, couriers: list[Courier], city: City, ts: int, book: JobBook, log: _Log, end_ms: int
) -> list[Courier]:
    """Bring couriers online, commit their started stops, take finished ones offline; return those online."""
    online: list[Courier] = []
    for c in couriers:
        if c.offline_ts is not None:
            continue
        if not c.online:
            if c.shift_start > ts:
                continue
            c.online = True
            log.emit(
                {
                    "type": "entity_state",
                    "entity": c.entity,
                    "ts": c.shift_start,
                    "state": "online",
                    "city": city.name,
                    "capacity": c.capacity,
                }
            )
            log.emit(
                {
                    "type": "entity_state",
                    "entity": c.entity,
                    "ts": c.shift_start,
                    "state": "idle",
                    "city": city.name,
                    "capacity": c.capacity,
                }
            )
        courier_advance(city=city, courier=c, until_ts=ts, jobs=book, emit=log.emit, horizon_ts=end_ms)
        if ts >= c.shift_end and not c.plan and not c.carried:
            courier_settle(courier=c, until_ts=c.free_ts, emit=log.emit, horizon_ts=end_ms)
            c.offline_ts = max(c.shift_end, c.free_ts)
            c.online = False
            log.emit(
                {
                    "type": "entity_state",
                    "entity": c.entity,
                    "ts": c.offline_ts,
                    "state": "offline",
                    "city": city.name,
                }
            )
            continue
        online.append(c)
    return online


@dataclass
class _JobState:
    index: int
    job: str
    zone: str
    variant: str
    pickup: int
    dropoff: int
    created_ts: int
    ready_ts: int
    promised_ts: int | None
    available_ts: int
    attempts: int = 0
    rejections: int = 0
    declined_by: set[int] = field(default_factory=set)
    entity: str | None = None
    cross_river: bool = False
    detour: float = 1.0
    done: bool = False


def _dispatch(
    *,
    pending: list[_JobState],
    online: list[Courier],
    strategies: dict[str, Strategy],
    round_no: int,
    ts: int,
    city: City,
    book: JobBook,
    log: _Log,
    radius_km: float,
    eta_budget: int,
    decline_base: float,
    seed: int,
    failures: list[RoundFailure],
) -> int:
    """Run one round per strategy (variant order rotates each round) and apply accepted assignments."""
    names = sorted(strategies)
    shift = round_no % len(names)
    eta_calls = 0
    for k, name in enumerate(names[shift:] + names[:shift]):
        group = [j for j in pending if j.variant == name and j.available_ts <= ts and not j.done]
        if not group:
            continue
        suffix = "" if len(names) == 1 else f"-{k}"
        round_id = f"round:{round_no}{suffix}"
        jobs = [
            PendingJob(
                index=j.index,
                job=j.job,
                pickup_node=j.pickup,
                dropoff_node=j.dropoff,
                created_ts=j.created_ts,
                ready_ts=j.ready_ts,
                promised_ts=j.promised_ts,
                attempts=j.attempts,
                zone=j.zone,
                declined_by=frozenset(j.declined_by),
            )
            for j in group
        ]
        outcome = round_run(
            strategy=strategies[name],
            round_id=round_id,
            ts=ts,
            city=city,
            jobs=jobs,
            couriers=online,
            job_times=book,
            radius_km=radius_km,
            eta_budget=eta_budget,
        )
        eta_calls += outcome.eta_calls
        log.emit(outcome.event)
        if outcome.error is not None:
            failures.append(RoundFailure(round=round_id, ts=ts, strategy=name, error=outcome.error))
            continue
        for j_local, c_local in outcome.assignments:
            job, courier = group[j_local], online[c_local]
            job.attempts += 1
            waybill = f"waybill:{job.index + 1}-{job.attempts}"
            base = {"job": job.job, "entity": courier.entity, "round": round_id, "waybill": waybill}
            log.emit({"type": "job_assigned", "ts": ts, **base})
            cx, cy = courier.position_at(city, ts)
            dist_km = float(np.hypot(cx - city.x[job.pickup], cy - city.y[job.pickup])) / 1000.0
            p_decline = (
                decline_base + 0.04 * min(1.0, dist_km / 4.0) + 0.02 * len(courier.carried) / courier.capacity
            )
            delay = 5_000 + int(unit_draw(seed, 19, job.index, courier.index, job.attempts) * 20_000)
            if unit_draw(seed, 17, job.index, courier.index, job.attempts) < p_decline:
                log.emit({"type": "job_rejected", "ts": ts + delay, "reason": "declined", **base})
                job.rejections += 1
                job.declined_by.add(courier.index)
                job.available_ts = ts + delay
                continue
            log.emit({"type": "job_accepted", "ts": ts + delay, **base})
            job.done = True
            job.entity = courier.entity
            anchor = city.nearest_nodes(np.array([cx]), np.array([cy]))[0]
            job.cross_river = bool(city.has_river and city.side[anchor] != city.side[job.pickup])
            if job.cross_river and dist_km > 0.05:
                road_m = float(city.travel_s[0][anchor, job.pickup]) * 16.0 / 3.6  # at a typical 16 km/h
                job.detour = road_m / (dist_km * 1000.0)
            courier.carried.append(job.index)
            if not courier.plan:
                courier.free_ts = max(courier.free_ts, ts + delay)
            plan_insert(
                city=city,
                courier=courier,
                job=job.index,
                pickup=job.pickup,
                dropoff=job.dropoff,
                jobs=book,
                ts=ts + delay,
            )
            courier_set_busy(courier=courier, ts=ts, emit=log.emit)
    return eta_calls


def food_delivery_run(
    *,
    params: FoodDeliveryParams,
    strategies: dict[str, Strategy],
    design: Design,
    dataset: str,
    city: City | None = None,
    progress: Callable[[float], None] | None = None,
) -> RunResult:
    """Simulate food delivery for `params.hours` of demand with the given strategy (or strategies)."""
    city = city or city_for(params=params.city, seed=params.seed)
    start = sim_start_ms(start_local_hour=params.start_local_hour, utc_offset_h=city.utc_offset_h)
    end = start + round(params.hours * 3_600_000)
    orders = food_orders_generate(city=city, params=params, start_ms=start)
    names = tuple(sorted(strategies))
    pick = _variant_picker(design=design, names=names, seed=params.seed, city=city)
    log = _Log()
    book = JobBook()
    states: list[_JobState] = []
    for i in range(len(orders)):
        pickup = int(orders.pickup_node[i])
        zone = city.zone[pickup]
        states.append(
            _JobState(
                index=i,
                job=f"order:{i + 1}",
                zone=zone,
                variant=pick(i, zone, int(orders.created_ts[i])),
                pickup=pickup,
                dropoff=int(orders.dropoff_node[i]),
                created_ts=int(orders.created_ts[i]),
                ready_ts=int(orders.ready_ts[i]),
                promised_ts=int(orders.promised_ts[i]),
                available_ts=int(orders.created_ts[i]),
            )
        )
        book.ids.append(f"order:{i + 1}")
        book.ready_ts.append(int(orders.ready_ts[i]))
    couriers = _couriers_create(
        n=params.couriers,
        city=city,
        start_ms=start,
        end_ms=end,
        capacity=params.capacity,
        late_share=params.late_shift_share,
        seed=params.seed,
        stream=5,
        kind="courier",
        speed_factor=1.0,
        near={"commercial"},
    )
    failures: list[RoundFailure] = []
    cells: set[str] = set()
    pending: list[_JobState] = []
    cancelled: dict[int, int] = {}
    next_order = 0
    round_no = 0
    eta_calls = 0
    interval = params.round_interval_s * 1000
    ts = start
    while ts <= end + DRAIN_MS:
        online = _fleet_step(couriers=couriers, city=city, ts=ts, book=book, log=log, end_ms=end)
        while next_order < len(states) and states[next_order].created_ts <= ts:
            s = states[next_order]
            log.emit(
                {
                    "type": "job_created",
                    "job": s.job,
                    "ts": s.created_ts,
                    "city": city.name,
                    "kind": "delivery",
                    "zone": s.zone,
                    "pickup": {
                        "lat": round(float(city.lat[s.pickup]), 7),
                        "lon": round(float(city.lon[s.pickup]), 7),
                    },
                    "dropoff": {
                        "lat": round(float(city.lat[s.dropoff]), 7),
                        "lon": round(float(city.lon[s.dropoff]), 7),
                    },
                    "promised_ts": s.promised_ts,
                    "ready_ts": s.ready_ts,
                    "attrs": {"merchant": f"merchant:{int(orders.merchant[s.index]) + 1}"},
                }
            )
            _experiment_events(
                log=log,
                design=design,
                scenario="food-delivery",
                seed=params.seed,
                city=city,
                job=s.job,
                zone=s.zone,
                variant=s.variant,
                created_ts=s.created_ts,
                cells=cells,
            )
            pending.append(s)
            next_order += 1
        for s in pending:
            if not s.done and ts - s.created_ts > params.cancel_after_min * 60_000 and s.available_ts <= ts:
                s.done = True
                cancelled[s.index] = ts
                log.emit({"type": "job_cancelled", "job": s.job, "ts": ts, "reason": "no_courier_found"})
        pending = [s for s in pending if not s.done]
        if pending and online:
            eta_calls += _dispatch(
                pending=pending,
                online=online,
                strategies=strategies,
                round_no=round_no,
                ts=ts,
                city=city,
                book=book,
                log=log,
                radius_km=params.search_radius_km,
                eta_budget=params.eta_budget,
                decline_base=params.decline_base,
                seed=params.seed,
                failures=failures,
            )
            round_no += 1
            pending = [s for s in pending if not s.done]
        if ts >= end and not pending and all(c.offline_ts is not None for c in couriers):
            break
        if progress is not None:
            progress(min(1.0, (ts - start) / max(1, end - start)))
        ts += interval
    for c in couriers:  # the drain limit was hit: whoever is left goes offline where it stands
        if c.offline_ts is None:
            c.offline_ts = max(ts, c.free_ts, c.shift_start)
            c.idle_at = None
            courier_set_idle(courier=c, ts=c.offline_ts, emit=log.emit, horizon_ts=end)
            log.emit(
                {
                    "type": "entity_state",
                    "entity": c.entity,
                    "ts": c.offline_ts,
                    "state": "offline",
                    "city": city.name,
                }
            )
    records = _job_records(states=states, events=log.events, kind="delivery", cancelled=cancelled)
    return RunResult(
        dataset=dataset,
        scenario="food-delivery",
        design=design,
        seed=params.seed,
        strategies=names,
        city=city,
        params=params,
        start_ms=start,
        end_ms=end,
        events=log.events,
        couriers=couriers,
        jobs=records,
        failures=failures,
        rounds=round_no,
        eta_calls=eta_calls,
    )


def _job_records(
    *, states: list[_JobState], events: list[Event], kind: str, cancelled: dict[int, int]
) -> list[JobRecord]:
    picked: dict[str, int] = {}
    delivered: dict[str, int] = {}
    for e in events:
        if e["type"] == "job_picked_up":
            picked[e["job"]] = e["ts"]
        elif e["type"] == "job_delivered":
            delivered[e["job"]] = e["ts"]
    return [
        JobRecord(
            job=s.job,
            kind=kind,
            variant=s.variant,
            created_ts=s.created_ts,
            promised_ts=s.promised_ts,
            picked_up_ts=picked.get(s.job),
            delivered_ts=delivered.get(s.job),
            cancelled_ts=cancelled.get(s.index),
            attempts=s.attempts,
            rejections=s.rejections,
            entity=s.entity,
            cross_river=s.cross_river,
            detour=s.detour,
        )
        for s in states
    ]


def bike_sharing_run(
    *,
    params: BikeSharingParams,
    strategies: dict[str, Strategy],
    design: Design,
    dataset: str,
    city: City | None = None,
    progress: Callable[[float], None] | None = None,
) -> RunResult:
    """Simulate bike trips between areas; areas that run dry get rebalancing tasks dispatched to trucks."""
    city = city or city_for(params=params.city, seed=params.seed)
    start = sim_start_ms(start_local_hour=params.start_local_hour, utc_offset_h=city.utc_offset_h)
    end = start + round(params.hours * 3_600_000)
    area_nodes, area_district = areas_place(city=city, params=params)
    trips = bike_trips_generate(
        city=city, params=params, start_ms=start, area_nodes=area_nodes, area_district=area_district
    )
    names = tuple(sorted(strategies))
    pick = _variant_picker(design=design, names=names, seed=params.seed, city=city)
    log = _Log()
    book = JobBook()
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
            free_ts=start,
            shift_start=start,
            shift_end=end,
            capacity=1,
        )
        for b in range(params.bikes)
    ]
    for a, parked in enumerate(stock):
        for b in parked:
            bikes[b].node = bikes[b].start_node = int(area_nodes[a])
    bike_free_at: list[int] = [start] * params.bikes
    arriving: list[tuple[int, int, int]] = []  # (ts, area, bike) of rides and truck drops in progress
    trucks = _couriers_create(
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
    initial = [len(s) for s in stock]
    tasks: list[_JobState] = []
    task_meta: list[tuple[int, int, int]] = []  # (from area, to area, bikes)
    open_task_for: set[int] = set()
    dry_incidents: list[dict[str, Any]] = []
    dry_now: set[int] = set()
    trip_records: list[JobRecord] = []
    failures: list[RoundFailure] = []
    cells: set[str] = set()
    pending: list[_JobState] = []
    round_no = 0
    eta_calls = 0
    next_trip = 0
    interval = params.round_interval_s * 1000
    ts = start
    for bk in bikes:
        log.emit(
            {
                "type": "entity_state",
                "entity": bk.entity,
                "ts": start,
                "state": "online",
                "city": city.name,
                "capacity": 1,
            }
        )
    while ts <= end + DRAIN_MS:
        # rides and truck drops that have arrived dock at their area
        arriving.sort()
        while arriving and arriving[0][0] <= ts:
            _, area, docked = arriving.pop(0)
            stock[area].append(docked)
        while next_trip < trips.ts.size and trips.ts[next_trip] <= ts:
            t_req = int(trips.ts[next_trip])
            origin, dest = int(trips.origin[next_trip]), int(trips.destination[next_trip])
            job = f"ride:{next_trip + 1}"
            o_node, d_node = int(area_nodes[origin]), int(area_nodes[dest])
            log.emit(
                {
                    "type": "job_created",
                    "job": job,
                    "ts": t_req,
                    "city": city.name,
                    "kind": "ride",
                    "zone": city.zone[o_node],
                    "pickup": {
                        "lat": round(float(city.lat[o_node]), 7),
                        "lon": round(float(city.lon[o_node]), 7),
                    },
                    "dropoff": {
                        "lat": round(float(city.lat[d_node]), 7),
                        "lon": round(float(city.lon[d_node]), 7),
                    },
                    "attrs": {"origin_area": f"area:{origin + 1}", "destination_area": f"area:{dest + 1}"},
                }
            )
            next_trip += 1
            if not stock[origin]:
                log.emit({"type": "job_cancelled", "job": job, "ts": t_req, "reason": "no_bike_available"})
                trip_records.append(
                    JobRecord(
                        job=job,
                        kind="ride",
                        variant="",
                        created_ts=t_req,
                        promised_ts=None,
                        picked_up_ts=None,
                        delivered_ts=None,
                        cancelled_ts=t_req,
                        attempts=0,
                        rejections=0,
                        entity=None,
                        cross_river=False,
                    )
                )
                if origin not in dry_now:
                    dry_now.add(origin)
                    dry_incidents.append(
                        {
                            "kind": "dry_area",
                            "ts": t_req,
                            "area": f"area:{origin + 1}",
                            "zone": city.zone[o_node],
                            "jobs": [job],
                        }
                    )
                continue
            b = stock[origin].pop(0)
            bike = bikes[b]
            dep = max(t_req + 30_000, bike_free_at[b])
            profile = city.profile_at(dep)
            path = city.path(profile, o_node, d_node)
            # riders are slower than couriers and vary: 0.7-1.0 of the e-bike courier speed
            factor = 0.7 + 0.3 * unit_draw(params.seed, 23, next_trip)
            seconds = city.travel_s[profile][o_node, path].astype(np.float64) / factor
            times = dep + seconds * 1000.0
            bike.legs.append(Leg(t=times, x=city.x[path], y=city.y[path]))
            bike.moving_m += float(np.hypot(np.diff(city.x[path]), np.diff(city.y[path])).sum())
            bike.moving_s += float(seconds[-1])
            arrive = int(times[-1])
            bike.node = d_node
            bike_free_at[b] = arrive
            arriving.append((arrive, dest, b))
            base = {"job": job, "entity": bike.entity}
            log.emit({"type": "job_assigned", "ts": t_req, **base})
            log.emit({"type": "job_accepted", "ts": t_req, **base})
            log.emit(
                {"type": "entity_state", "entity": bike.entity, "ts": dep, "state": "busy", "capacity": 1}
            )
            log.emit({"type": "job_picked_up", "ts": dep, **base})
            log.emit({"type": "job_delivered", "ts": arrive, **base})
            log.emit(
                {"type": "entity_state", "entity": bike.entity, "ts": arrive, "state": "idle", "capacity": 1}
            )
            trip_records.append(
                JobRecord(
                    job=job,
                    kind="ride",
                    variant="",
                    created_ts=t_req,
                    promised_ts=None,
                    picked_up_ts=dep,
                    delivered_ts=arrive,
                    cancelled_ts=None,
                    attempts=1,
                    rejections=0,
                    entity=bike.entity,
                    cross_river=False,
                )
            )
        # rebalancing: an area at or below low stock (or that ran dry) gets a task from the fullest area
        if ts < end:
            counts = [len(s) for s in stock]
            for a in range(area_nodes.size):
                if a in open_task_for or (counts[a] > params.low_stock and a not in dry_now):
                    continue
                surplus = [counts[s] - initial[s] for s in range(area_nodes.size)]
                donor = int(np.argmax(surplus))
                if surplus[donor] <= params.low_stock or donor == a:
                    continue
                load = min(params.truck_load, surplus[donor])
                i = len(tasks)
                job = f"task:{i + 1}"
                p_node, d_node = int(area_nodes[donor]), int(area_nodes[a])
                zone = city.zone[d_node]
                state = _JobState(
                    index=i,
                    job=job,
                    zone=zone,
                    variant=pick(i, zone, ts),
                    pickup=p_node,
                    dropoff=d_node,
                    created_ts=ts,
                    ready_ts=ts,
                    promised_ts=None,
                    available_ts=ts,
                )
                tasks.append(state)
                task_meta.append((donor, a, load))
                book.ids.append(job)
                book.ready_ts.append(ts)
                open_task_for.add(a)
                counts[donor] -= load
                log.emit(
                    {
                        "type": "job_created",
                        "job": job,
                        "ts": ts,
                        "city": city.name,
                        "kind": "rebalance",
                        "zone": zone,
                        "pickup": {
                            "lat": round(float(city.lat[p_node]), 7),
                            "lon": round(float(city.lon[p_node]), 7),
                        },
                        "dropoff": {
                            "lat": round(float(city.lat[d_node]), 7),
                            "lon": round(float(city.lon[d_node]), 7),
                        },
                        "attrs": {
                            "bikes": load,
                            "from_area": f"area:{donor + 1}",
                            "to_area": f"area:{a + 1}",
                        },
                    }
                )
                _experiment_events(
                    log=log,
                    design=design,
                    scenario="bike-sharing",
                    seed=params.seed,
                    city=city,
                    job=job,
                    zone=zone,
                    variant=state.variant,
                    created_ts=ts,
                    cells=cells,
                )
                for inc in dry_incidents:
                    if inc["area"] == f"area:{a + 1}" and "task" not in inc:
                        inc["task"] = job
                        inc["jobs"] = [*inc["jobs"], job]
                pending.append(state)
        # trucks: their pickups take bikes out of the donor area, their dropoffs bring them to the dry one
        before = {c.entity: list(c.carried) for c in trucks}
        online = _fleet_step(couriers=trucks, city=city, ts=ts, book=book, log=log, end_ms=end)
        for truck in trucks:
            for task_index in before.get(truck.entity, []):
                if task_index not in truck.carried:
                    donor, to_area, load = task_meta[task_index]
                    moved = [stock[donor].pop(0) for _ in range(min(load, len(stock[donor])))]
                    arriving.extend((ts, to_area, b) for b in moved)
                    for b in moved:
                        # bikes on a truck report nothing; they reappear at the drop (a "teleport" in GPS)
                        last = bikes[b].legs[-1].end_ts if bikes[b].legs else float(start)
                        bikes[b].legs.append(
                            Leg(
                                t=np.array([max(last, float(ts - 1000)), float(ts)]),
                                x=np.array([city.x[bikes[b].node], city.x[area_nodes[to_area]]]),
                                y=np.array([city.y[bikes[b].node], city.y[area_nodes[to_area]]]),
                            )
                        )
                        bikes[b].node = int(area_nodes[to_area])
                    open_task_for.discard(to_area)
                    dry_now.discard(to_area)
        pending = [s for s in pending if not s.done]
        if pending and online:
            eta_calls += _dispatch(
                pending=pending,
                online=online,
                strategies=strategies,
                round_no=round_no,
                ts=ts,
                city=city,
                book=book,
                log=log,
                radius_km=params.search_radius_km,
                eta_budget=params.eta_budget,
                decline_base=0.0,
                seed=params.seed,
                failures=failures,
            )
            round_no += 1
            pending = [s for s in pending if not s.done]
        if ts >= end and not pending and not arriving and all(c.offline_ts is not None for c in trucks):
            break
        if progress is not None:
            progress(min(1.0, (ts - start) / max(1, end - start)))
        ts += interval
    final_ts = ts
    for c in trucks:
        if c.offline_ts is None:
            c.offline_ts = max(final_ts, c.free_ts, c.shift_start)
            log.emit(
                {
                    "type": "entity_state",
                    "entity": c.entity,
                    "ts": c.offline_ts,
                    "state": "offline",
                    "city": city.name,
                }
            )
    for bk in bikes:
        bk.offline_ts = max(end, bike_free_at[bk.index])
        bk.shift_end = bk.offline_ts
    records = trip_records + _job_records(states=tasks, events=log.events, kind="rebalance", cancelled={})
    return RunResult(
        dataset=dataset,
        scenario="bike-sharing",
        design=design,
        seed=params.seed,
        strategies=names,
        city=city,
        params=params,
        start_ms=start,
        end_ms=end,
        events=log.events,
        couriers=trucks + bikes,
        jobs=records,
        failures=failures,
        rounds=round_no,
        eta_calls=eta_calls,
        parked_entities=frozenset(bk.entity for bk in bikes),
        extra_incidents=dry_incidents,
    )


def scenario_run(
    *,
    params: ScenarioParams,
    strategies: dict[str, Strategy],
    design: Design,
    dataset: str,
    city: City | None = None,
    progress: Callable[[float], None] | None = None,
) -> RunResult:
    """Run the scenario that `params` belongs to."""
    if isinstance(params, FoodDeliveryParams):
        return food_delivery_run(
            params=params, strategies=strategies, design=design, dataset=dataset, city=city, progress=progress
        )
    return bike_sharing_run(
        params=params, strategies=strategies, design=design, dataset=dataset, city=city, progress=progress
    )
