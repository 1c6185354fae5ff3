"""Reads for playback and search: numpy arrays and frozen dataclasses from the configured track store."""

from __future__ import annotations

from dataclasses import dataclass

from playback.lookup import DatasetFacts, EntityFacts, EventRow, JobFacts, Lookup
from playback.reconstruction.flow import FlowSkeleton, flow_skeleton
from playback.reconstruction.rounds import RoundView
from storage.connections import track_stores
from storage.records import StoredEvent
from storage.tracks import Box, BoxTracks, EntityTrack

JOB_KINDS = ("order", "ride", "task", "job", "delivery", "rebalance")
ENTITY_KINDS = ("courier", "bike", "truck", "rider", "driver", "vehicle")
FLOW_MARGIN_MS = 120_000
SHOWN_ELSEWHERE = frozenset(("id", "type", "ts", "job", "entity"))


@dataclass(frozen=True)
class JobFlow:
    """One job's dispatch flow: its events, the rounds it was in, and the tracks of every entity
    assigned to it or offered it over the flow's window (with a margin either side)."""

    dataset: str
    job: str
    start: int | None
    end: int | None
    events: tuple[StoredEvent, ...]
    rounds: tuple[RoundView, ...]
    assigned: tuple[str, ...]
    offered: tuple[str, ...]
    tracks: tuple[EntityTrack, ...]


def entity_track(*, dataset: str, entity: str, start: int, end: int) -> EntityTrack:
    """One entity's fixes with start <= ts <= end, time-sorted."""
    return track_stores["default"].entity_window(dataset=dataset, entity=entity, start=start, end=end)


def box_tracks(*, dataset: str, box: Box, start: int, end: int, interval_ms: int | None = None) -> BoxTracks:
    """Every entity's fixes inside `box` over the window; thinned to one per `interval_ms` when given."""
    return track_stores["default"].box_window(
        dataset=dataset, box=box, start=start, end=end, interval_ms=interval_ms
    )


def job_flow(*, dataset: str, job: str, margin_ms: int = FLOW_MARGIN_MS) -> JobFlow:
    """Everything playback needs to replay one job."""
    store = track_stores["default"]
    skeleton: FlowSkeleton = flow_skeleton(job, store.job_events(dataset=dataset, job=job))
    tracks: tuple[EntityTrack, ...] = ()
    if skeleton.start is not None and skeleton.end is not None:
        start, end = skeleton.start - margin_ms, skeleton.end + margin_ms
        tracks = tuple(
            store.entity_window(dataset=dataset, entity=entity, start=start, end=end)
            for entity in skeleton.assigned + skeleton.offered
        )
    return JobFlow(
        dataset=dataset,
        job=job,
        start=skeleton.start,
        end=skeleton.end,
        events=skeleton.events,
        rounds=skeleton.rounds,
        assigned=skeleton.assigned,
        offered=skeleton.offered,
        tracks=tracks,
    )


def datasets() -> list[DatasetFacts]:
    """Every dataset the track store holds, by name."""
    return [
        DatasetFacts(name=d.name, points=d.points, events=d.events)
        for d in track_stores["default"].datasets()
    ]


def _candidates(query: str) -> list[str]:
    """The typed ids a search string may mean: itself when typed, else each known kind."""
    query = query.strip()
    if ":" in query:
        return [query]
    return [f"{kind}:{query}" for kind in JOB_KINDS + ENTITY_KINDS]


def lookup(*, dataset: str, query: str) -> Lookup:
    """What the stores know about an id (typed like `order:o1`, or bare like `o1`)."""
    store = track_stores["default"]
    for ident in _candidates(query):
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
