"""What the stores know about one id: the answer behind the home page's search box."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal


@dataclass(frozen=True)
class EventRow:
    """One stored event of a job, flattened for display (times are epoch ms UTC)."""

    ts: int
    type: str
    event_id: str
    entity: str | None
    round: str | None
    detail: dict[str, Any]


@dataclass(frozen=True)
class EntityFacts:
    """A courier, bike or truck: the span and size of its track and the jobs it touched."""

    entity: str
    first_ts: int | None
    last_ts: int | None
    points: int
    jobs: tuple[str, ...]


@dataclass(frozen=True)
class JobFacts:
    """An order, ride or task: its lifecycle events, the rounds it was in and the entities involved."""

    job: str
    first_ts: int | None
    last_ts: int | None
    events: tuple[EventRow, ...]
    rounds: tuple[str, ...]
    entities: tuple[str, ...]


@dataclass(frozen=True)
class DatasetFacts:
    """A dataset the track store holds, with how much it holds."""

    name: str
    points: int
    events: int


@dataclass(frozen=True)
class Lookup:
    """The search answer: `kind` says which of `entity`/`job` is filled ("none" when neither is known)."""

    dataset: str
    query: str
    kind: Literal["entity", "job", "none"]
    entity: EntityFacts | None
    job: JobFacts | None
