"""A small deterministic demo city as DESIGN §4 logs: couriers, orders, dispatch rounds, bikes, an A/B test.

Files written into `out_dir` (names carry the dataset and seed, so several seeds can sit side by side):
- `<dataset>-seed<N>-gps.parquet` — entity, ts, lat, lon, speed_mps, heading_deg, accuracy_m, city; by time.
- `<dataset>-seed<N>-events.jsonl` — one §4 event per line, time-sorted; `ts` is int ms, a few are RFC 3339.
- `<dataset>-seed<N>-manifest.json` — written last, so its presence means the other two are complete.

This is a simple generator for the demo, not the simulator (DESIGN §10): couriers carry one order at a time
and ride L-shaped paths between restaurants and customers. The same seed and code give byte-identical files.
"""

from __future__ import annotations

import bisect
import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

#: Bumped whenever the output changes, so a stale sample on disk is regenerated rather than reused.
GENERATOR_VERSION = 1

CITY = "beijing"
#: Tuesday 3 June 2025, 11:00 in Beijing (03:00 UTC): the lunch peak.
DEFAULT_START_MS = 1_748_919_600_000
DURATION_S = 2 * 3600
ROUND_EVERY_MS = 30_000
EXPERIMENT = "eta_weight_ab"
VARIANTS = ("control", "treatment")
STRATEGY = "greedy_eta"

_M_PER_DEG_LAT = 111_320.0
_BEIJING = timezone(timedelta(hours=8))

FloatArray = npt.NDArray[np.float64]
Int64Array = npt.NDArray[np.int64]


@dataclass(frozen=True)
class SampleManifest:
    """What a generated sample holds: its files, ids worth searching, and the incidents it contains."""

    dataset: str
    seed: int
    gps_path: Path
    events_path: Path
    example_job: str
    example_courier: str
    example_bike: str
    incidents: tuple[tuple[str, str], ...]
    gps_points: int = 0
    events: int = 0


@dataclass(frozen=True)
class _CityShape:
    lat0: float
    lon0: float

    def offset(self, lat: float, lon: float, north_m: float, east_m: float) -> tuple[float, float]:
        return (
            lat + north_m / _M_PER_DEG_LAT,
            lon + east_m / (_M_PER_DEG_LAT * math.cos(math.radians(self.lat0))),
        )

    def zone(self, lat: float, lon: float) -> str:
        # A 3 x 3 grid of ~3 km cells around the centre, named by compass direction.
        row = min(2, max(0, int((lat - self.lat0) * _M_PER_DEG_LAT / 3000 + 1.5)))
        col = min(
            2,
            max(0, int((lon - self.lon0) * _M_PER_DEG_LAT * math.cos(math.radians(self.lat0)) / 3000 + 1.5)),
        )
        return ("sw", "s", "se", "w", "c", "e", "nw", "n", "ne")[row * 3 + col]


def _distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_000.0 * math.asin(math.sqrt(a))


@dataclass
class _Mover:
    """A courier or bike: a piecewise-linear path of (ms, lat, lon) waypoints; it holds after the last one."""

    name: str
    speed_mps: float
    wp_t: list[int]
    wp_lat: list[float]
    wp_lon: list[float]
    online_ts: int
    offline_ts: int | None = None
    planned_offline_ts: int | None = None
    free_at: int = 0

    def position(self, t: int) -> tuple[float, float]:
        i = bisect.bisect_right(self.wp_t, t)
        if i == 0:
            return self.wp_lat[0], self.wp_lon[0]
        if i == len(self.wp_t):
            return self.wp_lat[-1], self.wp_lon[-1]
        t0, t1 = self.wp_t[i - 1], self.wp_t[i]
        f = (t - t0) / (t1 - t0)
        return (
            self.wp_lat[i - 1] + f * (self.wp_lat[i] - self.wp_lat[i - 1]),
            self.wp_lon[i - 1] + f * (self.wp_lon[i] - self.wp_lon[i - 1]),
        )

    def anchor(self, t: int) -> None:
        """Make `t` the end of the path: cut a later plan (an idle reposition) or hold until `t`."""
        lat, lon = self.position(t)
        while self.wp_t and self.wp_t[-1] >= t:
            self.wp_t.pop()
            self.wp_lat.pop()
            self.wp_lon.pop()
        self.wp_t.append(t)
        self.wp_lat.append(lat)
        self.wp_lon.append(lon)

    def ride_to(self, t: int, lat: float, lon: float, *, lat_first: bool) -> int:
        """Ride an L-shaped path (a street, then the cross street) from its place at `t`; arrival ms."""
        self.anchor(t)
        lat_a, lon_a = self.wp_lat[-1], self.wp_lon[-1]
        corner = (lat, lon_a) if lat_first else (lat_a, lon)
        for c_lat, c_lon in (corner, (lat, lon)):
            leg = _distance_m(self.wp_lat[-1], self.wp_lon[-1], c_lat, c_lon)
            dt = max(1000, round(leg / self.speed_mps * 1000))
            self.wp_t.append(self.wp_t[-1] + dt)
            self.wp_lat.append(c_lat)
            self.wp_lon.append(c_lon)
        return self.wp_t[-1]


