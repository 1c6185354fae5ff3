"""Shifts: the fleet drawn from a seed (start nodes, late starts, early ends), couriers coming online,
committing their started stops each tick, and going offline when their shift is over and their hands empty.
"""

from __future__ import annotations

import numpy as np

from simulator.city import City
from simulator.events import EventLog, entity_state_event
from simulator.fleet import Courier, JobBook, courier_advance, courier_set_idle, courier_settle

#: Shifts run this long past the end of demand so the last orders still find couriers.
SHIFT_OVERTIME_MS = 45 * 60_000


def couriers_create(
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
    """`n` couriers named `<kind>:<i>`, 60 % starting in a `near` district; `late_share` start up to 30 min
    late and as many leave 30-75 min early; the rest work until `SHIFT_OVERTIME_MS` after demand stops."""
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


def fleet_step(
    *, couriers: list[Courier], city: City, ts: int, book: JobBook, log: EventLog, end_ms: int
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
            for state in ("online", "idle"):
                log.emit(
                    entity_state_event(
                        entity=c.entity, ts=c.shift_start, state=state, city=city.name, capacity=c.capacity
                    )
                )
        courier_advance(city=city, courier=c, until_ts=ts, jobs=book, emit=log.emit, horizon_ts=end_ms)
        if ts >= c.shift_end and not c.plan and not c.carried:
            courier_settle(courier=c, until_ts=c.free_ts, emit=log.emit, horizon_ts=end_ms)
            c.offline_ts = max(c.shift_end, c.free_ts)
            c.online = False
            log.emit(entity_state_event(entity=c.entity, ts=c.offline_ts, state="offline", city=city.name))
            continue
        online.append(c)
    return online


def shifts_close(
    *, couriers: list[Courier], ts: int, city: City, log: EventLog, end_ms: int, settle_busy: bool
) -> None:
    """The drain limit was hit: whoever is still on shift goes offline where it stands at `ts` (first idle,
    ending its busy time, when `settle_busy`)."""
    for c in couriers:
        if c.offline_ts is None:
            c.offline_ts = max(ts, c.free_ts, c.shift_start)
            if settle_busy:
                c.idle_at = None
                courier_set_idle(courier=c, ts=c.offline_ts, emit=log.emit, horizon_ts=end_ms)
            log.emit(entity_state_event(entity=c.entity, ts=c.offline_ts, state="offline", city=city.name))
