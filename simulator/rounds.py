"""One tick's dispatch: a round per strategy (the order of variants rotates each tick so none always
sees the couriers first), then each courier's answer to what it was assigned.

A courier declines with probability `decline_base`, + up to 4 % growing with the pickup distance (all of
it from 4 km), + up to 2 % when loaded, and answers 5-25 s later; both draws hash (seed, job, courier,
attempt), so every strategy of a paired run meets the same behaviour. A declined job re-enters dispatch
under a new waybill once the answer is in, never offered to that courier again; an accepted one is inserted
into the courier's stop plan.
"""

from __future__ import annotations

import numpy as np

from simulator.city import City
from simulator.dispatcher import PendingJob, round_run
from simulator.draws import unit_draw
from simulator.events import EventLog
from simulator.fleet import Courier, JobBook, courier_set_busy, plan_insert
from simulator.jobs import JobState
from simulator.results import RoundFailure
from simulator.strategies.base import Strategy


def tick_dispatch(
    *,
    pending: list[JobState],
    online: list[Courier],
    off_shift: list[Courier],
    strategies: dict[str, Strategy],
    round_no: int,
    ts: int,
    city: City,
    book: JobBook,
    log: EventLog,
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
            off_shift=off_shift,
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
