"""Reconstruction of one job's dispatch flow from its stored events: pure, no storage, no Django."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from storage.tracks.types import StoredEvent


@dataclass(frozen=True)
class Candidate:
    """One entity a round considered for one job, with what the dispatcher knew and thought of it."""

    job: str
    entity: str
    score: float | None
    eta_s: float | None
    distance_m: float | None
    assigned: bool
    entity_pos: tuple[float, float, int] | None
    features: dict[str, Any]


@dataclass(frozen=True)
class RoundView:
    """A dispatch round as it concerns one job: its candidates for that job and the decision."""

    round: str
    ts: int
    strategy: str
    latency_ms: float | None
    candidates: tuple[Candidate, ...]
    assigned_to: str | None
    postponed: bool
    excluded: tuple[tuple[str, str], ...]
    jobs_in_round: int


@dataclass(frozen=True)
class FlowSkeleton:
    """A job's lifecycle events, the rounds it was in, and who was involved, over the flow's window."""

    job: str
    events: tuple[StoredEvent, ...]
    rounds: tuple[RoundView, ...]
    assigned: tuple[str, ...]
    offered: tuple[str, ...]
    start: int | None
    end: int | None


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def round_view(event: StoredEvent, job: str) -> RoundView:
    """The part of a dispatch_round event that concerns `job`."""
    body = event.body
    assigned_to = next((str(a["entity"]) for a in body.get("assignments", ()) if a.get("job") == job), None)
    candidates = []
    for row in body.get("candidates", ()):
        if row.get("job") != job:
            continue
        pos = row.get("entity_pos")
        seen_at = (float(pos["lat"]), float(pos["lon"]), int(pos.get("ts", event.ts))) if pos else None
        candidates.append(
            Candidate(
                job=job,
                entity=str(row["entity"]),
                score=_float(row.get("score")),
                eta_s=_float(row.get("eta_s")),
                distance_m=_float(row.get("distance_m")),
                assigned=str(row["entity"]) == assigned_to,
                entity_pos=seen_at,
                features=dict(row.get("features") or {}),
            )
        )
    candidates.sort(key=lambda c: (c.score is None, -(c.score or 0.0)))
    excluded = tuple(
        (str(x["entity"]), str(x.get("reason", ""))) for x in body.get("excluded", ()) if x.get("job") == job
    )
    return RoundView(
        round=str(body["round"]),
        ts=event.ts,
        strategy=str(body.get("strategy", "")),
        latency_ms=_float(body.get("latency_ms")),
        candidates=tuple(candidates),
        assigned_to=assigned_to,
        postponed=job in {str(j) for j in body.get("postponed", ())},
        excluded=excluded,
        jobs_in_round=len(body.get("jobs", ())),
    )


def flow_skeleton(job: str, events: Sequence[StoredEvent]) -> FlowSkeleton:
    """Split a job's time-ordered events into lifecycle events and rounds, and list the entities involved."""
    lifecycle: list[StoredEvent] = []
    rounds: list[RoundView] = []
    assigned: dict[str, None] = {}
    offered: dict[str, None] = {}
    for event in events:
        if event.type == "dispatch_round":
            view = round_view(event, job)
            rounds.append(view)
            for candidate in view.candidates:
                offered.setdefault(candidate.entity)
            if view.assigned_to:
                assigned.setdefault(view.assigned_to)
        else:
            lifecycle.append(event)
            entity = event.body.get("entity")
            if entity and event.type in ("job_assigned", "job_accepted", "job_picked_up", "job_delivered"):
                assigned.setdefault(str(entity))
    times = [e.ts for e in events]
    return FlowSkeleton(
        job=job,
        events=tuple(lifecycle),
        rounds=tuple(rounds),
        assigned=tuple(assigned),
        offered=tuple(e for e in offered if e not in assigned),
        start=min(times) if times else None,
        end=max(times) if times else None,
    )
