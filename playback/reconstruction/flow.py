"""One job's stored events split into lifecycle events and rounds, with every entity involved."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from playback.reconstruction.rounds import RoundView, round_view
from storage.tracks.types import StoredEvent

#: Events that make an entity one the job was assigned to (it held the job at some point).
HOLDING_EVENTS = frozenset(
    ("job_assigned", "job_accepted", "job_arrived_pickup", "job_picked_up", "job_delivered")
)


@dataclass(frozen=True)
class FlowSkeleton:
    """A job's lifecycle events, the rounds it was in, and who was involved, over the flow's window.

    `assigned` held the job (assigned in a round or named by a holding event); `offered` were candidates
    and never held it; `excluded` were logged as filtered out and were neither. Each in first-seen order."""

    job: str
    events: tuple[StoredEvent, ...]
    rounds: tuple[RoundView, ...]
    assigned: tuple[str, ...]
    offered: tuple[str, ...]
    excluded: tuple[str, ...]
    start: int | None
    end: int | None


def flow_skeleton(job: str, events: Sequence[StoredEvent]) -> FlowSkeleton:
    """Split a job's time-ordered events into lifecycle events and rounds, and list the entities involved."""
    lifecycle: list[StoredEvent] = []
    rounds: list[RoundView] = []
    assigned: dict[str, None] = {}
    offered: dict[str, None] = {}
    excluded: dict[str, None] = {}
    for event in events:
        if event.type == "dispatch_round":
            view = round_view(event, job)
            rounds.append(view)
            for candidate in view.candidates:
                offered.setdefault(candidate.entity)
            for exclusion in view.excluded:
                excluded.setdefault(exclusion.entity)
            if view.assigned_to:
                assigned.setdefault(view.assigned_to)
        else:
            lifecycle.append(event)
            entity = event.body.get("entity")
            if entity and event.type in HOLDING_EVENTS:
                assigned.setdefault(str(entity))
    times = [e.ts for e in events]
    return FlowSkeleton(
        job=job,
        events=tuple(lifecycle),
        rounds=tuple(rounds),
        assigned=tuple(assigned),
        offered=tuple(e for e in offered if e not in assigned),
        excluded=tuple(e for e in excluded if e not in assigned and e not in offered),
        start=min(times) if times else None,
        end=max(times) if times else None,
    )
