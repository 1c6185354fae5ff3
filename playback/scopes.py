"""What a playback scope is and what opening one yields: frozen dataclasses that cross from the selectors
to the wire codec and the consumer. Pure: no Django, no storage backends."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from playback.reconstruction.anomalies import AnomalyKind
from playback.reconstruction.lifecycle import Lifecycle
from playback.reconstruction.rounds import RoundReview
from playback.reconstruction.snapshot import OpenJob, Position

Int64Array = npt.NDArray[np.int64]
Int32Array = npt.NDArray[np.int32]
UInt8Array = npt.NDArray[np.uint8]

Role = Literal["subject", "assigned", "offered", "excluded"]
#: Padding either side of a job's flow (first to last event).
JOB_PADDING_MS = 120_000


@dataclass(frozen=True)
class JobScope:
    """A job's whole flow, with every entity assigned it, offered it or excluded from it."""

    dataset: str
    job: str
    kind: Literal["job"] = "job"


@dataclass(frozen=True)
class EntityScope:
    """One entity over [start, end] (epoch ms, inclusive)."""

    dataset: str
    entity: str
    start: int
    end: int
    kind: Literal["entity"] = "entity"


Scope = JobScope | EntityScope


@dataclass(frozen=True)
class ScopeEntity:
    """One entity of a scope: its index on the wire, its role, and its track inside the scope's range.

    `distance_m` is, for an excluded entity, how far its stored track was from the pickup when a round
    excluded it (the nearest such time); `flag_ts`/`flag_bits` are its fixes with anomaly flags (sparse)."""

    index: int
    entity: str
    role: Role
    points: int
    first_ts: int | None
    last_ts: int | None
    distance_m: float | None = None
    #: The median interval between its fixes in the scope (ms), None with fewer than two.
    median_interval_ms: int | None = None
    flag_ts: Int64Array = field(default_factory=lambda: np.empty(0, dtype=np.int64), compare=False)
    flag_bits: UInt8Array = field(default_factory=lambda: np.empty(0, dtype=np.uint8), compare=False)


@dataclass(frozen=True)
class ScopeEvent:
    """A lifecycle event on the timeline, with a sentence for people."""

    ts: int
    type: str
    job: str
    entity: str | None
    index: int | None
    round: str | None
    label: str


@dataclass(frozen=True)
class ScopeState:
    """An entity state change (online, offline, idle, busy) of the scope entity `index`."""

    index: int
    ts: int
    state: str


@dataclass(frozen=True)
class ScopeAnomaly:
    """A GPS anomaly of the scope entity `index`."""

    index: int
    ts: int
    end_ts: int
    kind: AnomalyKind
    detail: str


@dataclass(frozen=True)
class CityInfo:
    """The scope's city: name and IANA time zone (UTC when the dataset has no city document), and whether
    the dataset has a road graph to serve."""

    name: str | None
    timezone: str
    has_roads: bool


@dataclass(frozen=True)
class Bounds:
    """A lat/lon box in degrees."""

    lat_min: float
    lon_min: float
    lat_max: float
    lon_max: float


@dataclass(frozen=True)
class ScopeOpened:
    """Everything a manifest needs about an opened scope."""

    scope: Scope
    start: int
    end: int
    city: CityInfo
    bounds: Bounds | None
    entities: tuple[ScopeEntity, ...]
    job: Lifecycle | None
    #: The jobs whose open/closed state a snapshot reports (the job; or the jobs the entity held).
    jobs: tuple[Lifecycle, ...]
    events: tuple[ScopeEvent, ...]
    rounds: tuple[RoundReview, ...]
    states: tuple[ScopeState, ...]
    anomalies: tuple[ScopeAnomaly, ...]
    #: Entities involved beyond `limits.scope_entities`, left out (the farthest excluded first).
    entities_left_out: int = 0

    @property
    def empty(self) -> bool:
        """True when no fix of the scope falls in its range."""
        return not any(e.points for e in self.entities)

    @property
    def median_interval_ms(self) -> int | None:
        """The median of the entities' median fix intervals: how far apart fixes usually are."""
        known = sorted(e.median_interval_ms for e in self.entities if e.median_interval_ms is not None)
        return known[len(known) // 2] if known else None

    def index_of(self, entity: str) -> int | None:
        """The wire index of `entity`, or None when its track is not in the scope."""
        return next((e.index for e in self.entities if e.entity == entity), None)


@dataclass(frozen=True)
class ScopePoints:
    """Fixes of a fetch window, grouped by entity index and time-sorted within each, with their flags."""

    start: int
    end: int
    resolution_ms: int
    entity_index: Int32Array
    ts: Int64Array
    lat_e7: Int32Array
    lon_e7: Int32Array
    flags: UInt8Array

    def __len__(self) -> int:
        return int(self.ts.shape[0])


@dataclass(frozen=True)
class IndexedPosition:
    """An entity's last fix at a snapshot's time, with its wire index."""

    index: int
    position: Position


@dataclass(frozen=True)
class IndexedOpenJob:
    """An open job at a snapshot's time, with the wire index of its holder (None: nobody, or not shown)."""

    job: OpenJob
    index: int | None


@dataclass(frozen=True)
class ScopeSnapshot:
    """The scope at `ts`: each entity's last fix at or before it, and the jobs still open."""

    ts: int
    positions: tuple[IndexedPosition, ...]
    open_jobs: tuple[IndexedOpenJob, ...]


@dataclass(frozen=True)
class Suggestion:
    """A scope that exists and looks like what was asked for (same id in another kind or dataset)."""

    scope: Scope
    reason: str


class ScopeNotFound(LookupError):
    """The dataset, job or entity of a scope is unknown; `suggestions` are scopes that exist."""

    def __init__(self, message: str, suggestions: tuple[Suggestion, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.suggestions = suggestions


class ScopeTooManyPoints(ValueError):
    """A fetch window holds more fixes than one chunk may carry."""

    def __init__(self, points: int, limit: int) -> None:
        super().__init__(f"the window holds {points:,} fixes, more than the {limit:,} one chunk may carry")
        self.points = points
        self.limit = limit
