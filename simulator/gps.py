"""GPS fixes from a piecewise-linear true track, vectorised per entity: correlated jitter (~`jitter_m`),
multipath jumps of `jump_min_m`..`jump_max_m` lasting 3-20 fixes, dropouts of 10-120 fixes, and stale fixes
that repeat an old position under new timestamps. No Python loop runs per fix, only per noise episode.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from simulator.scenarios import GpsParams

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class GpsTrack:
    """Fixes of one entity in local metres, plus the multipath jumps injected (start ts, offset metres)."""

    ts: IntArray
    x: FloatArray
    y: FloatArray
    speed_mps: FloatArray
    heading_deg: FloatArray
    accuracy_m: FloatArray
    jumps: tuple[tuple[int, float], ...]


def sample_times(
    *,
    start_ms: int,
    end_ms: int,
    period_ms: int,
    moving: list[tuple[float, float]] | None,
    parked_period_ms: int,
) -> IntArray:
    """Fix times: every `period_ms` while moving (all the time when `moving` is None), else every
    `parked_period_ms`; aligned to the period grid so runs of different strategies share timestamps."""
    first = -(-start_ms // period_ms) * period_ms
    if moving is None or parked_period_ms <= period_ms:
        return np.arange(first, end_ms + 1, period_ms, dtype=np.int64)
    parked_first = -(-start_ms // parked_period_ms) * parked_period_ms
    parts = [np.arange(parked_first, end_ms + 1, parked_period_ms, dtype=np.int64)]
    for a, b in moving:
        lo = -(-int(a) // period_ms) * period_ms
        parts.append(np.arange(lo, min(int(b), end_ms) + 1, period_ms, dtype=np.int64))
    return np.unique(np.concatenate(parts))


def _episodes(
    rng: np.random.Generator, n: int, per_fix_rate: float, lo: int, hi: int
) -> list[tuple[int, int]]:
    count = int(rng.poisson(per_fix_rate * n)) if n else 0
    starts = np.sort(rng.integers(0, max(n, 1), count))
    lengths = rng.integers(lo, hi + 1, count)
    return [(int(s), int(min(n, s + k))) for s, k in zip(starts, lengths, strict=True)]


def _correlated_noise(rng: np.random.Generator, n: int, std: float) -> FloatArray:
    """White noise smoothed by a 10-fix exponential kernel, std `std` (errors drift, never flicker)."""
    if n == 0:
        return np.zeros(0)
    kernel = np.exp(-np.arange(10) / 4.0)
    kernel /= math.sqrt(float((kernel**2).sum()))
    white = rng.normal(0.0, std, n + kernel.size - 1)
    return np.asarray(np.convolve(white, kernel, mode="valid"), dtype=np.float64)


def gps_track_build(
    *,
    ts: IntArray,
    kp_t: FloatArray,
    kp_x: FloatArray,
    kp_y: FloatArray,
    params: GpsParams,
    rng: np.random.Generator,
) -> GpsTrack:
    """Noisy fixes at `ts` of the true track through keypoints (kp_t ms, kp_x, kp_y metres)."""
    n = ts.size
    tf = ts.astype(np.float64)
    x = np.interp(tf, kp_t, kp_x)
    y = np.interp(tf, kp_t, kp_y)
    # speed and heading of the true track over the next second
    x2 = np.interp(tf + 1000.0, kp_t, kp_x)
    y2 = np.interp(tf + 1000.0, kp_t, kp_y)
    dx, dy = x2 - x, y2 - y
    speed = np.hypot(dx, dy)
    heading = np.where(speed > 0.3, np.degrees(np.arctan2(dx, dy)) % 360.0, np.nan)
    fixes_per_hour = 3_600_000.0 / max(1.0, float(np.median(np.diff(tf))) if n > 1 else 1000.0)
    nx = _correlated_noise(rng, n, params.jitter_m * 0.7)
    ny = _correlated_noise(rng, n, params.jitter_m * 0.7)
    accuracy = np.clip(3.0 + np.abs(rng.normal(0, params.jitter_m * 0.6, n)), 2.0, 30.0)
    px, py = x + nx, y + ny
    jumps: list[tuple[int, float]] = []
    for s, e in _episodes(rng, n, params.jumps_per_hour / fixes_per_hour, 3, 20):
        size = float(rng.uniform(params.jump_min_m, params.jump_max_m))
        angle = float(rng.uniform(0, 2 * math.pi))
        px[s:e] += size * math.cos(angle)
        py[s:e] += size * math.sin(angle)
        accuracy[s:e] = rng.uniform(8.0, 25.0)  # multipath fools the receiver: accuracy stays optimistic
        jumps.append((int(ts[s]), size))
    for s, e in _episodes(rng, n, params.stale_per_hour / fixes_per_hour, 3, 15):
        px[s:e], py[s:e] = px[s], py[s]
        speed[s:e], heading[s:e] = speed[s], heading[s]
    keep = np.ones(n, dtype=bool)
    for s, e in _episodes(rng, n, params.dropouts_per_hour / fixes_per_hour, 10, 120):
        keep[s:e] = False
    return GpsTrack(
        ts=ts[keep],
        x=px[keep],
        y=py[keep],
        speed_mps=speed[keep],
        heading_deg=heading[keep],
        accuracy_m=accuracy[keep],
        jumps=tuple(jumps),
    )
