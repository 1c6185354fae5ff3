"""Events and their indexes: one job's dispatch flow, and the jobs an entity touched.

Rows written (key layout: storage/keys.py; values: storage/tracks/event_codec.py):

    event       salt | ds | event id                        digest of the event's canonical JSON
    job         salt | ds | subject | ts | event id         the event, or a marker per job a round saw
    round       salt | ds | round                           the dispatch_round event
    entity_job  salt | ds | entity | ts | job | role        b"" (offered, assigned, excluded, or named)

Identity is (dataset, event id): the same id with the same digest is a duplicate, with another a conflict.
The digest is written last, so an event whose write died half-way is new again to a re-run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from storage import keys
from storage.keys import Layout
from storage.kv.base import SortedKV, TrackStoreError, prefix_end
from storage.tracks.event_codec import event_decode, event_encode, round_marker, round_marker_id
from storage.tracks.types import EventWriteResult, JobLink, StoredEvent

Rows = list[tuple[bytes, bytes]]


@dataclass
class _IndexRows:
    round: Rows = field(default_factory=list)
    job: Rows = field(default_factory=list)
    entity_job: Rows = field(default_factory=list)


def events_write(
    kv: SortedKV, layout: Layout, *, dataset: str, events: Sequence[StoredEvent]
) -> EventWriteResult:
    """Store new events and index them; same id + same body is a duplicate, another body a conflict."""
    encoded = [event_encode(event.body) for event in events]
    id_keys = [keys.id_key(layout, dataset, event.id) for event in events]
    stored_digests = kv.get_many("event", id_keys)
    seen: dict[bytes, bytes] = {}
    duplicates = 0
    conflicts: list[int] = []
    new_rows: list[int] = []
    digest_rows: Rows = []
    index = _IndexRows()
    for i, event in enumerate(events):
        value, digest = encoded[i]
        known = seen.get(id_keys[i], stored_digests[i])
        if known is not None:
            if known == digest:
                duplicates += 1
            else:
                conflicts.append(i)
            continue
        seen[id_keys[i]] = digest
        new_rows.append(i)
        digest_rows.append((id_keys[i], digest))
        _event_index(layout, dataset, event, value, index)
    # Index rows first and the digests last: a crash in between leaves events a re-run stores again.
    kv.put_many("round", index.round)
    kv.put_many("job", index.job)
    kv.put_many("entity_job", index.entity_job)
    kv.put_many("event", digest_rows)
    return EventWriteResult(
        stored=len(new_rows),
        duplicates=duplicates,
        conflict_rows=tuple(conflicts),
        stored_rows=tuple(new_rows),
    )


def _event_index(layout: Layout, dataset: str, event: StoredEvent, value: bytes, index: _IndexRows) -> None:
    body, ts = event.body, event.ts
    if event.type == "dispatch_round":
        round_id = str(body["round"])
        index.round.append((keys.id_key(layout, dataset, round_id), value))
        marker = round_marker(round_id)
        jobs = dict.fromkeys(str(j) for j in body.get("jobs", ()))
        links: dict[tuple[str, str, int], None] = {}
        for role, rows in (
            (keys.ROLE_OFFERED, body.get("candidates", ())),
            (keys.ROLE_ASSIGNED, body.get("assignments", ())),
            (keys.ROLE_EXCLUDED, body.get("excluded", ())),
        ):
            for row in rows:
                jobs.setdefault(str(row["job"]))
                links[(str(row["entity"]), str(row["job"]), role)] = None
        for job in jobs:
            index.job.append((keys.job_event_key(layout, dataset, job, ts, event.id), marker))
        for entity, job, role in links:
            index.entity_job.append((keys.entity_job_key(layout, dataset, entity, ts, job, role), b""))
        return
    subject = body.get("job") or body.get("entity") or body.get("unit")
    if subject is None:
        raise TrackStoreError(f"event {event.id} of type {event.type} names no job, entity or unit")
    index.job.append((keys.job_event_key(layout, dataset, str(subject), ts, event.id), value))
    if body.get("job") and body.get("entity"):
        marker_key = keys.entity_job_key(
            layout, dataset, str(body["entity"]), ts, str(body["job"]), keys.ROLE_EVENT
        )
        index.entity_job.append((marker_key, b""))


def job_events(kv: SortedKV, layout: Layout, *, dataset: str, job: str) -> list[StoredEvent]:
    """A job's events in time order, the dispatch rounds it took part in included."""
    rows = list(kv.scan_prefix("job", keys.id_key(layout, dataset, job)))
    round_ids = [r for _, value in rows if (r := round_marker_id(value)) is not None]
    rounds = dict(zip(round_ids, rounds_get(kv, layout, dataset=dataset, rounds=round_ids), strict=True))
    out: list[StoredEvent] = []
    for _, value in rows:
        round_id = round_marker_id(value)
        if round_id is None:
            out.append(event_decode(value))
        elif (found := rounds.get(round_id)) is not None:
            out.append(found)
    return out


def rounds_get(
    kv: SortedKV, layout: Layout, *, dataset: str, rounds: Sequence[str]
) -> list[StoredEvent | None]:
    """The dispatch_round events with these round ids, in order; None where unknown."""
    values = kv.get_many("round", [keys.id_key(layout, dataset, r) for r in rounds])
    return [event_decode(v) if v is not None else None for v in values]


def entity_jobs(
    kv: SortedKV, layout: Layout, *, dataset: str, entity: str, start: int | None, end: int | None
) -> list[JobLink]:
    """The jobs an entity touched, in time order, optionally within start <= ts <= end."""
    prefix = keys.id_key(layout, dataset, entity)
    lo = prefix + keys.U64.pack(max(start or 0, 0))
    hi = prefix + keys.U64.pack(end + 1) if end is not None else prefix_end(prefix)
    links = []
    for key, _ in kv.scan("entity_job", lo, hi, keys_only=True):
        offset = len(prefix)
        ts = keys.U64.unpack_from(key, offset)[0]
        job, offset = keys.read_lp(key, offset + 8)
        links.append(JobLink(ts=ts, job=job, role=key[offset]))
    return links
