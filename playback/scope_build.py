"""Opened scopes assembled from what the store returned: pure (the selectors do the reading).

Job scope (docs/playback.md): the flow's first to last event with JOB_PADDING_MS either side; entities
assigned first, then offered, then excluded nearest first (distance from the pickup, on the stored track,
at the round that excluded it), at most `entity_limit`. Entity scope: the entity over its window, the jobs
it held then (assigned, or named by a lifecycle event), its states.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from playback.reconstruction.anomalies import fix_flags, stale_positions, track_anomalies
from playback.reconstruction.entity import EntityWindow, entity_states
from playback.reconstruction.flow import FlowSkeleton, flow_skeleton
from playback.reconstruction.geo import metres_between, position_at
from playback.reconstruction.lifecycle import Lifecycle, job_lifecycle
from playback.reconstruction.rounds import RoundReview, round_review
from playback.reconstruction.thinning import first_per_interval
from playback.scopes import (
    JOB_PADDING_MS,
    Bounds,
    CityInfo,
    EntityScope,
    JobScope,
    Role,
    ScopeAnomaly,
    ScopeEntity,
    ScopeEvent,
    ScopeOpened,
    ScopePoints,
    ScopeState,
    ScopeTooManyPoints,
)
from storage.tracks.types import EntityTrack, StoredEvent

#: The manifest lists at most this many anomalies (the earliest).
MANIFEST_ANOMALIES = 500
#: An entity scope lists the lifecycles of at most this many held jobs.
ENTITY_SCOPE_JOBS = 200


@dataclass(frozen=True)
class JobPlan:
    """A job's flow before any track is read: its skeleton, lifecycle and range."""

    scope: JobScope
    skeleton: FlowSkeleton
    lifecycle: Lifecycle
    start: int
    end: int


def job_plan(scope: JobScope, events: Sequence[StoredEvent]) -> JobPlan | None:
    """The plan of a job scope; None when the events are not a job's (none, or only entity states)."""
    if not any(e.type != "entity_state" for e in events):
        return None
    skeleton = flow_skeleton(scope.job, events)
    if skeleton.start is None or skeleton.end is None:
        return None
    lifecycle = job_lifecycle(scope.job, skeleton.events, skeleton.rounds)
    return JobPlan(
        scope=scope,
        skeleton=skeleton,
        lifecycle=lifecycle,
        start=skeleton.start - JOB_PADDING_MS,
        end=skeleton.end + JOB_PADDING_MS,
    )


def excluded_distances(plan: JobPlan, tracks: Mapping[str, EntityTrack]) -> dict[str, float | None]:
    """Each excluded entity's distance (m) from the pickup at the rounds that excluded it, the nearest."""
    pickup = plan.lifecycle.pickup
    out: dict[str, float | None] = dict.fromkeys(plan.skeleton.excluded)
    if pickup is None:
        return out
    for view in plan.skeleton.rounds:
        for exclusion in view.excluded:
            if exclusion.entity not in out or exclusion.entity not in tracks:
                continue
            at = position_at(tracks[exclusion.entity], view.ts)
            if at is None:
                continue
            distance = metres_between(at[0], at[1], pickup.lat, pickup.lon)
            known = out[exclusion.entity]
            out[exclusion.entity] = distance if known is None else min(known, distance)
    return out


def job_entities_choose(
    plan: JobPlan, tracks: Mapping[str, EntityTrack], entity_limit: int
) -> tuple[list[tuple[str, Role, float | None]], int]:
    """(entity, role, distance) in wire order, capped at `entity_limit`, and how many were left out."""
    wanted: list[tuple[str, Role, float | None]] = [(e, "assigned", None) for e in plan.skeleton.assigned]
    wanted += [(e, "offered", None) for e in plan.skeleton.offered]
    distances = excluded_distances(plan, tracks)
    # Nearest first; unknown distances last, in the order the rounds logged them.
    logged = list(plan.skeleton.excluded)
    ranked = sorted(logged, key=lambda e: (distances[e] is None, distances[e] or 0.0, logged.index(e)))
    wanted += [(e, "excluded", distances[e]) for e in ranked]
    return wanted[:entity_limit], max(0, len(wanted) - entity_limit)


def _scope_entity(
    index: int, entity: str, role: Role, track: EntityTrack, distance: float | None
) -> ScopeEntity:
    flags = fix_flags(track.ts, track.lat_e7, track.lon_e7)
    flagged = np.flatnonzero(flags)
    return ScopeEntity(
        index=index,
        entity=entity,
        role=role,
        points=len(track),
        first_ts=int(track.ts[0]) if len(track) else None,
        last_ts=int(track.ts[-1]) if len(track) else None,
        distance_m=distance,
        median_interval_ms=int(np.median(np.diff(track.ts))) if len(track) > 1 else None,
        flag_ts=track.ts[flagged].copy(),
        flag_bits=flags[flagged].copy(),
    )


