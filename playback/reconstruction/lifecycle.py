"""A job's lifecycle from its stored events: times, assignment attempts (waybills), durations, lateness.

Pure: takes StoredEvents (and the job's rounds), returns frozen dataclasses. The rules (docs/playback.md):
- events are read in time order, and at equal times in lifecycle order (created, assigned, accepted or
  rejected, arrived, picked up, delivered or cancelled), since logs may stamp several steps alike;
- an attempt is one waybill: `job_assigned` opens it, `job_accepted`/`job_rejected` answer it,
  `job_delivered`/`job_cancelled` close it. Events carrying a `waybill` join that attempt; events without
  one join the newest open attempt of the same entity. A round that assigned the job but has no matching
  `job_assigned` in the log opens an attempt at the round's time;
- the job's times (assigned, accepted, entity) are those of the attempt that carried it: the last one
  accepted, else the last one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from playback.reconstruction.rounds import RoundView
from storage.tracks.types import StoredEvent

Outcome = Literal["pending", "accepted", "rejected", "cancelled", "delivered"]
JobState = Literal["waiting", "assigned", "accepted", "at_pickup", "picked_up", "delivered", "cancelled"]
TERMINAL_STATES: frozenset[str] = frozenset(("delivered", "cancelled"))

LIFECYCLE_TYPES = (
    "job_created",
    "job_assigned",
    "job_accepted",
    "job_rejected",
    "job_arrived_pickup",
    "job_picked_up",
    "job_delivered",
    "job_cancelled",
)
#: Order of lifecycle steps logged at the same millisecond.
STEP_ORDER = {
    "job_created": 0,
    "job_assigned": 1,
    "job_accepted": 2,
    "job_rejected": 2,
    "job_arrived_pickup": 3,
    "job_picked_up": 4,
    "job_delivered": 5,
    "job_cancelled": 5,
}
_STATE_OF: dict[str, JobState] = {
    "job_created": "waiting",
    "job_assigned": "assigned",
    "job_accepted": "accepted",
    "job_rejected": "waiting",
    "job_arrived_pickup": "at_pickup",
    "job_picked_up": "picked_up",
    "job_delivered": "delivered",
    "job_cancelled": "cancelled",
}


@dataclass(frozen=True)
class LatLon:
    """A point in WGS84 degrees."""

    lat: float
    lon: float


@dataclass(frozen=True)
class Waybill:
    """One assignment attempt of a job: who got it, in which round, and how it ended."""

    waybill: str | None
    entity: str | None
    round: str | None
    assigned_ts: int | None
    accepted_ts: int | None
    outcome: Outcome
    outcome_ts: int | None
    reason: str | None


@dataclass(frozen=True)
class Durations:
    """Seconds spent in each stage (None when either end is unknown).

    wait: created → accepted; to_pickup: accepted → arrived at pickup (picked up when no arrival was
    logged); at_pickup: arrived → picked up; to_dropoff: picked up → delivered; total: created → delivered
    or cancelled."""

    wait_s: float | None
    to_pickup_s: float | None
    at_pickup_s: float | None
    to_dropoff_s: float | None
    total_s: float | None


@dataclass(frozen=True)
class Transition:
    """From `ts` on the job is in `state`, held by `entity` (None while nobody holds it)."""

    ts: int
    state: JobState
    entity: str | None


@dataclass(frozen=True)
class Lifecycle:
    """Everything the log says about one job's life, with durations against its promise."""

    job: str
    kind: str | None
    city: str | None
    zone: str | None
    pickup: LatLon | None
    dropoff: LatLon | None
    created_ts: int | None
    ready_ts: int | None
    promised_ts: int | None
    assigned_ts: int | None
    accepted_ts: int | None
    arrived_pickup_ts: int | None
    picked_up_ts: int | None
    delivered_ts: int | None
    cancelled_ts: int | None
    entity: str | None
    waybills: tuple[Waybill, ...]
    durations: Durations
    late_s: float | None
    transitions: tuple[Transition, ...] = field(default=())
    events: tuple[StoredEvent, ...] = field(default=(), hash=False)

    def state_at(self, ts: int) -> Transition | None:
        """The job's state at `ts`: None before it existed (its first logged event)."""
        found: Transition | None = None
        for transition in self.transitions:
            if transition.ts > ts:
                break
            found = transition
        return found

    def arrivals(self) -> tuple[tuple[int, str, str], ...]:
        """(ts, type, entity) of every arrival at the pickup and pickup, in time order."""
        return tuple(
            (e.ts, e.type, str(e.body["entity"]))
            for e in self.events
            if e.type in ("job_arrived_pickup", "job_picked_up") and e.body.get("entity")
        )


