"""An entity over a window: its track, its states (entity_state events) and the jobs it touched."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from storage.keys import ROLE_ASSIGNED, ROLE_EVENT, ROLE_EXCLUDED, ROLE_OFFERED
from storage.tracks.types import EntityTrack, JobLink, StoredEvent

Role = Literal["offered", "assigned", "excluded", "named"]
ROLE_NAMES: dict[int, Role] = {
    ROLE_OFFERED: "offered",
    ROLE_ASSIGNED: "assigned",
    ROLE_EXCLUDED: "excluded",
    ROLE_EVENT: "named",
}


@dataclass(frozen=True)
class StateChange:
    """From `ts` on the entity was `state` (online, offline, idle, busy)."""

    entity: str
    ts: int
    state: str
    capacity: int | None


@dataclass(frozen=True)
class JobTouch:
    """A job the entity touched in the window: when first and last, and in which roles (a lifecycle
    event naming it counts as `named`)."""

    job: str
    first_ts: int
    last_ts: int
    roles: frozenset[Role]

    @property
    def held(self) -> bool:
        """True when the entity was assigned the job or a lifecycle event names it."""
        return "assigned" in self.roles or "named" in self.roles


@dataclass(frozen=True)
class EntityWindow:
    """One entity over [start, end]."""

    entity: str
    start: int
    end: int
    track: EntityTrack
    states: tuple[StateChange, ...]
    jobs: tuple[JobTouch, ...]


def entity_states(events: Iterable[StoredEvent], *, start: int, end: int) -> tuple[StateChange, ...]:
    """The entity's state changes inside [start, end], led by the one in force at `start` (if logged)."""
    changes = sorted(
        (
            StateChange(
                entity=str(e.body["entity"]),
                ts=e.ts,
                state=str(e.body["state"]),
                capacity=int(e.body["capacity"]) if isinstance(e.body.get("capacity"), int) else None,
            )
            for e in events
            if e.type == "entity_state" and e.body.get("entity") and e.body.get("state")
        ),
        key=lambda c: c.ts,
    )
    before = [c for c in changes if c.ts < start]
    inside = [c for c in changes if start <= c.ts <= end]
    return tuple(before[-1:] + inside)


def jobs_touched(links: Sequence[JobLink]) -> tuple[JobTouch, ...]:
    """Links grouped by job, in order of first touch."""
    grouped: dict[str, tuple[int, int, set[Role]]] = {}
    for link in links:
        first, last, roles = grouped.get(link.job, (link.ts, link.ts, set()))
        roles.add(ROLE_NAMES.get(link.role, "named"))
        grouped[link.job] = (min(first, link.ts), max(last, link.ts), roles)
    touches = [
        JobTouch(job=j, first_ts=f, last_ts=la, roles=frozenset(r)) for j, (f, la, r) in grouped.items()
    ]
    return tuple(sorted(touches, key=lambda t: (t.first_ts, t.job)))


def entity_window(
    *,
    entity: str,
    start: int,
    end: int,
    track: EntityTrack,
    events: Iterable[StoredEvent],
    links: Sequence[JobLink],
) -> EntityWindow:
    """The entity's window from what the store returned for it."""
    inside = [link for link in links if start <= link.ts <= end]
    return EntityWindow(
        entity=entity,
        start=start,
        end=end,
        track=track,
        states=entity_states(events, start=start, end=end),
        jobs=jobs_touched(inside),
    )
