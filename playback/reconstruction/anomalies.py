"""GPS anomaly flags per fix, vectorised with numpy, and the anomalies a person reads in the manifest.

A fix may carry several flags (bits, as on the wire, docs/protocol.md):

- **jump** (bit 0): the step from the previous fix implies more than JUMP_SPEED_MPS and covers more than
  JUMP_MIN_M (so jitter between fixes milliseconds apart never counts). Only the step is flagged: a
  multipath excursion out and back flags the fix where it left and the fix where it came back.
- **stale** (bit 1): the fix repeats the previous position exactly (to the 1e-7 degree) and that position
  has not changed for STALE_REPEAT_MS or more — a receiver repeating a cached fix; real fixes always jitter.
- **gap** (bit 2): the fix comes after a dropout — more than `gap_threshold_ms` since the previous fix:
  GAP_MIN_MS for a 1 Hz track, GAP_INTERVALS × the track's median interval for sparser ones.
- **stall** (bit 3): every fix of the last STALL_MIN_MS (counting the last fix at or before that time)
  lies within STALL_RADIUS_M of the centre of their bounding box (half its diagonal): the entity has not
  moved for two minutes, beyond what GPS jitter (a few metres) spreads a standing fix over. This flags
  stationary runs whatever the entity's state (waiting at a restaurant is a stall too); a fix is flagged
  from the moment the run has lasted STALL_MIN_MS, so the run's first two minutes are not.

Flags are computed over a whole scope's track at once (the scope's first fix has no predecessor and
carries none), so a fix's flags never depend on how a client windows its fetches.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from playback.reconstruction.geo import METRES_PER_E7, step_metres
from playback.reconstruction.rounds import RoundReview

UInt8Array = npt.NDArray[np.uint8]
Int64Array = npt.NDArray[np.int64]
Int32Array = npt.NDArray[np.int32]

FLAG_JUMP = 1
FLAG_STALE = 2
FLAG_GAP = 4
FLAG_STALL = 8

#: A step faster than this (m/s) is a jump: 180 km/h, beyond any courier, bike or truck in a city.
JUMP_SPEED_MPS = 50.0
#: ... and longer than this (m), so GPS jitter between fixes milliseconds apart is never a jump.
JUMP_MIN_M = 50.0
#: Stationary means every fix of the window within this many metres of the centre of their bounding box:
#: above the spread of a standing receiver's jitter over two minutes (about 10 m at 3.5 m per axis).
STALL_RADIUS_M = 15.0
#: ... for at least this long (ms).
STALL_MIN_MS = 120_000
#: A dropout is a gap between fixes longer than this (ms) in a 1 Hz track ...
GAP_MIN_MS = 30_000
#: ... or longer than this many median intervals in a sparser one.
GAP_INTERVALS = 30
#: A repeated position is stale once it has not changed for this long (ms).
STALE_REPEAT_MS = 10_000
#: A dispatcher's fix older than this at the round (ms) is stale.
STALE_POS_AGE_MS = 30_000

AnomalyKind = Literal["jump", "stale", "gap", "stall"]


@dataclass(frozen=True)
class Anomaly:
    """One anomaly of one entity: from `ts` to `end_ts`, with a sentence and its size (metres or seconds)."""

    entity: str
    ts: int
    end_ts: int
    kind: AnomalyKind
    detail: str
    value: float


def gap_threshold_ms(ts: Int64Array) -> int:
    """The longest interval between fixes that is not a dropout, for this track."""
    if ts.size < 2:
        return GAP_MIN_MS
    median = float(np.median(np.diff(ts)))
    return int(max(GAP_MIN_MS, GAP_INTERVALS * median))


def _range_extent(values: Int64Array, lo: Int64Array, hi: Int64Array) -> tuple[Int64Array, Int64Array]:
    """min and max of values[lo_i ..= hi_i] for every i: a sparse table built one level at a time."""
    length = hi - lo + 1
    # frexp gives length = m * 2**e with m in [0.5, 1): floor(log2(length)) = e - 1, exactly.
    level_of = np.frexp(length.astype(np.float64))[1].astype(np.int64) - 1
    mins = np.empty(lo.size, dtype=np.int64)
    maxs = np.empty(lo.size, dtype=np.int64)
    level_min = level_max = values
    for level in range(int(level_of.max()) + 1 if lo.size else 0):
        if level:
            half = 1 << (level - 1)
            level_min = np.minimum(level_min[:-half], level_min[half:])
            level_max = np.maximum(level_max[:-half], level_max[half:])
        chosen = np.flatnonzero(level_of == level)
        if chosen.size:
            a, b = lo[chosen], hi[chosen] - (1 << level) + 1
            mins[chosen] = np.minimum(level_min[a], level_min[b])
            maxs[chosen] = np.maximum(level_max[a], level_max[b])
    return mins, maxs


def _stall_windows(ts: Int64Array) -> tuple[Int64Array, Int64Array]:
    """(indices of fixes with STALL_MIN_MS of history, the first fix of each one's window)."""
    lo = np.searchsorted(ts, ts - STALL_MIN_MS, side="right").astype(np.int64) - 1
    have = np.flatnonzero(lo >= 0).astype(np.int64)
    return have, lo[have]


def _repeats(lat_e7: Int32Array, lon_e7: Int32Array) -> tuple[npt.NDArray[np.bool_], Int64Array]:
    """(fix repeats the previous position exactly, index of the first fix at this position in a row)."""
    n = lat_e7.size
    same = np.concatenate(([False], (np.diff(lat_e7) == 0) & (np.diff(lon_e7) == 0)))
    run_start = np.maximum.accumulate(np.where(same, 0, np.arange(n, dtype=np.int64)))
    return same, run_start


def fix_flags(ts: Int64Array, lat_e7: Int32Array, lon_e7: Int32Array) -> UInt8Array:
    """The anomaly bits of every fix of one entity's time-sorted track."""
    n = ts.size
    flags = np.zeros(n, dtype=np.uint8)
    if n < 2:
        return flags
    dt = np.diff(ts)
    steps = step_metres(lat_e7, lon_e7)
    speed = steps / (dt / 1000.0)
    flags[1:] |= np.where((speed > JUMP_SPEED_MPS) & (steps > JUMP_MIN_M), FLAG_JUMP, 0).astype(np.uint8)
    flags[1:] |= np.where(dt > gap_threshold_ms(ts), FLAG_GAP, 0).astype(np.uint8)

    same, run_start = _repeats(lat_e7, lon_e7)
    stale = same & (ts - ts[run_start] >= STALE_REPEAT_MS)
    flags |= np.where(stale, FLAG_STALE, 0).astype(np.uint8)

    have, lo = _stall_windows(ts)
    if have.size:
        lat_min, lat_max = _range_extent(lat_e7.astype(np.int64), lo, have)
        lon_min, lon_max = _range_extent(lon_e7.astype(np.int64), lo, have)
        scale = np.cos(np.radians(lat_e7[have] / 1e7))
        half_diagonal = np.hypot(lat_max - lat_min, (lon_max - lon_min) * scale) * (METRES_PER_E7 / 2)
        flags[have[half_diagonal <= STALL_RADIUS_M]] |= FLAG_STALL
    return flags


def _runs(indices: npt.NDArray[np.intp]) -> list[tuple[int, int]]:
    """Consecutive stretches of sorted indices as (first, last)."""
    if indices.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(indices) != 1)
    firsts = np.concatenate(([0], breaks + 1))
    lasts = np.concatenate((breaks, [indices.size - 1]))
    return [(int(indices[a]), int(indices[b])) for a, b in zip(firsts.tolist(), lasts.tolist(), strict=True)]


