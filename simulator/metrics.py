"""Headline metrics of a run, one row per (dataset, strategy), and the summary Parquet table.

Columns (null when a metric does not apply to the scenario): dataset, scenario, design, seed, strategy, jobs,
delivered, cancelled, mean_delivery_min, p90_delivery_min, late_share, decline_rate, redispatched_share,
cross_river_share, utilisation, moving_speed_kmh, median_trip_min, dry_areas, rebalance_tasks,
rebalance_done, rounds, failed_rounds, failures (the first errors, `; `-joined), eta_calls, gps_points.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from simulator.results import RunResult


@dataclass(frozen=True)
class SummaryRow:
    """Headline metrics of one strategy in one run."""

    dataset: str
    scenario: str
    design: str
    seed: int
    strategy: str
    jobs: int
    delivered: int
    cancelled: int
    mean_delivery_min: float | None
    p90_delivery_min: float | None
    late_share: float | None
    decline_rate: float | None
    redispatched_share: float | None
    cross_river_share: float | None
    utilisation: float | None
    moving_speed_kmh: float | None
    median_trip_min: float | None
    dry_areas: int | None
    rebalance_tasks: int | None
    rebalance_done: int | None
    rounds: int
    failed_rounds: int
    failures: str
    eta_calls: int
    gps_points: int


def _mean(values: list[float]) -> float | None:
    return float(np.mean(values)) if values else None


def fleet_utilisation(result: RunResult) -> float | None:
    """Busy share of on-shift courier time inside the demand window (couriers and trucks, not bikes)."""
    busy = online = 0
    for c in result.couriers:
        if c.entity in result.parked_entities:
            continue
        stop = min(c.offline_ts if c.offline_ts is not None else result.end_ms, result.end_ms)
        online += max(0, stop - c.shift_start)
        busy += c.busy_ms
        if c.busy_since is not None:
            busy += max(0, result.end_ms - c.busy_since)
    return busy / online if online else None


def moving_speed_kmh(result: RunResult) -> float | None:
    """Distance over time while moving, of couriers and trucks (not bikes)."""
    metres = seconds = 0.0
    for c in result.couriers:
        if c.entity not in result.parked_entities:
            metres += c.moving_m
            seconds += c.moving_s
    return metres / seconds * 3.6 if seconds else None


def summary_rows(*, result: RunResult, gps_points: int) -> list[SummaryRow]:
    """One row per strategy of the run."""
    rows: list[SummaryRow] = []
    util = fleet_utilisation(result)
    speed = moving_speed_kmh(result)
    for name in result.strategies:
        failed = [f for f in result.failures if f.strategy == name]
        if result.scenario == "food-delivery":
            jobs = [j for j in result.jobs if j.variant == name]
        else:
            jobs = [j for j in result.jobs if j.kind == "rebalance" and j.variant == name]
        delivered = [j for j in jobs if j.delivered_ts is not None]
        times = [(j.delivered_ts - j.created_ts) / 60_000 for j in delivered if j.delivered_ts is not None]
        late = [
            j.delivered_ts > j.promised_ts
            for j in delivered
            if j.delivered_ts is not None and j.promised_ts is not None
        ]
        attempts = sum(j.attempts for j in jobs)
        rides = [j for j in result.jobs if j.kind == "ride"]
        ride_times = [
            (j.delivered_ts - j.picked_up_ts) / 60_000
            for j in rides
            if j.delivered_ts is not None and j.picked_up_ts is not None
        ]
        bike = result.scenario == "bike-sharing"
        rows.append(
            SummaryRow(
                dataset=result.dataset,
                scenario=result.scenario,
                design=result.design,
                seed=result.seed,
                strategy=name,
                jobs=len(jobs),
                delivered=len(delivered),
                cancelled=sum(1 for j in jobs if j.cancelled_ts is not None),
                mean_delivery_min=_mean(times),
                p90_delivery_min=float(np.percentile(times, 90)) if times else None,
                late_share=_mean([float(v) for v in late]),
                decline_rate=sum(j.rejections for j in jobs) / attempts if attempts else None,
                redispatched_share=_mean([float(j.rejections > 0) for j in jobs]),
                cross_river_share=_mean([float(j.cross_river) for j in jobs if j.entity is not None]),
                utilisation=util,
                moving_speed_kmh=speed,
                median_trip_min=float(np.median(ride_times)) if bike and ride_times else None,
                dry_areas=len(result.extra_incidents) if bike else None,
                rebalance_tasks=len(jobs) if bike else None,
                rebalance_done=len(delivered) if bike else None,
                rounds=result.rounds,
                failed_rounds=len(failed),
                failures="; ".join(sorted({f.error for f in failed})[:3]),
                eta_calls=result.eta_calls,
                gps_points=gps_points,
            )
        )
    return rows


SUMMARY_SCHEMA = pa.schema(
    [
        (
            f.name,
            pa.string()
            if f.type in ("str",)
            else pa.int64()
            if f.type in ("int", "int | None")
            else pa.float64(),
        )
        for f in dataclasses.fields(SummaryRow)
    ]
)


def summary_write(*, rows: Sequence[SummaryRow], path: Path) -> None:
    """Write the summary table (one row per dataset and strategy, sorted) as Parquet."""
    ordered = sorted(rows, key=lambda r: (r.dataset, r.strategy))
    columns = {f.name: [getattr(r, f.name) for r in ordered] for f in dataclasses.fields(SummaryRow)}
    pq.write_table(pa.table(columns, schema=SUMMARY_SCHEMA), path)