@dataclass
class _Attempt:
    waybill: str | None
    entity: str | None
    round: str | None
    assigned_ts: int | None
    accepted_ts: int | None = None
    outcome: Outcome = "pending"
    outcome_ts: int | None = None
    reason: str | None = None

    def frozen(self) -> Waybill:
        return Waybill(
            waybill=self.waybill,
            entity=self.entity,
            round=self.round,
            assigned_ts=self.assigned_ts,
            accepted_ts=self.accepted_ts,
            outcome=self.outcome,
            outcome_ts=self.outcome_ts,
            reason=self.reason,
        )


def lifecycle_events(events: Iterable[StoredEvent]) -> list[StoredEvent]:
    """The lifecycle events among `events`, in time order and lifecycle order at equal times."""
    chosen = [e for e in events if e.type in STEP_ORDER]
    return sorted(chosen, key=lambda e: (e.ts, STEP_ORDER[e.type]))


def _seconds(start: int | None, end: int | None) -> float | None:
    return None if start is None or end is None else (end - start) / 1000.0


def _point(value: Any) -> LatLon | None:
    if (
        isinstance(value, dict)
        and isinstance(value.get("lat"), int | float)
        and isinstance(value.get("lon"), int | float)
    ):
        return LatLon(lat=float(value["lat"]), lon=float(value["lon"]))
    return None


