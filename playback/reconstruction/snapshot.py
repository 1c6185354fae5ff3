"""The moment at a time: each entity's last stored fix at or before it, and the jobs still open."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from playback.reconstruction.lifecycle import TERMINAL_STATES, JobState, Lifecycle
from storage.tracks.types import EntityTrack


@dataclass(frozen=True)
class Position:
    """An entity's last stored fix at or before a time (exact stored values, 1e-7 degree)."""

    entity: str
    ts: int
    lat_e7: int
    lon_e7: int

    @property
    def lat(self) -> float:
        """Latitude in degrees."""
        return self.lat_e7 / 1e7

    @property
    def lon(self) -> float:
        """Longitude in degrees."""
        return self.lon_e7 / 1e7


@dataclass(frozen=True)
class OpenJob:
    """A job that exists and is neither delivered nor cancelled at the snapshot's time."""

    job: str
    state: JobState
    entity: str | None


def last_fix(track: EntityTrack, ts: int) -> Position | None:
    """The track's last fix with fix.ts <= ts, or None."""
    i = int(np.searchsorted(track.ts, ts, side="right")) - 1
    if i < 0:
        return None
    return Position(
        entity=track.entity, ts=int(track.ts[i]), lat_e7=int(track.lat_e7[i]), lon_e7=int(track.lon_e7[i])
    )


def open_jobs(lifecycles: Sequence[Lifecycle], ts: int, *, held_by: str | None = None) -> list[OpenJob]:
    """The jobs created by `ts` and not finished at `ts`; with `held_by`, only those that entity holds."""
    out = []
    for lifecycle in lifecycles:
        state = lifecycle.state_at(ts)
        if state is None or state.state in TERMINAL_STATES:
            continue
        if held_by is not None and state.entity != held_by:
            continue
        out.append(OpenJob(job=lifecycle.job, state=state.state, entity=state.entity))
    return out
