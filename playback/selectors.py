"""Reads for playback and search: numpy arrays and frozen dataclasses from the configured track store.

Every function here reads the store synchronously; consumers call them through
`sync_to_async(thread_sensitive=False)` so no read runs on the event loop."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import orjson

from playback.lookup import DatasetFacts, EntityFacts, EventRow, JobFacts, Lookup
from playback.reconstruction.entity import entity_window
from playback.reconstruction.flow import flow_skeleton
from playback.reconstruction.snapshot import last_fix, open_jobs
from playback.scope_build import (
    ENTITY_SCOPE_JOBS,
    entity_scope_assemble,
    job_entities_choose,
    job_plan,
    job_scope_assemble,
    points_assemble,
)
from playback.scopes import (
    CityInfo,
    EntityScope,
    IndexedOpenJob,
    IndexedPosition,
    JobScope,
    Scope,
    ScopeEntity,
    ScopeNotFound,
    ScopeOpened,
    ScopePoints,
    ScopeSnapshot,
    Suggestion,
)
from storage.connections import track_stores
from storage.grammar import dataset_problem
from storage.tracks import Box, BoxTracks, EntityTrack, TrackStore

JOB_KINDS = ("order", "ride", "task", "job", "delivery", "rebalance")
ENTITY_KINDS = ("courier", "bike", "truck", "rider", "driver", "vehicle")
#: At most this many suggestions for an unknown scope, looking in at most this many other datasets.
SUGGESTIONS = 5
SUGGESTION_DATASETS = 50
#: An entity suggestion covers the last hour of the entity's track.
SUGGESTED_WINDOW_MS = 3_600_000
SHOWN_ELSEWHERE = frozenset(("id", "type", "ts", "job", "entity"))


def entity_track(*, dataset: str, entity: str, start: int, end: int) -> EntityTrack:
    """One entity's fixes with start <= ts <= end, time-sorted."""
    return track_stores["default"].entity_window(dataset=dataset, entity=entity, start=start, end=end)


def box_tracks(*, dataset: str, box: Box, start: int, end: int, interval_ms: int | None = None) -> BoxTracks:
    """Every entity's fixes inside `box` over the window; thinned to one per `interval_ms` when given."""
    return track_stores["default"].box_window(
        dataset=dataset, box=box, start=start, end=end, interval_ms=interval_ms
    )


# ---- playback scopes (docs/protocol.md, docs/playback.md) ------------------------------------------


def scope_open(*, scope: Scope, entity_limit: int) -> ScopeOpened:
    """Everything the manifest of `scope` needs, with at most `entity_limit` entities.

    Raises ScopeNotFound (with suggestions) for an unknown dataset, job or entity, TrackStoreError when
    the store cannot be read."""
    store = track_stores["default"]
    if isinstance(scope, JobScope):
        return _job_scope_open(store, scope, entity_limit)
    return _entity_scope_open(store, scope)


def _job_scope_open(store: TrackStore, scope: JobScope, entity_limit: int) -> ScopeOpened:
    plan = job_plan(scope, store.job_events(dataset=scope.dataset, job=scope.job))
    if plan is None:
        raise _not_found(store, scope)
    wanted = plan.skeleton.assigned + plan.skeleton.offered + plan.skeleton.excluded
    # Every excluded entity's track is read to rank them by distance; only the nearest are kept.
    tracks = {
        e: store.entity_window(dataset=scope.dataset, entity=e, start=plan.start, end=plan.end)
        for e in wanted
    }
    chosen, left_out = job_entities_choose(plan, tracks, entity_limit)
    states = {e: store.job_events(dataset=scope.dataset, job=e) for e, _, _ in chosen}
    return job_scope_assemble(
        plan,
        chosen=chosen,
        left_out=left_out,
        tracks={e: tracks[e] for e, _, _ in chosen},
        state_events=states,
        city=_city_info(store, scope.dataset, plan.lifecycle.city),
    )


def _entity_scope_open(store: TrackStore, scope: EntityScope) -> ScopeOpened:
    ds, entity = scope.dataset, scope.entity
    track = store.entity_window(dataset=ds, entity=entity, start=scope.start, end=scope.end)
    own_events = store.job_events(dataset=ds, job=entity)
    links = store.entity_jobs(dataset=ds, entity=entity, start=scope.start, end=scope.end)
    if (
        not len(track)
        and not links
        and not own_events
        and not store.entity_span(dataset=ds, entity=entity).points
    ):
        raise _not_found(store, scope)
    window = entity_window(
        entity=entity, start=scope.start, end=scope.end, track=track, events=own_events, links=links
    )
    held = []
    for touch in [t for t in window.jobs if t.held][:ENTITY_SCOPE_JOBS]:
        plan = job_plan(JobScope(dataset=ds, job=touch.job), store.job_events(dataset=ds, job=touch.job))
        if plan is not None:
            held.append(plan.lifecycle)
    cities = [life.city for life in held if life.city]
    return entity_scope_assemble(
        scope,
        window=window,
        held=held,
        state_events=own_events,
        city=_city_info(store, ds, cities[0] if cities else None),
    )


