"""A small, realistic warehouse: every fact table of two production cities and two simulation runs.

Written through write_fact_table, so any backend's contract tests read exactly what the pipeline would write.
Story (dataset `prod`, day 2026-03-02 UTC unless said otherwise):
- berlin `order:b1`: courier:c1 takes it (waybill w1) and delivers before the promise — on time.
- berlin `order:b2`: courier:c2 is assigned (w1) and declines; it returns as w2 to courier:c1, delivered late.
- berlin `order:o'brien` (a quote in the id): created at 23:59:59.999, assigned to courier:c3 at the next
  day's midnight without a waybill, then cancelled.
- berlin `order:b3`: created at 2026-03-03 00:00:00.000, delivered by courier:c1 on time.
- paris `order:p1`: no promised time, delivered by courier:c9.
Dataset `sim-lunch-nearest-7` reuses the id `order:b1` (ids are unique per dataset only): late, by courier:s1.
Dataset `sim-rounds-only-1` has one dispatch round and nothing else.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pyarrow as pa

from storage.warehouse.parquet import FactWriteSummary, write_fact_table
from storage.warehouse.schema import TABLE_SCHEMAS

PROD = "prod"
SIM = "sim-lunch-nearest-7"
ROUNDS_ONLY = "sim-rounds-only-1"
DAY = "2026-03-02"
NEXT_DAY = "2026-03-03"
QUOTED_JOB = "order:o'brien"

BERLIN_PICKUP = (52.5200, 13.4050)
BERLIN_DROPOFF = (52.5300, 13.4200)
PARIS_PICKUP = (48.8566, 2.3522)
PARIS_DROPOFF = (48.8606, 2.3376)


def utc_ms(day: str, clock: str) -> int:
    """Epoch milliseconds of `day` ('YYYY-MM-DD') at `clock` ('HH:MM:SS' or 'HH:MM:SS.fff') UTC."""
    moment = dt.datetime.fromisoformat(f"{day}T{clock}+00:00")
    return int(moment.timestamp() * 1000)


def _created(
    *,
    dataset: str,
    city: str,
    job: str,
    ts: int,
    zone: str,
    pickup: tuple[float, float],
    dropoff: tuple[float, float],
    promised_ts: int | None,
    ready_ts: int | None,
) -> dict[str, Any]:
    return {
        "dataset": dataset,
        "city": city,
        "event_id": f"{job}/created",
        "type": "job_created",
        "job": job,
        "ts": ts,
        "kind": "delivery",
        "zone": zone,
        "pickup_lat": pickup[0],
        "pickup_lon": pickup[1],
        "dropoff_lat": dropoff[0],
        "dropoff_lon": dropoff[1],
        "promised_ts": promised_ts,
        "ready_ts": ready_ts,
        "attrs": json.dumps({"items": 2}),
    }


def _event(
    *,
    dataset: str,
    city: str,
    job: str,
    type: str,
    ts: int,
    entity: str | None = None,
    round: str | None = None,
    waybill: str | None = None,
    reason: str | None = None,
    n: int = 0,
) -> dict[str, Any]:
    return {
        "dataset": dataset,
        "city": city,
        "event_id": f"{job}/{type.removeprefix('job_')}/{n}",
        "type": type,
        "job": job,
        "ts": ts,
        "entity": entity,
        "round": round,
        "waybill": waybill,
        "reason": reason,
    }


def _job_events() -> list[dict[str, Any]]:
    d, nd = DAY, NEXT_DAY
    b, p = "berlin", "paris"
    return [
        # prod berlin order:b1 — on time
        _created(
            dataset=PROD,
            city=b,
            job="order:b1",
            ts=utc_ms(d, "12:00:00"),
            zone="mitte",
            pickup=BERLIN_PICKUP,
            dropoff=BERLIN_DROPOFF,
            promised_ts=utc_ms(d, "12:40:00"),
            ready_ts=utc_ms(d, "12:10:00"),
        ),
        _event(
            dataset=PROD,
            city=b,
            job="order:b1",
            type="job_assigned",
            ts=utc_ms(d, "12:00:30"),
            entity="courier:c1",
            round="r-1",
            waybill="w1",
        ),
        _event(
            dataset=PROD,
            city=b,
            job="order:b1",
            type="job_accepted",
            ts=utc_ms(d, "12:00:40"),
            entity="courier:c1",
            waybill="w1",
        ),
        _event(
            dataset=PROD,
            city=b,
            job="order:b1",
            type="job_arrived_pickup",
            ts=utc_ms(d, "12:08:00"),
            entity="courier:c1",
            waybill="w1",
        ),
        _event(
            dataset=PROD,
            city=b,
            job="order:b1",
            type="job_picked_up",
            ts=utc_ms(d, "12:11:00"),
            entity="courier:c1",
            waybill="w1",
        ),
        _event(
            dataset=PROD,
            city=b,
            job="order:b1",
            type="job_delivered",
            ts=utc_ms(d, "12:35:00"),
            entity="courier:c1",
            waybill="w1",
        ),
        # prod berlin order:b2 — declined once, re-dispatched, late
        _created(
            dataset=PROD,
            city=b,
            job="order:b2",
            ts=utc_ms(d, "12:05:00"),
            zone="mitte",
            pickup=BERLIN_PICKUP,
            dropoff=BERLIN_PICKUP,
            promised_ts=utc_ms(d, "12:45:00"),
            ready_ts=None,
        ),
        _event(
            dataset=PROD,
            city=b,
            job="order:b2",
            type="job_assigned",
            ts=utc_ms(d, "12:05:30"),
            entity="courier:c2",
            round="r-2",
            waybill="w1",
        ),
        _event(
            dataset=PROD,
            city=b,
            job="order:b2",
            type="job_rejected",
            ts=utc_ms(d, "12:05:50"),
            entity="courier:c2",
            waybill="w1",
            reason="too_far",
        ),
        _event(
            dataset=PROD,
            city=b,
            job="order:b2",
            type="job_assigned",
            ts=utc_ms(d, "12:06:30"),
            entity="courier:c1",
            round="r-3",
            waybill="w2",
            n=1,
        ),
        _event(
            dataset=PROD,
            city=b,
            job="order:b2",
            type="job_accepted",
            ts=utc_ms(d, "12:06:40"),
            entity="courier:c1",
            waybill="w2",
        ),
        _event(
            dataset=PROD,
            city=b,
            job="order:b2",
            type="job_picked_up",
            ts=utc_ms(d, "12:20:00"),
            entity="courier:c1",
            waybill="w2",
        ),
        _event(
            dataset=PROD,
            city=b,
            job="order:b2",
            type="job_delivered",
            ts=utc_ms(d, "12:55:00"),
            entity="courier:c1",
            waybill="w2",
        ),
        # prod berlin order:o'brien — created a millisecond before midnight, cancelled after it
        _created(
            dataset=PROD,
            city=b,
            job=QUOTED_JOB,
            ts=utc_ms(d, "23:59:59.999"),
            zone="kreuzberg",
            pickup=BERLIN_DROPOFF,
            dropoff=BERLIN_PICKUP,
            promised_ts=utc_ms(nd, "00:40:00"),
            ready_ts=None,
        ),
        _event(
            dataset=PROD,
            city=b,
            job=QUOTED_JOB,
            type="job_assigned",
            ts=utc_ms(nd, "00:00:00"),
            entity="courier:c3",
            round="r-4",
        ),
        _event(
            dataset=PROD,
            city=b,
            job=QUOTED_JOB,
            type="job_cancelled",
            ts=utc_ms(nd, "00:10:00"),
            reason="customer",
        ),
        # prod berlin order:b3 — created exactly at midnight
        _created(
            dataset=PROD,
            city=b,
            job="order:b3",
            ts=utc_ms(nd, "00:00:00"),
            zone="mitte",
            pickup=BERLIN_PICKUP,
            dropoff=BERLIN_DROPOFF,
            promised_ts=utc_ms(nd, "01:00:00"),
            ready_ts=utc_ms(nd, "00:05:00"),
        ),
        _event(
            dataset=PROD,
            city=b,
            job="order:b3",
            type="job_assigned",
            ts=utc_ms(nd, "00:01:00"),
            entity="courier:c1",
            round="r-5",
            waybill="w1",
        ),
        _event(
            dataset=PROD,
            city=b,
            job="order:b3",
            type="job_accepted",
            ts=utc_ms(nd, "00:01:10"),
            entity="courier:c1",
            waybill="w1",
        ),
        _event(
            dataset=PROD,
            city=b,
            job="order:b3",
            type="job_picked_up",
            ts=utc_ms(nd, "00:10:00"),
            entity="courier:c1",
            waybill="w1",
        ),
        _event(
            dataset=PROD,
            city=b,
            job="order:b3",
            type="job_delivered",
            ts=utc_ms(nd, "00:30:00"),
            entity="courier:c1",
            waybill="w1",
        ),
        # prod paris order:p1 — no promise
        _created(
            dataset=PROD,
            city=p,
            job="order:p1",
            ts=utc_ms(d, "12:00:00"),
            zone="p-11",
            pickup=PARIS_PICKUP,
            dropoff=PARIS_DROPOFF,
            promised_ts=None,
            ready_ts=None,
        ),
        _event(
            dataset=PROD,
            city=p,
            job="order:p1",
            type="job_assigned",
            ts=utc_ms(d, "12:00:20"),
            entity="courier:c9",
            round="r-p1",
            waybill="w1",
        ),
        _event(
            dataset=PROD,
            city=p,
            job="order:p1",
            type="job_accepted",
            ts=utc_ms(d, "12:00:25"),
            entity="courier:c9",
            waybill="w1",
        ),
        _event(
            dataset=PROD,
            city=p,
            job="order:p1",
            type="job_picked_up",
            ts=utc_ms(d, "12:09:00"),
            entity="courier:c9",
            waybill="w1",
        ),
        _event(
            dataset=PROD,
            city=p,
            job="order:p1",
            type="job_delivered",
            ts=utc_ms(d, "12:21:00"),
            entity="courier:c9",
            waybill="w1",
        ),
        # sim order:b1 — same id as prod, other facts
        _created(
            dataset=SIM,
            city=b,
            job="order:b1",
            ts=utc_ms(d, "12:00:00"),
            zone="mitte",
            pickup=BERLIN_PICKUP,
            dropoff=BERLIN_DROPOFF,
            promised_ts=utc_ms(d, "12:15:00"),
            ready_ts=None,
        ),
        _event(
            dataset=SIM,
            city=b,
            job="order:b1",
            type="job_assigned",
            ts=utc_ms(d, "12:00:30"),
            entity="courier:s1",
            round="r-1",
            waybill="w1",
        ),
        _event(
            dataset=SIM,
            city=b,
            job="order:b1",
            type="job_accepted",
            ts=utc_ms(d, "12:00:31"),
            entity="courier:s1",
            waybill="w1",
        ),
        _event(
            dataset=SIM,
            city=b,
            job="order:b1",
            type="job_picked_up",
            ts=utc_ms(d, "12:09:00"),
            entity="courier:s1",
            waybill="w1",
        ),
        _event(
            dataset=SIM,
            city=b,
            job="order:b1",
            type="job_delivered",
            ts=utc_ms(d, "12:20:00"),
            entity="courier:s1",
            waybill="w1",
        ),
    ]


def _round(dataset: str, city: str, round: str, ts: int, *, jobs: int, candidates: int) -> dict[str, Any]:
    return {
        "dataset": dataset,
        "city": city,
        "round": round,
        "ts": ts,
        "strategy": "greedy_eta",
        "strategy_version": "3",
        "latency_ms": 12.5,
        "n_jobs": jobs,
        "n_candidates": candidates,
        "n_assignments": min(jobs, candidates),
        "n_postponed": 0,
        "n_excluded": 0,
    }


def _rounds() -> list[dict[str, Any]]:
    d, nd = DAY, NEXT_DAY
    return [
        _round(PROD, "berlin", "r-1", utc_ms(d, "12:00:30"), jobs=1, candidates=2),
        _round(PROD, "berlin", "r-2", utc_ms(d, "12:05:30"), jobs=1, candidates=2),
        _round(PROD, "berlin", "r-3", utc_ms(d, "12:06:30"), jobs=1, candidates=1),
        _round(PROD, "berlin", "r-4", utc_ms(nd, "00:00:00"), jobs=1, candidates=1),
        _round(PROD, "berlin", "r-5", utc_ms(nd, "00:01:00"), jobs=1, candidates=1),
        _round(PROD, "paris", "r-p1", utc_ms(d, "12:00:20"), jobs=1, candidates=2),
        _round(SIM, "berlin", "r-1", utc_ms(d, "12:00:30"), jobs=1, candidates=2),
        _round(ROUNDS_ONLY, "berlin", "r-1", utc_ms(d, "08:00:00"), jobs=0, candidates=0),
    ]


def _candidate(
    dataset: str, city: str, round: str, ts: int, job: str, entity: str, *, assigned: bool, eta_s: float
) -> dict[str, Any]:
    return {
        "dataset": dataset,
        "city": city,
        "round": round,
        "ts": ts,
        "job": job,
        "entity": entity,
        "score": -eta_s,
        "eta_s": eta_s,
        "distance_m": eta_s * 5.0,
        "assigned": assigned,
        "features": json.dumps({"eta_s": eta_s}),
    }


def _candidates() -> list[dict[str, Any]]:
    d, nd = DAY, NEXT_DAY
    return [
        _candidate(
            PROD, "berlin", "r-1", utc_ms(d, "12:00:30"), "order:b1", "courier:c1", assigned=True, eta_s=240
        ),
        _candidate(
            PROD, "berlin", "r-1", utc_ms(d, "12:00:30"), "order:b1", "courier:c2", assigned=False, eta_s=420
        ),
        _candidate(
            PROD, "berlin", "r-2", utc_ms(d, "12:05:30"), "order:b2", "courier:c2", assigned=True, eta_s=300
        ),
        _candidate(
            PROD, "berlin", "r-2", utc_ms(d, "12:05:30"), "order:b2", "courier:c1", assigned=False, eta_s=360
        ),
        _candidate(
            PROD, "berlin", "r-3", utc_ms(d, "12:06:30"), "order:b2", "courier:c1", assigned=True, eta_s=330
        ),
        _candidate(
            PROD, "berlin", "r-4", utc_ms(nd, "00:00:00"), QUOTED_JOB, "courier:c3", assigned=True, eta_s=200
        ),
        _candidate(
            PROD, "berlin", "r-5", utc_ms(nd, "00:01:00"), "order:b3", "courier:c1", assigned=True, eta_s=180
        ),
        _candidate(
            PROD, "paris", "r-p1", utc_ms(d, "12:00:20"), "order:p1", "courier:c9", assigned=True, eta_s=150
        ),
        _candidate(
            PROD, "paris", "r-p1", utc_ms(d, "12:00:20"), "order:p1", "courier:c8", assigned=False, eta_s=500
        ),
        _candidate(
            SIM, "berlin", "r-1", utc_ms(d, "12:00:30"), "order:b1", "courier:s1", assigned=True, eta_s=250
        ),
        _candidate(
            SIM, "berlin", "r-1", utc_ms(d, "12:00:30"), "order:b1", "courier:s2", assigned=False, eta_s=260
        ),
    ]


def _entity_states() -> list[dict[str, Any]]:
    d = DAY
    rows = []
    for dataset, city, entity in (
        (PROD, "berlin", "courier:c1"),
        (PROD, "paris", "courier:c9"),
        (SIM, "berlin", "courier:s1"),
    ):
        for n, (clock, state) in enumerate(
            (("11:00:00", "online"), ("12:00:30", "busy"), ("13:00:00", "idle"))
        ):
            rows.append(
                {
                    "dataset": dataset,
                    "city": city,
                    "event_id": f"{entity}/state/{n}",
                    "entity": entity,
                    "ts": utc_ms(d, clock),
                    "state": state,
                    "capacity": 3 if n == 0 else None,
                }
            )
    return rows


def _experiment_assignments() -> list[dict[str, Any]]:
    d = DAY
    return [
        {
            "dataset": PROD,
            "city": "berlin",
            "event_id": f"exp/{job}",
            "experiment": "eta-model-v2",
            "unit": job,
            "variant": variant,
            "ts": utc_ms(d, clock),
        }
        for job, variant, clock in (
            ("order:b1", "control", "12:00:00"),
            ("order:b2", "treatment", "12:05:00"),
        )
    ]


def _gps() -> list[dict[str, Any]]:
    d = DAY
    return [
        {
            "dataset": PROD,
            "city": "berlin",
            "entity": "courier:c1",
            "ts": utc_ms(d, f"12:00:0{i}"),
            "lat": BERLIN_PICKUP[0] + i * 1e-5,
            "lon": BERLIN_PICKUP[1],
            "speed_mps": 4.0 if i else None,
            "heading_deg": 0.0,
            "accuracy_m": 5.0,
        }
        for i in range(5)
    ]


FIXTURE_ROWS = {
    "job_events": _job_events,
    "rounds": _rounds,
    "candidates": _candidates,
    "entity_states": _entity_states,
    "experiment_assignments": _experiment_assignments,
    "gps": _gps,
}


def fixture_rows(table: str) -> pa.Table:
    """The fixture's rows of `table` as the writer takes them: file columns plus dataset and city."""
    schema = TABLE_SCHEMAS[table]
    full = pa.schema([*schema, pa.field("dataset", pa.string()), pa.field("city", pa.string())])
    return pa.Table.from_pylist(FIXTURE_ROWS[table](), schema=full)


def fixture_warehouse_write(*, root: Path) -> dict[str, FactWriteSummary]:
    """Every fact table of the fixture written under `root`; the writer's summary per table."""
    return {
        table: write_fact_table(root=root, table=table, rows=fixture_rows(table)) for table in FIXTURE_ROWS
    }
