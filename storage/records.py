"""Values that cross from the pipeline into the track store and back out to playback: frozen dataclasses."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

Int64Array = npt.NDArray[np.int64]
Int32Array = npt.NDArray[np.int32]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


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