def scope_points(
    *,
    opened: ScopeOpened,
    start: int,
    end: int,
    resolution_ms: int = 0,
    entities: Sequence[int] | None = None,
    point_limit: int | None = None,
) -> ScopePoints:
    """The scope's fixes with start <= ts <= end (clipped to the scope's range), of every entity or of
    the `entities` indexes; with `resolution_ms`, the first fix per entity per interval. Each fix carries
    the anomaly flags computed over the whole scope. Raises ScopeTooManyPoints past `point_limit`."""
    store = track_stores["default"]
    lo, hi = max(start, opened.start), min(end, opened.end)
    wanted = set(entities) if entities is not None else None
    parts: list[tuple[ScopeEntity, EntityTrack]] = []
    if lo <= hi:
        for e in opened.entities:
            if (wanted is None or e.index in wanted) and e.points:
                parts.append(
                    (e, store.entity_window(dataset=opened.scope.dataset, entity=e.entity, start=lo, end=hi))
                )
    return points_assemble(
        start=start, end=end, resolution_ms=resolution_ms, parts=parts, point_limit=point_limit
    )


def scope_snapshot(*, opened: ScopeOpened, ts: int) -> ScopeSnapshot:
    """Each scope entity's last stored fix at or before `ts` (within the scope's range) and the scope's
    jobs still open at `ts` (for an entity scope, those the entity held then)."""
    store = track_stores["default"]
    positions = []
    hi = min(ts, opened.end)
    for e in opened.entities:
        if not e.points or hi < opened.start or (e.first_ts is not None and e.first_ts > hi):
            continue
        track = store.entity_window(dataset=opened.scope.dataset, entity=e.entity, start=opened.start, end=hi)
        fix = last_fix(track, hi)
        if fix is not None:
            positions.append(IndexedPosition(index=e.index, position=fix))
    holder = opened.scope.entity if isinstance(opened.scope, EntityScope) else None
    jobs = open_jobs(opened.jobs, ts, held_by=holder)
    return ScopeSnapshot(
        ts=ts,
        positions=tuple(positions),
        open_jobs=tuple(
            IndexedOpenJob(job=j, index=opened.index_of(j.entity) if j.entity else None) for j in jobs
        ),
    )


def city_document(*, dataset: str) -> bytes | None:
    """The dataset's city document (road graph) as stored, or None."""
    if dataset_problem(dataset) is not None:
        return None
    return track_stores["default"].city_get(dataset=dataset)


@functools.lru_cache(maxsize=8)
def _city_summary(document: bytes) -> tuple[str | None, str | None]:
    body = orjson.loads(document)
    city, timezone = body.get("city"), body.get("timezone")
    return (city if isinstance(city, str) else None, timezone if isinstance(timezone, str) else None)


def _city_info(store: TrackStore, dataset: str, fallback_name: str | None) -> CityInfo:
    document = store.city_get(dataset=dataset)
    if document is None:
        return CityInfo(name=fallback_name, timezone="UTC", has_roads=False)
    name, timezone = _city_summary(document)
    return CityInfo(name=name or fallback_name, timezone=timezone or "UTC", has_roads=True)


def _job_exists(store: TrackStore, dataset: str, job: str) -> bool:
    return any(e.type != "entity_state" for e in store.job_events(dataset=dataset, job=job))


def _entity_span(store: TrackStore, dataset: str, entity: str) -> tuple[int, int] | None:
    span = store.entity_span(dataset=dataset, entity=entity)
    if span.points and span.first_ts is not None and span.last_ts is not None:
        return span.first_ts, span.last_ts
    return None


def _not_found(store: TrackStore, scope: Scope, window_ms: int = SUGGESTED_WINDOW_MS) -> ScopeNotFound:
    """The error for an unknown scope, with scopes that exist: the same id under other kinds in the same
    dataset, then the same id in other datasets (at most SUGGESTIONS)."""
    ident = scope.job if isinstance(scope, JobScope) else scope.entity
    known = [d.name for d in store.datasets()]
    dataset_known = scope.dataset in known or store.city_get(dataset=scope.dataset) is not None
    _, _, suffix = ident.partition(":")
    found: list[Suggestion] = []

    def consider(dataset: str, candidate: str, reason: str) -> None:
        if len(found) >= SUGGESTIONS:
            return
        if _job_exists(store, dataset, candidate):
            found.append(Suggestion(scope=JobScope(dataset=dataset, job=candidate), reason=reason))
            return
        span = _entity_span(store, dataset, candidate)
        if span is not None:
            first, last = span
            start = max(first, last - window_ms)
            found.append(
                Suggestion(EntityScope(dataset=dataset, entity=candidate, start=start, end=last), reason)
            )

    if dataset_known and suffix:
        for kind in JOB_KINDS + ENTITY_KINDS:
            candidate = f"{kind}:{suffix}"
            if candidate != ident:
                consider(scope.dataset, candidate, f"{candidate} in {scope.dataset}")
        if isinstance(scope, EntityScope):
            consider(scope.dataset, ident, f"{ident} outside the window asked for")
    for dataset in [d for d in known if d != scope.dataset][:SUGGESTION_DATASETS]:
        consider(dataset, ident, f"{ident} in {dataset}")
    what = "dataset" if not dataset_known else "job" if isinstance(scope, JobScope) else "entity"
    subject = scope.dataset if what == "dataset" else ident
    window = ""
    if isinstance(scope, EntityScope) and what == "entity":
        window = " (no fix, state or job in the dataset)"
    return ScopeNotFound(f"{what} {subject} is unknown{window}", tuple(found))