def _bounds(tracks: Sequence[EntityTrack], lifecycles: Sequence[Lifecycle]) -> Bounds | None:
    lats: list[float] = []
    lons: list[float] = []
    for track in tracks:
        if len(track):
            lats += [float(track.lat_e7.min()) / 1e7, float(track.lat_e7.max()) / 1e7]
            lons += [float(track.lon_e7.min()) / 1e7, float(track.lon_e7.max()) / 1e7]
    for life in lifecycles:
        for point in (life.pickup, life.dropoff):
            if point is not None:
                lats.append(point.lat)
                lons.append(point.lon)
    if not lats:
        return None
    return Bounds(lat_min=min(lats), lon_min=min(lons), lat_max=max(lats), lon_max=max(lons))


def _minutes(seconds: float) -> str:
    return f"{abs(seconds):.0f} s" if abs(seconds) < 90 else f"{abs(seconds) / 60:.0f} min"


def event_label(event: StoredEvent, lifecycle: Lifecycle | None = None) -> str:
    """A sentence for one lifecycle event ("declined by courier:c1: too far")."""
    body = event.body
    who = body.get("entity")
    reason = body.get("reason")
    tail = f": {reason}" if reason else ""
    if event.type == "job_created":
        where = "/".join(str(body[k]) for k in ("city", "zone") if body.get(k))
        kind = body.get("kind")
        return "created" + (f" ({', '.join(str(p) for p in (kind, where) if p)})" if kind or where else "")
    if event.type == "job_assigned":
        extra = ", ".join(str(body[k]) for k in ("round", "waybill") if body.get(k))
        return f"assigned to {who}" + (f" ({extra})" if extra else "")
    if event.type == "job_accepted":
        return f"accepted by {who}"
    if event.type == "job_rejected":
        return f"declined by {who}{tail}"
    if event.type == "job_arrived_pickup":
        return f"{who} arrived at the pickup"
    if event.type == "job_picked_up":
        return f"picked up by {who}"
    if event.type == "job_delivered":
        text = f"delivered by {who}" if who else "delivered"
        late = lifecycle.late_s if lifecycle is not None and lifecycle.delivered_ts == event.ts else None
        if late is not None:
            text += f", {_minutes(late)} {'late' if late > 0 else 'early'}" if late else ", on time"
        return text
    if event.type == "job_cancelled":
        return f"cancelled{tail}"
    return event.type.replace("_", " ")


def _timeline(
    lifecycles: Sequence[Lifecycle],
    index_of: Callable[[str], int | None],
    *,
    only_entity: str | None,
    named: bool,
    start: int,
    end: int,
) -> tuple[ScopeEvent, ...]:
    out = []
    for life in lifecycles:
        for event in life.events:
            if not start <= event.ts <= end:
                continue
            who = event.body.get("entity")
            who = str(who) if who else None
            if only_entity is not None and who != only_entity:
                continue
            label = event_label(event, life)
            out.append(
                ScopeEvent(
                    ts=event.ts,
                    type=event.type,
                    job=life.job,
                    entity=who,
                    index=index_of(who) if who else None,
                    round=str(event.body["round"]) if event.body.get("round") else None,
                    label=f"{life.job} {label}" if named else label,
                )
            )
    return tuple(sorted(out, key=lambda e: e.ts))


def _anomalies(
    entities: Sequence[ScopeEntity], tracks: Mapping[str, EntityTrack], reviews: Sequence[RoundReview]
) -> tuple[ScopeAnomaly, ...]:
    out: list[ScopeAnomaly] = []
    by_entity = {e.entity: e for e in entities}
    for e in entities:
        track = tracks[e.entity]
        flags = np.zeros(len(track), dtype=np.uint8)
        flags[np.searchsorted(track.ts, e.flag_ts)] = e.flag_bits
        for a in track_anomalies(e.entity, track.ts, track.lat_e7, track.lon_e7, flags):
            out.append(ScopeAnomaly(index=e.index, ts=a.ts, end_ts=a.end_ts, kind=a.kind, detail=a.detail))
    for a in stale_positions(reviews):
        if a.entity in by_entity:
            out.append(ScopeAnomaly(by_entity[a.entity].index, a.ts, a.end_ts, a.kind, a.detail))
    out.sort(key=lambda a: (a.ts, a.index, a.kind))
    return tuple(out[:MANIFEST_ANOMALIES])