def _optional_int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _optional_str(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _round_assignments(events: Sequence[StoredEvent], rounds: Sequence[RoundView]) -> list[StoredEvent]:
    """`job_assigned` events for rounds whose assignment the log does not otherwise show."""
    logged = [e for e in events if e.type == "job_assigned"]
    pairs = {(_optional_str(e.body.get("round")), _optional_str(e.body.get("entity"))) for e in logged}
    extra: list[StoredEvent] = []
    for view in rounds:
        if view.assigned_to is None or (view.round, view.assigned_to) in pairs:
            continue
        # An assignment logged without its round id counts for the round just before it.
        if any(
            e.body.get("round") is None and e.body.get("entity") == view.assigned_to and e.ts >= view.ts
            for e in logged
        ):
            continue
        body = {
            "type": "job_assigned",
            "job": "",
            "ts": view.ts,
            "entity": view.assigned_to,
            "round": view.round,
        }
        extra.append(
            StoredEvent(id=f"round-assignment:{view.round}", type="job_assigned", ts=view.ts, body=body)
        )
    return extra


def job_lifecycle(job: str, events: Iterable[StoredEvent], rounds: Sequence[RoundView] = ()) -> Lifecycle:
    """The lifecycle of `job` from its events (any order; non-lifecycle events are ignored)."""
    ordered = lifecycle_events(events)
    steps = sorted(ordered + _round_assignments(ordered, rounds), key=lambda e: (e.ts, STEP_ORDER[e.type]))
    attempts: list[_Attempt] = []
    by_waybill: dict[str, _Attempt] = {}
    firsts: dict[str, StoredEvent] = {}
    transitions: list[Transition] = []
    created: StoredEvent | None = None

    def find(waybill: str | None, entity: str | None, open_outcomes: tuple[str, ...]) -> _Attempt | None:
        if waybill is not None and waybill in by_waybill:
            return by_waybill[waybill]
        for attempt in reversed(attempts):
            if attempt.outcome in open_outcomes and (entity is None or attempt.entity == entity):
                return attempt
        return None

    def opened(waybill: str | None, entity: str | None, round_id: str | None, ts: int | None) -> _Attempt:
        attempt = _Attempt(waybill=waybill, entity=entity, round=round_id, assigned_ts=ts)
        attempts.append(attempt)
        if waybill is not None:
            by_waybill[waybill] = attempt
        return attempt

    holder: str | None = None
    for event in steps:
        body = event.body
        waybill = _optional_str(body.get("waybill"))
        entity = _optional_str(body.get("entity"))
        reason = _optional_str(body.get("reason"))
        kind = event.type
        firsts.setdefault(kind, event)
        if kind == "job_created":
            created = created or event
        elif kind == "job_assigned":
            attempt = by_waybill.get(waybill) if waybill is not None else None
            if attempt is None:
                attempt = opened(waybill, entity, _optional_str(body.get("round")), event.ts)
            else:
                attempt.assigned_ts = attempt.assigned_ts if attempt.assigned_ts is not None else event.ts
                attempt.round = attempt.round or _optional_str(body.get("round"))
                attempt.entity = attempt.entity or entity
            holder = attempt.entity
        elif kind in ("job_accepted", "job_rejected"):
            attempt = find(waybill, entity, ("pending",)) or opened(waybill, entity, None, None)
            attempt.entity = attempt.entity or entity
            attempt.outcome_ts = event.ts
            attempt.reason = reason
            if kind == "job_accepted":
                attempt.outcome, attempt.accepted_ts = "accepted", event.ts
                holder = attempt.entity
            else:
                attempt.outcome = "rejected"
                holder = None
        elif kind == "job_delivered":
            attempt = find(waybill, entity, ("accepted", "pending")) or opened(waybill, entity, None, None)
            attempt.outcome, attempt.outcome_ts = "delivered", event.ts
            attempt.entity = attempt.entity or entity
            holder = attempt.entity
        elif kind == "job_cancelled":
            attempt_or_none = find(waybill, None, ("accepted", "pending"))
            if attempt_or_none is not None:
                attempt_or_none.outcome, attempt_or_none.outcome_ts = "cancelled", event.ts
                attempt_or_none.reason = reason
            holder = None
        else:  # arrived at pickup, picked up: the holder's own steps
            holder = entity or holder
        state = _STATE_OF[kind]
        if not transitions or transitions[-1].state not in TERMINAL_STATES:
            transitions.append(
                Transition(ts=event.ts, state=state, entity=None if state == "waiting" else holder)
            )

    carrying = next((a for a in reversed(attempts) if a.accepted_ts is not None), None)
    carrying = carrying or (attempts[-1] if attempts else None)
    body = created.body if created is not None else {}

    def first_ts(kind: str, entity: str | None = None) -> int | None:
        matching = [
            e.ts for e in ordered if e.type == kind and (entity is None or e.body.get("entity") == entity)
        ]
        if matching:
            return matching[0]
        return firsts[kind].ts if kind in firsts else None

    entity = carrying.entity if carrying is not None else None
    if entity is None:
        last_named = [
            e for e in ordered if e.body.get("entity") and e.type in ("job_picked_up", "job_delivered")
        ]
        entity = str(last_named[-1].body["entity"]) if last_named else None
    created_ts = created.ts if created is not None else (ordered[0].ts if ordered else None)
    accepted_ts = carrying.accepted_ts if carrying is not None else None
    arrived = first_ts("job_arrived_pickup", entity)
    picked = first_ts("job_picked_up", entity)
    delivered = first_ts("job_delivered")
    cancelled = first_ts("job_cancelled")
    promised = _optional_int(body.get("promised_ts"))
    durations = Durations(
        wait_s=_seconds(created_ts, accepted_ts),
        to_pickup_s=_seconds(accepted_ts, arrived if arrived is not None else picked),
        at_pickup_s=_seconds(arrived, picked),
        to_dropoff_s=_seconds(picked, delivered),
        total_s=_seconds(created_ts, delivered if delivered is not None else cancelled),
    )
    return Lifecycle(
        job=job,
        kind=_optional_str(body.get("kind")),
        city=_optional_str(body.get("city")),
        zone=_optional_str(body.get("zone")),
        pickup=_point(body.get("pickup")),
        dropoff=_point(body.get("dropoff")),
        created_ts=created_ts,
        ready_ts=_optional_int(body.get("ready_ts")),
        promised_ts=promised,
        assigned_ts=carrying.assigned_ts if carrying is not None else None,
        accepted_ts=accepted_ts,
        arrived_pickup_ts=arrived,
        picked_up_ts=picked,
        delivered_ts=delivered,
        cancelled_ts=cancelled,
        entity=entity,
        waybills=tuple(a.frozen() for a in attempts),
        durations=durations,
        late_s=_seconds(promised, delivered),
        transitions=tuple(transitions),
        events=tuple(ordered),
    )
