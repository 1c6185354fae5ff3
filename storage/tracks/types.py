"""Values that cross from the pipeline into the track store and back out to playback: frozen dataclasses.

The numpy array aliases are the block codec's (storage/track_codec.py, the lowest layer), re-exported here
so there is one set of them and the layers above import every track-store type from this module.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from storage.track_codec import BoolArray, FloatArray, Int32Array, Int64Array, e7_to_degrees

__all__ = [
    "BoolArray",
    "Box",
    "BoxTracks",
    "DatasetCounts",
    "EntitySpan",
    "EntityTrack",
    "EventWriteResult",
    "FloatArray",
    "Int32Array",
    "Int64Array",
    "JobLink",
    "PointBatch",
    "PointWriteResult",
    "StoredEvent",
]


@dataclass(frozen=True)
class PointBatch:
    """Validated GPS fixes of one dataset as parallel columns; entities dictionary-encoded.

    `entity_codes[i]` indexes `entity_names`; times are epoch ms UTC; optional columns hold NaN where absent.
    """

    entity_names: tuple[str, ...]
    entity_codes: Int32Array
    ts: Int64Array
    lat: FloatArray
    lon: FloatArray
    speed_mps: FloatArray | None = None
    heading_deg: FloatArray | None = None
    accuracy_m: FloatArray | None = None

    def __len__(self) -> int:
        return int(self.ts.shape[0])


@dataclass(frozen=True)
class PointWriteResult:
    """What a points write did: rows are indices into the PointBatch that was written."""

    stored: int
    duplicates: int
    conflict_rows: Int64Array
    stored_rows: Int64Array


@dataclass(frozen=True)
class StoredEvent:
    """One validated, normalised event: `body` is the whole event (times in ms, ids as strings)."""

    id: str
    type: str
    ts: int
    body: dict[str, Any] = field(hash=False)


@dataclass(frozen=True)
class EventWriteResult:
    """What an events write did: rows are indices into the sequence of events that was written."""

    stored: int
    duplicates: int
    conflict_rows: tuple[int, ...]
    stored_rows: tuple[int, ...]


@dataclass(frozen=True)
class EntityTrack:
    """One entity's fixes over a window, time-sorted, without duplicates; positions in 1e-7 degree."""

    entity: str
    ts: Int64Array
    lat_e7: Int32Array
    lon_e7: Int32Array
    speed_mps: FloatArray | None = None
    heading_deg: FloatArray | None = None
    accuracy_m: FloatArray | None = None

    def __len__(self) -> int:
        return int(self.ts.shape[0])

    @property
    def lat(self) -> FloatArray:
        """Latitudes in degrees."""
        return e7_to_degrees(self.lat_e7)

    @property
    def lon(self) -> FloatArray:
        """Longitudes in degrees."""
        return e7_to_degrees(self.lon_e7)


@dataclass(frozen=True)
class BoxTracks:
    """Every fix inside a box and window: `entity_index[i]` indexes `entities`.

    Rows come grouped by space cell and time bucket, each entity's rows time-sorted inside a cell;
    `by_entity()` gives the (entity, ts) order when a caller needs it.
    """

    entities: tuple[str, ...]
    entity_index: Int32Array
    ts: Int64Array
    lat_e7: Int32Array
    lon_e7: Int32Array
    blocks_read: int = 0

    def __len__(self) -> int:
        return int(self.ts.shape[0])

    def by_entity(self) -> BoxTracks:
        """The same fixes ordered by entity, then time."""
        order = np.lexsort((self.ts, self.entity_index))
        return BoxTracks(
            entities=self.entities, entity_index=self.entity_index[order], ts=self.ts[order],
            lat_e7=self.lat_e7[order], lon_e7=self.lon_e7[order], blocks_read=self.blocks_read,
        )  # fmt: skip


@dataclass(frozen=True)
class Box:
    """A lat/lon box in degrees, edges included (like SQL BETWEEN)."""

    lat_min: float
    lon_min: float
    lat_max: float
    lon_max: float

    def __post_init__(self) -> None:
        if not (-90 <= self.lat_min <= self.lat_max <= 90 and -180 <= self.lon_min <= self.lon_max <= 180):
            raise ValueError(f"not a valid box: {self}")


@dataclass(frozen=True)
class EntitySpan:
    """How much track one entity has, read from block headers alone."""

    entity: str
    first_ts: int | None
    last_ts: int | None
    points: int


@dataclass(frozen=True)
class JobLink:
    """A marker that an entity touched a job: offered in a round, assigned, excluded, or named by an event."""

    ts: int
    job: str
    role: int


@dataclass(frozen=True)
class DatasetCounts:
    """What one dataset holds in the track store."""

    name: str
    points: int
    events: int