def datasets() -> list[DatasetFacts]:
    """Every dataset the track store holds, by name."""
    return [
        DatasetFacts(name=d.name, points=d.points, events=d.events)
        for d in track_stores["default"].datasets()
    ]


def query_candidates(query: str) -> list[str]:
    """The typed ids a search string may mean: itself when typed, else each known kind."""
    query = query.strip()
    if ":" in query:
        return [query]
    return [f"{kind}:{query}" for kind in JOB_KINDS + ENTITY_KINDS]


def lookup(*, dataset: str, query: str) -> Lookup:
    """What the stores know about an id (typed like `order:o1`, or bare like `o1`)."""
    store = track_stores["default"]
    for ident in query_candidates(query):
        events = store.job_events(dataset=dataset, job=ident)
        if events:
            skeleton = flow_skeleton(ident, events)
            rows = tuple(
                EventRow(
                    ts=e.ts,
                    type=e.type,
                    event_id=e.id,
                    entity=str(e.body["entity"]) if e.body.get("entity") else None,
                    round=str(e.body["round"]) if e.body.get("round") else None,
                    detail={k: v for k, v in e.body.items() if k not in SHOWN_ELSEWHERE},
                )
                for e in events
            )
            if any(e.type != "entity_state" for e in events) or not _has_track(dataset, ident):
                return Lookup(
                    dataset=dataset,
                    query=query,
                    kind="job",
                    entity=None,
                    job=JobFacts(
                        job=ident,
                        first_ts=skeleton.start,
                        last_ts=skeleton.end,
                        events=rows,
                        rounds=tuple(r.round for r in skeleton.rounds),
                        entities=skeleton.assigned + skeleton.offered,
                    ),
                )
        span = store.entity_span(dataset=dataset, entity=ident)
        links = store.entity_jobs(dataset=dataset, entity=ident)
        if span.points or links:
            jobs = tuple(dict.fromkeys(link.job for link in links))
            return Lookup(
                dataset=dataset,
                query=query,
                kind="entity",
                entity=EntityFacts(
                    entity=ident, first_ts=span.first_ts, last_ts=span.last_ts, points=span.points, jobs=jobs
                ),
                job=None,
            )
    return Lookup(dataset=dataset, query=query, kind="none", entity=None, job=None)


def _has_track(dataset: str, entity: str) -> bool:
    return track_stores["default"].entity_span(dataset=dataset, entity=entity).points > 0


#: Incident kinds in the order the landing page lists them when ranks tie, with their badge text.
INCIDENT_LABELS = {
    "late": "Late",
    "redispatched": "Re-dispatched",
    "cross_river": "Cross-river",
    "gps_jump": "GPS jump",
    "stale_fix": "Stale fix",
    "failed_round": "Failed round",
    "dry_area": "Dry area",
}


@dataclass(frozen=True)
class IncidentRow:
    """One recorded incident: what happened, in which dataset, and the id to search to see it."""

    dataset: str
    kind: str
    ts: int
    jobs: tuple[str, ...]
    entity: str | None
    description: str
    rank: int

    @property
    def label(self) -> str:
        """The kind as a person reads it ("Re-dispatched")."""
        return INCIDENT_LABELS.get(self.kind, self.kind.replace("_", " ").capitalize())

    @property
    def query(self) -> str | None:
        """The id whose search shows the incident: its first job, else its entity."""
        return self.jobs[0] if self.jobs else self.entity


def incidents_list(*, limit: int = 50) -> list[IncidentRow]:
    """Up to `limit` recorded incidents: the worst of every kind in every dataset first, then the next worst.

    Ties go by dataset name, then kind (late, re-dispatched, cross-river, GPS jump, …), then time."""
    from django.db.models import Case, IntegerField, Value, When

    from playback.models import Incident

    kind_order = Case(
        *(When(kind=kind, then=Value(i)) for i, kind in enumerate(INCIDENT_LABELS)),
        default=Value(len(INCIDENT_LABELS)),
        output_field=IntegerField(),
    )
    found = Incident.objects.annotate(kind_order=kind_order).order_by(
        "rank", "dataset", "kind_order", "kind", "ts", "id"
    )[: max(0, limit)]
    return [
        IncidentRow(
            dataset=i.dataset,
            kind=i.kind,
            ts=i.ts,
            jobs=tuple(str(j) for j in i.jobs),
            entity=i.entity or None,
            description=i.description,
            rank=i.rank,
        )
        for i in found
    ]
