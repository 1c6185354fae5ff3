"""Dispatch rounds as they concern one job: candidates, the decision, who was excluded and why, and how
the dispatcher's view compares with what the stored tracks and the later events show."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from playback.reconstruction.geo import metres_between, position_at
from storage.tracks.types import EntityTrack, StoredEvent

Decision = Literal["assigned", "postponed", "none"]


@dataclass(frozen=True)
class EntityPos:
    """The fix a dispatcher used for a candidate."""

    lat: float
    lon: float
    ts: int


@dataclass(frozen=True)
class Candidate:
    """One entity a round considered for one job, with what the dispatcher knew and thought of it."""

    entity: str
    score: float | None
    eta_s: float | None
    distance_m: float | None
    features: dict[str, Any]
    chosen: bool
    pos: EntityPos | None


@dataclass(frozen=True)
class Exclusion:
    """An entity near the job that the round filtered out, and the logged reason."""

    entity: str
    reason: str


@dataclass(frozen=True)
class RoundView:
    """A dispatch round as it concerns one job: its candidates for that job and the decision."""

    round: str
    ts: int
    strategy: str
    strategy_version: str | None
    latency_ms: float | None
    jobs_in_round: int
    candidates_logged: int
    decision: Decision
    assigned_to: str | None
    candidates: tuple[Candidate, ...]
    excluded: tuple[Exclusion, ...]
    error: str | None

    @property
    def postponed(self) -> bool:
        """True when the round held the job for a later round."""
        return self.decision == "postponed"


@dataclass(frozen=True)
class CandidateReview:
    """A candidate beside the facts: the age of its fix and its error against the stored track, and for
    the chosen one the seconds it really took to reach the pickup (what `eta_s` predicted)."""

    candidate: Candidate
    pos_age_s: float | None
    pos_error_m: float | None
    actual_s: float | None


@dataclass(frozen=True)
class RoundReview:
    """A round with each candidate reviewed."""

    round: RoundView
    candidates: tuple[CandidateReview, ...]


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _pos(value: Any, default_ts: int) -> EntityPos | None:
    if not isinstance(value, dict):
        return None
    lat, lon = _float(value.get("lat")), _float(value.get("lon"))
    if lat is None or lon is None:
        return None
    ts = value.get("ts")
    return EntityPos(lat=lat, lon=lon, ts=int(ts) if isinstance(ts, int | float) else default_ts)


def round_view(event: StoredEvent, job: str) -> RoundView:
    """The part of a dispatch_round event that concerns `job`; candidates best score first."""
    body = event.body
    assigned_to = next(
        (str(a["entity"]) for a in body.get("assignments", ()) if str(a.get("job")) == job), None
    )
    candidates = [
        Candidate(
            entity=str(row["entity"]),
            score=_float(row.get("score")),
            eta_s=_float(row.get("eta_s")),
            distance_m=_float(row.get("distance_m")),
            features=dict(row.get("features") or {}),
            chosen=str(row["entity"]) == assigned_to,
            pos=_pos(row.get("entity_pos"), event.ts),
        )
        for row in body.get("candidates", ())
        if str(row.get("job")) == job
    ]
    candidates.sort(key=lambda c: (c.score is None, -(c.score or 0.0)))
    excluded = tuple(
        Exclusion(entity=str(x["entity"]), reason=str(x.get("reason") or "unspecified"))
        for x in body.get("excluded", ())
        if str(x.get("job")) == job
    )
    postponed = job in {str(j) for j in body.get("postponed", ())}
    decision: Decision = "assigned" if assigned_to else "postponed" if postponed else "none"
    version = body.get("strategy_version")
    error = body.get("error")
    return RoundView(
        round=str(body["round"]),
        ts=event.ts,
        strategy=str(body.get("strategy", "")),
        strategy_version=str(version) if version is not None else None,
        latency_ms=_float(body.get("latency_ms")),
        jobs_in_round=len(body.get("jobs", ())),
        candidates_logged=len(body.get("candidates", ())),
        decision=decision,
        assigned_to=assigned_to,
        candidates=tuple(candidates),
        excluded=excluded,
        error=str(error) if error is not None else None,
    )


def arrival_after(arrivals: Sequence[tuple[int, str, str]], *, entity: str, ts: int) -> int | None:
    """When `entity` reached the pickup after `ts`: its first `job_arrived_pickup`, failing that its
    first `job_picked_up`; `arrivals` are (ts, type, entity) in time order."""
    mine = [(t, kind) for t, kind, who in arrivals if who == entity and t >= ts]
    for wanted in ("job_arrived_pickup", "job_picked_up"):
        found = next((t for t, kind in mine if kind == wanted), None)
        if found is not None:
            return found
    return None


def round_review(
    view: RoundView,
    *,
    tracks: Mapping[str, EntityTrack],
    arrivals: Sequence[tuple[int, str, str]] = (),
) -> RoundReview:
    """Each candidate's fix age and error (against its stored track at the fix's time, interpolated
    between the stored fixes around it) and, for the chosen one, the actual seconds to the pickup."""
    reviews = []
    for candidate in view.candidates:
        age: float | None = None
        error: float | None = None
        if candidate.pos is not None:
            age = (view.ts - candidate.pos.ts) / 1000.0
            track = tracks.get(candidate.entity)
            stored = position_at(track, candidate.pos.ts) if track is not None else None
            if stored is not None:
                error = metres_between(candidate.pos.lat, candidate.pos.lon, stored[0], stored[1])
        actual: float | None = None
        if candidate.chosen:
            arrived = arrival_after(arrivals, entity=candidate.entity, ts=view.ts)
            actual = (arrived - view.ts) / 1000.0 if arrived is not None else None
        reviews.append(
            CandidateReview(candidate=candidate, pos_age_s=age, pos_error_m=error, actual_s=actual)
        )
    return RoundReview(round=view, candidates=tuple(reviews))