@dataclass
class _Job:
    name: str
    created: int
    ready: int
    promised: int
    restaurant: str
    pickup: tuple[float, float]
    dropoff: tuple[float, float]
    zone: str
    variant: str
    cancel_at: int | None
    declines: int
    eligible_from: int = 0
    state: str = "pending"
    attempts: int = 0
    postponed_rounds: int = 0
    declined_by: list[str] = field(default_factory=list)
    final_entity: str | None = None
    delivered: int | None = None
    cancelled: int | None = None
    dropoff_leg: tuple[int, int] | None = None


class _EventLog:
    """Events in emission order; sorted by time (stable) when written."""

    def __init__(self) -> None:
        self.rows: list[tuple[int, int, dict[str, Any]]] = []
        self._next_id = 0

    def add(self, event: dict[str, Any], *, with_id: bool = True) -> None:
        if with_id:
            self._next_id += 1
            event = {"id": f"evt:{self._next_id:06d}", **event}
        self.rows.append((int(event["ts"]), len(self.rows), event))


def _rfc3339(ms: int, *, utc: bool) -> str:
    when = datetime.fromtimestamp(ms / 1000, tz=UTC if utc else _BEIJING)
    text = when.isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z") if utc else text


def _pt(lat: float, lon: float) -> dict[str, float]:
    return {"lat": round(lat, 6), "lon": round(lon, 6)}


