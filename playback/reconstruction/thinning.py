"""Overview resolution: at most one fix per entity per interval, the first of each."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def first_per_interval(
    entity_index: npt.NDArray[np.int32], ts: npt.NDArray[np.int64], interval_ms: int
) -> npt.NDArray[np.bool_]:
    """Which fixes to keep: the first of each entity in each interval `ts // interval_ms` (intervals are
    aligned to the epoch, so overlapping fetches keep the same fixes). Input sorted by entity, then ts."""
    if interval_ms <= 0:
        raise ValueError("interval_ms must be positive")
    if ts.size == 0:
        return np.zeros(0, dtype=np.bool_)
    slot = ts // interval_ms
    keep = np.empty(ts.size, dtype=np.bool_)
    keep[0] = True
    keep[1:] = (entity_index[1:] != entity_index[:-1]) | (slot[1:] != slot[:-1])
    return keep
