"""The simulator's events (DESIGN §4), each kind built in one place, and a run's log in emission order.

Events are plain dicts; the writer sorts each run's log by (ts, emission order) and writes keys sorted, so a
builder's key order never shows in the output. Optional fields are left out rather than written as null.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from simulator.city import City

Event = dict[str, Any]
Emit = Callable[[Event], None]


class EventLog:
    """A run's events in emission order."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def emit(self, event: Event) -> None:
        """Append `event`."""
        self.events.append(event)


def node_point(city: City, node: int) -> dict[str, float]:
    """`{lat, lon}` of a road node, rounded to 7 decimals (~1 cm)."""
    return {"lat": round(float(city.lat[node]), 7), "lon": round(float(city.lon[node]), 7)}


def job_created_event(
    *,
    city: City,
    job: str,
    ts: int,
    kind: str,
    zone: str,
    pickup_node: int,
    dropoff_node: int,
    attrs: Mapping[str, Any],
    promised_ts: int | None = None,
    ready_ts: int | None = None,
) -> Event:
    """`job_created` of a delivery, ride or rebalancing task; `promised_ts`/`ready_ts` only when given."""
    event: Event = {
        "type": "job_created",
        "job": job,
        "ts": ts,
        "city": city.name,
        "kind": kind,
        "zone": zone,
        "pickup": node_point(city, pickup_node),
        "dropoff": node_point(city, dropoff_node),
        "attrs": dict(attrs),
    }
    if promised_ts is not None:
        event["promised_ts"] = promised_ts
    if ready_ts is not None:
        event["ready_ts"] = ready_ts
    return event


def entity_state_event(
    *, entity: str, ts: int, state: str, city: str | None = None, capacity: int | None = None
) -> Event:
    """`entity_state` (online|idle|busy|offline); `city` and `capacity` only when given."""
    event: Event = {"type": "entity_state", "entity": entity, "ts": ts, "state": state}
    if city is not None:
        event["city"] = city
    if capacity is not None:
        event["capacity"] = capacity
    return event


def experiment_assignment_event(*, experiment: str, unit: str, variant: str, ts: int, city: str) -> Event:
    """`experiment_assignment` of a job or a switchback cell to a strategy."""
    return {
        "type": "experiment_assignment",
        "experiment": experiment,
        "unit": unit,
        "variant": variant,
        "ts": ts,
        "city": city,
    }