def _duration(ms: int) -> str:
    seconds = ms / 1000
    if seconds < 120:
        return f"{seconds:g} s"
    return f"{seconds / 60:.0f} min"


def track_anomalies(
    entity: str, ts: Int64Array, lat_e7: Int32Array, lon_e7: Int32Array, flags: UInt8Array | None = None
) -> list[Anomaly]:
    """One entry per stretch of consecutive fixes with the same flag, in time order within each kind."""
    if flags is None:
        flags = fix_flags(ts, lat_e7, lon_e7)
    out: list[Anomaly] = []
    steps = step_metres(lat_e7, lon_e7) if ts.size > 1 else np.zeros(0)
    for first, last in _runs(np.flatnonzero(flags & FLAG_JUMP)):
        worst = max(range(first, last + 1), key=lambda i: float(steps[i - 1]))
        metres, seconds = float(steps[worst - 1]), (int(ts[worst]) - int(ts[worst - 1])) / 1000
        detail = f"{metres:,.0f} m in {seconds:g} s ({metres / seconds * 3.6:,.0f} km/h)"
        out.append(Anomaly(entity, int(ts[first]), int(ts[last]), "jump", detail, metres))
    _, repeat_start = _repeats(lat_e7, lon_e7)
    for first, last in _runs(np.flatnonzero(flags & FLAG_STALE)):
        held = int(ts[last]) - int(ts[repeat_start[first]])
        out.append(
            Anomaly(
                entity,
                int(ts[first]),
                int(ts[last]),
                "stale",
                f"position repeated unchanged for {_duration(held)}",
                held / 1000,
            )
        )
    for i in np.flatnonzero(flags & FLAG_GAP).tolist():
        gap = int(ts[i]) - int(ts[i - 1])
        out.append(
            Anomaly(entity, int(ts[i - 1]), int(ts[i]), "gap", f"no fix for {_duration(gap)}", gap / 1000)
        )
    for first, last in _runs(np.flatnonzero(flags & FLAG_STALL)):
        since = max(int(ts[0]), int(ts[first]) - STALL_MIN_MS)
        held = int(ts[last]) - since
        out.append(
            Anomaly(
                entity,
                since,
                int(ts[last]),
                "stall",
                f"no movement beyond {STALL_RADIUS_M:g} m for {_duration(held)}",
                held / 1000,
            )
        )
    return out


def stale_positions(reviews: Iterable[RoundReview]) -> list[Anomaly]:
    """Candidates whose fix was older than STALE_POS_AGE_MS when the round used it."""
    out = []
    for review in reviews:
        for c in review.candidates:
            if c.pos_age_s is not None and c.pos_age_s * 1000 > STALE_POS_AGE_MS:
                out.append(
                    Anomaly(
                        entity=c.candidate.entity,
                        ts=review.round.ts,
                        end_ts=review.round.ts,
                        kind="stale",
                        detail=f"{review.round.round} used a fix {c.pos_age_s:g} s old",
                        value=c.pos_age_s,
                    )
                )
    return out