def _states(
    entities: Sequence[ScopeEntity], state_events: Mapping[str, Sequence[StoredEvent]], start: int, end: int
) -> tuple[ScopeState, ...]:
    out = [
        ScopeState(index=e.index, ts=change.ts, state=change.state)
        for e in entities
        for change in entity_states(state_events.get(e.entity, ()), start=start, end=end)
    ]
    return tuple(sorted(out, key=lambda s: (s.ts, s.index)))


def job_scope_assemble(
    plan: JobPlan,
    *,
    chosen: Sequence[tuple[str, Role, float | None]],
    left_out: int,
    tracks: Mapping[str, EntityTrack],
    state_events: Mapping[str, Sequence[StoredEvent]],
    city: CityInfo,
) -> ScopeOpened:
    """The opened job scope; `tracks` holds the chosen entities' tracks over the plan's range."""
    entities = tuple(_scope_entity(i, e, role, tracks[e], d) for i, (e, role, d) in enumerate(chosen))
    index = {e.entity: e.index for e in entities}
    life = plan.lifecycle
    reviews = tuple(round_review(v, tracks=tracks, arrivals=life.arrivals()) for v in plan.skeleton.rounds)
    return ScopeOpened(
        scope=plan.scope,
        start=plan.start,
        end=plan.end,
        city=city,
        bounds=_bounds([tracks[e.entity] for e in entities], [life]),
        entities=entities,
        job=life,
        jobs=(life,),
        events=_timeline([life], index.get, only_entity=None, named=False, start=plan.start, end=plan.end),
        rounds=reviews,
        states=_states(entities, state_events, plan.start, plan.end),
        anomalies=_anomalies(entities, tracks, reviews),
        entities_left_out=left_out,
    )


def entity_scope_assemble(
    scope: EntityScope,
    *,
    window: EntityWindow,
    held: Sequence[Lifecycle],
    state_events: Sequence[StoredEvent],
    city: CityInfo,
) -> ScopeOpened:
    """The opened entity scope: the subject's track, states and the jobs it held in the window."""
    entity = _scope_entity(0, scope.entity, "subject", window.track, None)
    tracks = {scope.entity: window.track}
    return ScopeOpened(
        scope=scope,
        start=scope.start,
        end=scope.end,
        city=city,
        bounds=_bounds([window.track], held),
        entities=(entity,),
        job=None,
        jobs=tuple(held),
        events=_timeline(
            held,
            {scope.entity: 0}.get,
            only_entity=scope.entity,
            named=True,
            start=scope.start,
            end=scope.end,
        ),
        rounds=(),
        states=_states((entity,), {scope.entity: state_events}, scope.start, scope.end),
        anomalies=_anomalies((entity,), tracks, ()),
    )


def points_assemble(
    *,
    start: int,
    end: int,
    resolution_ms: int,
    parts: Sequence[tuple[ScopeEntity, EntityTrack]],
    point_limit: int | None = None,
) -> ScopePoints:
    """One fetch's fixes from each entity's window, with the scope's anomaly flags, thinned when asked."""
    pieces = []
    for entity, track in parts:
        index = np.full(len(track), entity.index, dtype=np.int32)
        flags = np.zeros(len(track), dtype=np.uint8)
        if entity.flag_ts.size and len(track):
            at = np.clip(np.searchsorted(track.ts, entity.flag_ts), 0, len(track) - 1)
            hit = track.ts[at] == entity.flag_ts
            flags[at[hit]] = entity.flag_bits[hit]
        columns = (index, track.ts, track.lat_e7, track.lon_e7, flags)
        if resolution_ms > 0:
            keep = first_per_interval(index, track.ts, resolution_ms)
            columns = tuple(c[keep] for c in columns)  # type: ignore[assignment]
        pieces.append(columns)
    total = sum(len(p[1]) for p in pieces)
    if point_limit is not None and total > point_limit:
        raise ScopeTooManyPoints(total, point_limit)
    if not pieces:
        pieces = [
            (
                np.empty(0, np.int32),
                np.empty(0, np.int64),
                np.empty(0, np.int32),
                np.empty(0, np.int32),
                np.empty(0, np.uint8),
            )
        ]
    index, ts, lat, lon, flags = (np.concatenate([p[k] for p in pieces]) for k in range(5))
    return ScopePoints(
        start=start,
        end=end,
        resolution_ms=resolution_ms,
        entity_index=index.astype(np.int32, copy=False),
        ts=ts.astype(np.int64, copy=False),
        lat_e7=lat.astype(np.int32, copy=False),
        lon_e7=lon.astype(np.int32, copy=False),
        flags=flags.astype(np.uint8, copy=False),
    )
