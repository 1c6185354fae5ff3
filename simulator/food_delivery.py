"""Food delivery: couriers on e-bikes carry several meal orders; orders unassigned for `cancel_after_min`
are cancelled (`no_courier_found`). See docs/simulator.md for what is modelled."""

from __future__ import annotations

from simulator.city import City
from simulator.demand import food_orders_generate
from simulator.designs import Design
from simulator.events import job_created_event
from simulator.jobs import JobState
from simulator.results import RunResult
from simulator.runs import Progress, run_open
from simulator.scenarios import FoodDeliveryParams
from simulator.shifts import couriers_create, fleet_step, shifts_close
from simulator.strategies.base import Strategy


def run(
    *,
    params: FoodDeliveryParams,
    strategies: dict[str, Strategy],
    design: Design,
    dataset: str,
    city: City | None = None,
    progress: Progress | None = None,
) -> RunResult:
    """Simulate food delivery for `params.hours` of demand with the given strategy (or strategies)."""
    frame = run_open(params=params, strategies=strategies, design=design, dataset=dataset, city=city)
    city, log, book = frame.city, frame.log, frame.book
    orders = food_orders_generate(city=city, params=params, start_ms=frame.start_ms)
    states: list[JobState] = []
    for i in range(len(orders)):
        pickup = int(orders.pickup_node[i])
        zone = city.zone[pickup]
        created = int(orders.created_ts[i])
        states.append(
            JobState(
                index=i,
                job=f"order:{i + 1}",
                kind="delivery",
                zone=zone,
                variant=frame.experiment.variant(job_no=i, zone=zone, created_ts=created),
                pickup=pickup,
                dropoff=int(orders.dropoff_node[i]),
                created_ts=created,
                ready_ts=int(orders.ready_ts[i]),
                promised_ts=int(orders.promised_ts[i]),
                available_ts=created,
            )
        )
        book.ids.append(f"order:{i + 1}")
        book.ready_ts.append(int(orders.ready_ts[i]))
    couriers = couriers_create(
        n=params.couriers,
        city=city,
        start_ms=frame.start_ms,
        end_ms=frame.end_ms,
        capacity=params.capacity,
        late_share=params.late_shift_share,
        seed=params.seed,
        stream=5,
        kind="courier",
        speed_factor=1.0,
        near={"commercial"},
    )
    cancel_after_ms = params.cancel_after_min * 60_000
    pending: list[JobState] = []
    next_order = 0
    for ts in frame.ticks(progress=progress):
        online = fleet_step(couriers=couriers, city=city, ts=ts, book=book, log=log, end_ms=frame.end_ms)
        while next_order < len(states) and states[next_order].created_ts <= ts:
            s = states[next_order]
            log.emit(
                job_created_event(
                    city=city,
                    job=s.job,
                    ts=s.created_ts,
                    kind=s.kind,
                    zone=s.zone,
                    pickup_node=s.pickup,
                    dropoff_node=s.dropoff,
                    promised_ts=s.promised_ts,
                    ready_ts=s.ready_ts,
                    attrs={"merchant": f"merchant:{int(orders.merchant[s.index]) + 1}"},
                )
            )
            frame.job_announce(s)
            pending.append(s)
            next_order += 1
        for s in pending:
            if not s.done and ts - s.created_ts > cancel_after_ms and s.available_ts <= ts:
                s.done = True
                s.cancelled_ts = ts
                log.emit({"type": "job_cancelled", "job": s.job, "ts": ts, "reason": "no_courier_found"})
        pending = frame.dispatch(
            pending=pending, fleet=couriers, online=online, decline_base=params.decline_base
        )
        if ts >= frame.end_ms and not pending and all(c.offline_ts is not None for c in couriers):
            break
    shifts_close(couriers=couriers, ts=frame.now, city=city, log=log, end_ms=frame.end_ms, settle_busy=True)
    return frame.result(couriers=couriers, jobs=states)
