"""Distances and positions along a stored track: the small geometry reconstruction needs, vectorised."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from storage.tracks.types import EntityTrack

FloatArray = npt.NDArray[np.float64]

EARTH_RADIUS_M = 6_371_008.8
#: Metres per 1e-7 degree of latitude (and of longitude at the equator).
METRES_PER_E7 = EARTH_RADIUS_M * math.pi / 180.0 / 1e7


def metres_between(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine), exact enough for any two points on a city map."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def step_metres(lat_e7: npt.NDArray[np.int32], lon_e7: npt.NDArray[np.int32]) -> FloatArray:
    """Metres between consecutive fixes (n - 1 values), equirectangular at each step's mean latitude."""
    lat = lat_e7.astype(np.float64)
    lon = lon_e7.astype(np.float64)
    dlat = np.diff(lat)
    dlon = np.diff(lon)
    scale = np.cos(np.radians((lat[1:] + lat[:-1]) * 0.5e-7))
    return np.asarray(np.hypot(dlat, dlon * scale) * METRES_PER_E7, dtype=np.float64)


def position_at(track: EntityTrack, ts: int) -> tuple[float, float] | None:
    """The track's position at `ts` in degrees: the stored fix at that time, else the straight-line
    interpolation between the stored fixes either side; None outside the track's first..last fix."""
    n = len(track)
    if n == 0 or ts < int(track.ts[0]) or ts > int(track.ts[-1]):
        return None
    i = int(np.searchsorted(track.ts, ts, side="left"))
    if int(track.ts[i]) == ts:
        return float(track.lat_e7[i]) / 1e7, float(track.lon_e7[i]) / 1e7
    t0, t1 = int(track.ts[i - 1]), int(track.ts[i])
    w = (ts - t0) / (t1 - t0)
    lat = (float(track.lat_e7[i - 1]) * (1 - w) + float(track.lat_e7[i]) * w) / 1e7
    lon = (float(track.lon_e7[i - 1]) * (1 - w) + float(track.lon_e7[i]) * w) / 1e7
    return lat, lon