class _City:
    """One run of the demo city: builds the plan, then writes files."""

    def __init__(self, *, seed: int, start_ms: int, center: tuple[float, float], couriers: int, orders: int):
        self.rng = np.random.default_rng(seed)
        self.start = start_ms
        self.end = start_ms + DURATION_S * 1000
        self.shape = _CityShape(lat0=center[0], lon0=center[1])
        self.log = _EventLog()
        self.n_couriers = couriers
        self.n_orders = orders
        self.restaurants: list[tuple[str, float, float]] = []
        self.couriers: list[_Mover] = []
        self.jobs: list[_Job] = []
        self.bikes: list[_Mover] = []
        self.bike_ride_windows: dict[str, list[tuple[int, int]]] = {}
        self.gps_jump: tuple[str, str, int] | None = None

    def uniform(self, lo: float, hi: float) -> float:
        return float(self.rng.uniform(lo, hi))

    def ms(self, lo_s: float, hi_s: float) -> int:
        return round(self.rng.uniform(lo_s, hi_s)) * 1000

    # --- set-up -----------------------------------------------------------------------------------------
    def place_restaurants(self, count: int = 16) -> None:
        lat0, lon0 = self.shape.lat0, self.shape.lon0
        for i in range(count):
            lat, lon = self.shape.offset(lat0, lon0, self.uniform(-2800, 2800), self.uniform(-3200, 3200))
            self.restaurants.append((f"restaurant:r{i + 1}", lat, lon))

    def hire_couriers(self) -> None:
        for i in range(self.n_couriers):
            _, r_lat, r_lon = self.restaurants[int(self.rng.integers(len(self.restaurants)))]
            lat, lon = self.shape.offset(r_lat, r_lon, self.uniform(-700, 700), self.uniform(-700, 700))
            # Most couriers start the shift at 11:00; a few join later and a few leave early.
            late_join = i >= self.n_couriers - max(2, self.n_couriers // 7)
            online = self.start + (self.ms(900, 2400) if late_join else 0)
            courier = _Mover(
                name=f"courier:c{i + 1}",
                speed_mps=self.uniform(4.2, 6.2),
                wp_t=[online],
                wp_lat=[lat],
                wp_lon=[lon],
                online_ts=online,
                free_at=online,
            )
            if i < max(2, self.n_couriers // 8):
                courier.planned_offline_ts = self.start + self.ms(5400, 6600)
            self.couriers.append(courier)
            self.log.add(
                {
                    "type": "entity_state",
                    "entity": courier.name,
                    "ts": online,
                    "state": "online",
                    "city": CITY,
                    "capacity": 1,
                },
                with_id=False,
            )

    def take_orders(self) -> None:
        # A lunch peak: creation times drawn from a hump over the first 95 minutes.
        offsets = np.sort(self.rng.beta(1.7, 1.9, size=self.n_orders)) * 5640 + 60
        picks = [int(i) for i in self.rng.choice(self.n_orders, size=10, replace=False)]
        slow_kitchen, cancel_late, decline_picks = picks[0], set(picks[1:3]), set(picks[3:])
        twice = min(decline_picks)
        for i, off in enumerate(offsets.tolist()):
            created = self.start + round(off) * 1000
            r_name, r_lat, r_lon = self.restaurants[int(self.rng.integers(len(self.restaurants)))]
            d_lat, d_lon = self.shape.offset(
                r_lat, r_lon, self.uniform(-2200, 2200), self.uniform(-2200, 2200)
            )
            variant = VARIANTS[int(self.rng.integers(2))]
            ready = created + self.ms(240, 840)
            promised = created + self.ms(1080, 2100)
            cancel_at = None
            if i == slow_kitchen:
                # The kitchen is slow, the dispatcher holds the order, and the customer gives up.
                ready, promised = created + self.ms(1500, 1800), created + self.ms(2100, 2400)
                cancel_at = created + self.ms(150, 240)
            elif i in cancel_late:
                cancel_at = created + self.ms(300, 540)
            job = _Job(
                name=f"order:o{1001 + i}",
                created=created,
                ready=ready,
                promised=promised,
                restaurant=r_name,
                pickup=(r_lat, r_lon),
                dropoff=(d_lat, d_lon),
                zone=self.shape.zone(r_lat, r_lon),
                variant=variant,
                cancel_at=cancel_at,
                declines=(2 if i == twice else 1) if i in decline_picks else 0,
                eligible_from=created,
            )
            self.jobs.append(job)
            self.log.add(
                {
                    "type": "job_created",
                    "job": job.name,
                    "ts": created,
                    "city": CITY,
                    "kind": "delivery",
                    "pickup": _pt(*job.pickup),
                    "dropoff": _pt(*job.dropoff),
                    "zone": job.zone,
                    "promised_ts": job.promised,
                    "ready_ts": job.ready,
                    "attrs": {"restaurant": r_name, "items": int(self.rng.integers(1, 5))},
                }
            )
            self.log.add(
                {
                    "type": "experiment_assignment",
                    "experiment": EXPERIMENT,
                    "unit": job.name,
                    "variant": variant,
                    "ts": created,
                    "city": CITY,
                },
                with_id=False,
            )

    # --- dispatch -------------------------------------------------------------------------------------------
    def run_dispatch(self) -> None:
        round_no = 0
        t = self.start + ROUND_EVERY_MS
        last_created = max(j.created for j in self.jobs)
        while t < self.end + 3600_000:
            self._shift_changes(t)
            self._pending_cancellations(t)
            pending = [j for j in self.jobs if j.state == "pending" and j.eligible_from <= t]
            if not pending:
                if t > last_created and all(j.state in ("done", "cancelled") for j in self.jobs):
                    break
                t += ROUND_EVERY_MS
                continue
            round_no += 1
            self._dispatch_round(t, round_no, pending)
            t += ROUND_EVERY_MS
        for job in self.jobs:
            if job.state == "pending":
                self._cancel(job, self.end, reason="no_courier", entity=None)
        # Shifts that end after the last order still end: those couriers log off once they are free.
        self._shift_changes(self.end + 3600_000)

    def _online(self, courier: _Mover, t: int) -> bool:
        return courier.online_ts <= t and courier.offline_ts is None

    def _shift_changes(self, t: int) -> None:
        for c in self.couriers:
            due = c.planned_offline_ts
            if c.offline_ts is None and due is not None and due <= t and c.free_at <= t:
                c.offline_ts = -(-max(due, c.free_at) // 1000) * 1000  # on a whole second, like the fixes
                c.anchor(c.offline_ts)
                self.log.add(
                    {
                        "type": "entity_state",
                        "entity": c.name,
                        "ts": c.offline_ts,
                        "state": "offline",
                        "city": CITY,
                    },
                    with_id=False,
                )

    def _pending_cancellations(self, t: int) -> None:
        for job in self.jobs:
            if job.state == "pending" and job.cancel_at is not None and job.cancel_at <= t:
                self._cancel(job, job.cancel_at, reason="customer_cancelled", entity=None)

    def _cancel(self, job: _Job, ts: int, *, reason: str, entity: str | None) -> None:
        job.state, job.cancelled = "cancelled", ts
        event: dict[str, Any] = {"type": "job_cancelled", "job": job.name, "ts": ts, "reason": reason}
        if entity is not None:
            event["entity"] = entity
            event["waybill"] = self._waybill(job)
        self.log.add(event)

    def _waybill(self, job: _Job) -> str:
        return f"waybill:{job.name.split(':', 1)[1]}-{job.attempts}"

    def _eta_s(self, courier: _Mover, dist_m: float) -> float:
        # Streets are not straight lines: the dispatcher's ETA allows a detour factor and a start-up cost.
        return dist_m * 1.3 / courier.speed_mps + 20.0

    def _dispatch_round(self, t: int, round_no: int, pending: list[_Job]) -> None:
        idle = [c for c in self.couriers if self._online(c, t) and c.free_at <= t]
        busy = [c for c in self.couriers if self._online(c, t) and c.free_at > t]
        positions = {c.name: c.position(t) for c in idle + busy}
        candidates: list[dict[str, Any]] = []
        excluded: list[dict[str, Any]] = []
        postponed: list[str] = []
        options: list[tuple[float, int, int, _Job, _Mover]] = []
        for j_index, job in enumerate(pending):
            scored: list[tuple[float, float, float, _Mover]] = []
            for c in idle:
                lat, lon = positions[c.name]
                dist = _distance_m(lat, lon, *job.pickup)
                if c.name in job.declined_by:
                    if dist < 4000:
                        excluded.append({"job": job.name, "entity": c.name, "reason": "declined_this_job"})
                    continue
                if dist > 4500:
                    continue
                eta = self._eta_s(c, dist)
                wait_s = max(0.0, (job.ready - t) / 1000 - eta)
                # Treatment weighs the courier's expected wait at the restaurant into the score.
                cost = eta + (0.5 * wait_s if job.variant == "treatment" else 0.0)
                scored.append((math.exp(-cost / 600.0), eta, dist, c))
            for c in busy:
                lat, lon = positions[c.name]
                if _distance_m(lat, lon, *job.pickup) < 800 and len(excluded) < 60:
                    excluded.append({"job": job.name, "entity": c.name, "reason": "at_capacity"})
            scored.sort(key=lambda s: (-s[0], s[3].name))
            scored = scored[:5]
            for score, eta, dist, c in scored:
                fix_ts = max(c.online_ts, t - int(self.rng.integers(0, 5)) * 1000)
                lat, lon = c.position(fix_ts)
                candidates.append(
                    {
                        "job": job.name,
                        "entity": c.name,
                        "score": round(score, 4),
                        "eta_s": round(eta, 1),
                        "distance_m": round(dist, 1),
                        "features": {
                            "variant": job.variant,
                            "wait_at_pickup_s": round(max(0.0, (job.ready - t) / 1000 - eta), 1),
                            "minutes_to_promise": round((job.promised - t) / 60000, 1),
                            "idle_s": round((t - c.free_at) / 1000, 1),
                        },
                        "entity_pos": {**_pt(lat, lon), "ts": fix_ts},
                    }
                )
            if scored and (job.ready - t) / 1000 > scored[0][1] + 300 and job.postponed_rounds < 12:
                # The food is far from ready: hold the order so a closer courier can free up meanwhile.
                job.postponed_rounds += 1
                postponed.append(job.name)
                continue
            for rank, (score, _eta, _dist, c) in enumerate(scored):
                options.append((score, j_index, rank, job, c))
        options.sort(key=lambda o: (-o[0], o[1], o[2]))
        taken_jobs: set[str] = set()
        taken_couriers: set[str] = set()
        assignments: list[tuple[_Job, _Mover]] = []
        for _score, _j, _r, job, c in options:
            if job.name in taken_jobs or c.name in taken_couriers:
                continue
            taken_jobs.add(job.name)
            taken_couriers.add(c.name)
            assignments.append((job, c))
        latency = int(self.rng.integers(150, 2600))
        round_id = f"round:r{round_no}"
        self.log.add(
            {
                "type": "dispatch_round",
                "round": round_id,
                "ts": t,
                "city": CITY,
                "strategy": STRATEGY,
                "strategy_version": "1.4",
                "latency_ms": latency,
                "jobs": [j.name for j in pending],
                "candidates": candidates,
                "assignments": [{"job": j.name, "entity": c.name} for j, c in assignments],
                "postponed": postponed,
                "excluded": excluded,
            }
        )
        for job, c in assignments:
            self._assign(job, c, t + latency, round_id)

    def _assign(self, job: _Job, c: _Mover, ts: int, round_id: str) -> None:
        job.attempts += 1
        job.state = "assigned"
        waybill = self._waybill(job)
        base = {"job": job.name, "entity": c.name, "round": round_id, "waybill": waybill}
        self.log.add({"type": "job_assigned", "ts": ts, **base})
        if job.attempts <= job.declines:
            rejected = ts + self.ms(12, 45)
            self.log.add({"type": "job_rejected", "ts": rejected, **base, "reason": "courier_declined"})
            job.declined_by.append(c.name)
            job.state, job.eligible_from = "pending", rejected
            c.free_at = rejected
            return
        accepted = ts + self.ms(4, 25)
        if job.cancel_at is not None and job.cancel_at <= accepted:
            self._cancel(job, job.cancel_at, reason="customer_cancelled", entity=c.name)
            c.free_at = job.cancel_at
            return
        self.log.add({"type": "job_accepted", "ts": accepted, **base})
        self.log.add(
            {"type": "entity_state", "entity": c.name, "ts": accepted, "state": "busy", "city": CITY},
            with_id=False,
        )
        lat_first = bool(self.rng.integers(2))
        arrived = c.ride_to(accepted, *job.pickup, lat_first=lat_first)
        picked = max(arrived, job.ready) + self.ms(20, 90)
        if job.cancel_at is not None and job.cancel_at < picked:
            # Cancelled on the way: the courier stops where it is and is free again.
            c.anchor(job.cancel_at)
            if arrived <= job.cancel_at:
                self.log.add({"type": "job_arrived_pickup", "ts": arrived, **base})
            self._cancel(job, job.cancel_at, reason="customer_cancelled", entity=c.name)
            self._idle(c, job.cancel_at)
            return
        self.log.add({"type": "job_arrived_pickup", "ts": arrived, **base})
        c.anchor(picked)
        self.log.add({"type": "job_picked_up", "ts": picked, **base})
        at_door = c.ride_to(picked, *job.dropoff, lat_first=not lat_first)
        delivered = at_door + self.ms(20, 75)
        c.anchor(delivered)
        self.log.add({"type": "job_delivered", "ts": delivered, **base})
        job.state, job.delivered, job.final_entity, job.dropoff_leg = (
            "done",
            delivered,
            c.name,
            (picked, at_door),
        )
        self._idle(c, delivered)

    def _idle(self, c: _Mover, ts: int) -> None:
        c.free_at = ts
        self.log.add(
            {"type": "entity_state", "entity": c.name, "ts": ts, "state": "idle", "city": CITY}, with_id=False
        )
        if self.rng.random() < 0.5:
            # Half the couriers drift back towards the nearest restaurant to wait for the next order.
            lat, lon = c.position(ts)
            _, r_lat, r_lon = min(self.restaurants, key=lambda r: _distance_m(lat, lon, r[1], r[2]))
            c.speed_mps, speed = c.speed_mps * 0.5, c.speed_mps
            c.ride_to(ts + self.ms(30, 120), r_lat, r_lon, lat_first=bool(self.rng.integers(2)))
            c.speed_mps = speed

    # --- bikes ----------------------------------------------------------------------------------------------
    def run_bikes(self, count: int = 6) -> None:
        ride_no = 0
        for i in range(count):
            lat, lon = self.shape.offset(
                self.shape.lat0, self.shape.lon0, self.uniform(-2500, 2500), self.uniform(-2500, 2500)
            )
            bike = _Mover(
                name=f"bike:b{i + 1}",
                speed_mps=self.uniform(3.2, 4.5),
                wp_t=[self.start],
                wp_lat=[lat],
                wp_lon=[lon],
                online_ts=self.start,
            )
            self.bikes.append(bike)
            windows: list[tuple[int, int]] = []
            t = self.start + self.ms(300, 1500)
            for _ in range(int(self.rng.integers(2, 4))):
                if t > self.end - 1800_000:
                    break
                ride_no += 1
                job = f"ride:r{ride_no}"
                here = bike.position(t)
                there = self.shape.offset(
                    here[0], here[1], self.uniform(-1400, 1400), self.uniform(-1400, 1400)
                )
                self.log.add(
                    {
                        "type": "job_created",
                        "job": job,
                        "ts": t - 20_000,
                        "city": CITY,
                        "kind": "ride",
                        "pickup": _pt(*here),
                        "dropoff": _pt(*there),
                        "zone": self.shape.zone(*here),
                    }
                )
                base = {"job": job, "entity": bike.name}
                self.log.add({"type": "job_assigned", "ts": t - 12_000, **base})
                self.log.add({"type": "job_picked_up", "ts": t, **base, "reason": "unlocked"})
                self.log.add(
                    {"type": "entity_state", "entity": bike.name, "ts": t, "state": "busy", "city": CITY},
                    with_id=False,
                )
                arrive = bike.ride_to(t, *there, lat_first=bool(self.rng.integers(2)))
                locked = arrive + self.ms(5, 20)
                bike.anchor(locked)
                self.log.add({"type": "job_delivered", "ts": locked, **base, "reason": "locked"})
                self.log.add(
                    {
                        "type": "entity_state",
                        "entity": bike.name,
                        "ts": locked,
                        "state": "idle",
                        "city": CITY,
                    },
                    with_id=False,
                )
                windows.append((t, locked))
                t = locked + self.ms(600, 2400)
            self.bike_ride_windows[bike.name] = windows

    # --- GPS ----------------------------------------------------------------------------------------------
    def _track(self, m: _Mover, ts: Int64Array) -> dict[str, FloatArray]:
        t_wp = np.asarray(m.wp_t, dtype=np.float64)
        true_lat = np.interp(ts.astype(np.float64), t_wp, np.asarray(m.wp_lat))
        true_lon = np.interp(ts.astype(np.float64), t_wp, np.asarray(m.wp_lon))
        cos0 = math.cos(math.radians(self.shape.lat0))
        north = np.gradient(true_lat * _M_PER_DEG_LAT) if len(ts) > 1 else np.zeros(len(ts))
        east = np.gradient(true_lon * _M_PER_DEG_LAT * cos0) if len(ts) > 1 else np.zeros(len(ts))
        dt_s = np.gradient(ts.astype(np.float64) / 1000) if len(ts) > 1 else np.ones(len(ts))
        speed = np.hypot(north, east) / np.maximum(dt_s, 1e-9)
        heading = np.degrees(np.arctan2(east, north)) % 360.0
        moving = speed > 0.5
        # A stopped receiver keeps reporting its last heading.
        last = np.maximum.accumulate(np.where(moving, np.arange(len(ts)), 0))
        heading = np.where(moving[last], heading[last], 0.0)
        # GPS error wanders rather than jumping each second: white noise smoothed over ~20 s.
        kernel = np.exp(-np.arange(40) / 8.0)
        kernel /= math.sqrt(float(np.sum(kernel**2)))
        noise_n = np.convolve(self.rng.normal(0, 2.5, len(ts) + 39), kernel, mode="valid")
        noise_e = np.convolve(self.rng.normal(0, 2.5, len(ts) + 39), kernel, mode="valid")
        return {
            "lat": np.round(true_lat + noise_n / _M_PER_DEG_LAT, 7),
            "lon": np.round(true_lon + noise_e / (_M_PER_DEG_LAT * cos0), 7),
            "speed_mps": np.round(np.clip(speed + self.rng.normal(0, 0.25, len(ts)), 0, None) * moving, 2),
            "heading_deg": np.round(heading, 1) % 360.0,
            "accuracy_m": np.round(self.rng.uniform(3.0, 9.0, len(ts)), 1),
        }

    def gps_table(self) -> pa.Table:
        parts: list[tuple[str, Int64Array, dict[str, FloatArray]]] = []
        for c in self.couriers:
            end = c.offline_ts if c.offline_ts is not None else max(self.end, c.free_at + 60_000)
            ts = np.arange(c.online_ts, end + 1, 1000, dtype=np.int64)
            parts.append((c.name, ts, self._track(c, ts)))
        for b in self.bikes:
            ts = np.arange(self.start, self.end + 1, 1000, dtype=np.int64)
            # Parked bikes report once a minute; riding ones every second.
            keep = (ts - self.start) % 60_000 == 0
            for a, z in self.bike_ride_windows[b.name]:
                keep |= (ts >= a - 10_000) & (ts <= z + 10_000)
            ts = ts[keep]
            parts.append((b.name, ts, self._track(b, ts)))
        self._inject_gps_jump(parts)
        entity = np.concatenate([np.full(len(ts), name, dtype=object) for name, ts, _ in parts])
        ts_all = np.concatenate([ts for _, ts, _ in parts])
        order = np.lexsort((entity.astype(str), ts_all))
        columns: dict[str, Any] = {
            "entity": pa.array(entity[order].tolist(), pa.string()),
            "ts": ts_all[order],
        }
        for col in ("lat", "lon", "speed_mps", "heading_deg", "accuracy_m"):
            columns[col] = np.concatenate([cols[col] for _, _, cols in parts])[order]
        columns["city"] = pa.array([CITY] * len(ts_all), pa.string())
        return pa.table(columns)

    def _inject_gps_jump(self, parts: list[tuple[str, Int64Array, dict[str, FloatArray]]]) -> None:
        legs = [
            j
            for j in self.jobs
            if j.dropoff_leg is not None and j.dropoff_leg[1] - j.dropoff_leg[0] > 240_000
        ]
        if not legs:
            return
        job = legs[int(self.rng.integers(len(legs)))]
        assert job.dropoff_leg is not None
        assert job.final_entity is not None
        when = (job.dropoff_leg[0] + job.dropoff_leg[1]) // 2 // 1000 * 1000
        for name, ts, cols in parts:
            if name == job.final_entity:
                i = int(np.searchsorted(ts, when))
                # One bad fix ~900 m off with a matching accuracy estimate: the classic multipath jump.
                cols["lat"][i] = round(float(cols["lat"][i]) + 650 / _M_PER_DEG_LAT, 7)
                cols["lon"][i] = round(
                    float(cols["lon"][i]) + 620 / (_M_PER_DEG_LAT * math.cos(math.radians(self.shape.lat0))),
                    7,
                )
                cols["accuracy_m"][i] = 250.0
                self.gps_jump = (job.name, name, int(ts[i]))

    # --- output -------------------------------------------------------------------------------------------
    def event_lines(self) -> list[str]:
        lines = []
        for n, (ms, _seq, event) in enumerate(sorted(self.log.rows, key=lambda r: (r[0], r[1]))):
            if n % 41 == 17:
                # A few producers log RFC 3339 with an offset; the pipeline must normalise them to ms.
                event = {**event, "ts": _rfc3339(ms, utc=n % 3 == 0)}
            lines.append(json.dumps(event, separators=(",", ":"), ensure_ascii=False))
        return lines

    def incidents(self) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        for job in self.jobs:
            if job.declined_by and job.state == "done":
                declined = len(job.declined_by)
                found.append(
                    (
                        job.name,
                        f"declined by {declined} courier{'s' if declined > 1 else ''}, re-dispatched, "
                        f"delivered by {job.final_entity} under {self._waybill(job)}",
                    )
                )
        late = sorted(
            (j for j in self.jobs if j.delivered is not None and j.delivered > j.promised),
            key=lambda j: (j.promised - (j.delivered or 0), j.name),
        )
        for job in late[:3]:
            minutes = ((job.delivered or 0) - job.promised) / 60000
            found.append(
                (job.name, f"delivered {minutes:.1f} min after the promised time by {job.final_entity}")
            )
        for job in self.jobs:
            if job.state == "cancelled":
                when = "after a courier was sent" if job.attempts else "before any courier was sent"
                found.append((job.name, f"cancelled by the customer {when}"))
        if self.gps_jump is not None:
            job_name, courier, ts = self.gps_jump
            found.append((job_name, f"{courier}'s GPS jumped ~900 m for one fix at ts={ts} while delivering"))
        return found

    def example_job(self) -> _Job:
        delivered = [j for j in self.jobs if j.state == "done"]
        for pick in (
            [j for j in delivered if j.declined_by and j.delivered and j.delivered > j.promised],
            [j for j in delivered if j.declined_by],
            delivered,
        ):
            if pick:
                return pick[0]
        return self.jobs[0]


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _file_stem(dataset: str, seed: int) -> str:
    return f"{dataset}-seed{seed}"


def sample_write(
    out_dir: Path,
    *,
    seed: int = 7,
    dataset: str = "demo",
    center: tuple[float, float] = (39.9, 116.4),
    couriers: int = 40,
    orders: int = 150,
    start_ms: int = DEFAULT_START_MS,
) -> SampleManifest:
    """Write the demo sample into `out_dir` (created if needed); the same arguments give identical bytes."""
    city = _City(seed=seed, start_ms=start_ms, center=center, couriers=couriers, orders=orders)
    city.place_restaurants()
    city.hire_couriers()
    city.take_orders()
    city.run_dispatch()
    city.run_bikes()
    gps = city.gps_table()
    lines = city.event_lines()
    example = city.example_job()

    out_dir.mkdir(parents=True, exist_ok=True)
    stem = _file_stem(dataset, seed)
    gps_path, events_path = out_dir / f"{stem}-gps.parquet", out_dir / f"{stem}-events.jsonl"
    sink = pa.BufferOutputStream()
    pq.write_table(gps, sink, compression="zstd", row_group_size=100_000, write_statistics=True)
    _write_atomic(gps_path, sink.getvalue().to_pybytes())
    _write_atomic(events_path, ("\n".join(lines) + "\n").encode())
    manifest = SampleManifest(
        dataset=dataset,
        seed=seed,
        gps_path=gps_path,
        events_path=events_path,
        example_job=example.name,
        example_courier=example.final_entity or city.couriers[0].name,
        example_bike=city.bikes[0].name,
        incidents=tuple(city.incidents()),
        gps_points=gps.num_rows,
        events=len(lines),
    )
    _write_atomic(_manifest_path(out_dir, dataset=dataset, seed=seed), _manifest_json(manifest).encode())
    return manifest


def _manifest_path(out_dir: Path, *, dataset: str, seed: int) -> Path:
    return out_dir / f"{_file_stem(dataset, seed)}-manifest.json"


def _manifest_json(m: SampleManifest) -> str:
    body = {
        "generator_version": GENERATOR_VERSION,
        "dataset": m.dataset,
        "seed": m.seed,
        "gps": m.gps_path.name,
        "events": m.events_path.name,
        "gps_points": m.gps_points,
        "event_count": m.events,
        "example_job": m.example_job,
        "example_courier": m.example_courier,
        "example_bike": m.example_bike,
        "incidents": [{"job": job, "description": text} for job, text in m.incidents],
    }
    return json.dumps(body, indent=2, ensure_ascii=False) + "\n"


def sample_manifest_read(out_dir: Path, *, seed: int = 7, dataset: str = "demo") -> SampleManifest | None:
    """The manifest of a complete sample already in `out_dir` for this seed and generator, else None."""
    path = _manifest_path(out_dir, dataset=dataset, seed=seed)
    try:
        body = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(body, dict) or body.get("generator_version") != GENERATOR_VERSION:
        return None
    gps_path, events_path = out_dir / str(body["gps"]), out_dir / str(body["events"])
    if not (gps_path.is_file() and events_path.is_file()):
        return None
    return SampleManifest(
        dataset=str(body["dataset"]),
        seed=int(body["seed"]),
        gps_path=gps_path,
        events_path=events_path,
        example_job=str(body["example_job"]),
        example_courier=str(body["example_courier"]),
        example_bike=str(body["example_bike"]),
        incidents=tuple((str(i["job"]), str(i["description"])) for i in body["incidents"]),
        gps_points=int(body["gps_points"]),
        events=int(body["event_count"]),
    )


def sample_paths(manifest: SampleManifest) -> Sequence[Path]:
    """The files to hand to the ingest pipeline, GPS first."""
    return (manifest.gps_path, manifest.events_path)
