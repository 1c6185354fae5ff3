"""The reference track workload every benchmark measures, so figures stay comparable across runs and issues.

N vehicles random-walk at ~5 m/s with GPS noise in a ~31 x 24 km square around (39.9, 116.4), one fix per
second from T0. The entity set is 2,000 vehicles x 2 h (seed 1); the box set is 10,000 vehicles x 20 min
(seed 2), queried with BOX over BOX_WINDOW at full resolution (~950k points). The generator reproduces the
shared reference script point for point (tests/test_benchmark_workload.py checks it where that script is
present); it lives here so the benchmarks need nothing outside this repository.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

T0 = 1_700_000_000_000
CENTRE = (39.9, 116.4)
ENTITY_SET = {"n_veh": 2000, "seconds": 7200, "seed": 1}
BOX_SET = {"n_veh": 10_000, "seconds": 1200, "seed": 2}
#: (lat_min, lon_min, lat_max, lon_max): a 10 x 10 km box near the centre.
BOX = (39.855, 116.34, 39.945, 116.46)
BOX_WINDOW = (T0 + 300_000, T0 + 900_000)
ENTITY_WINDOW_MS = 3_600_000
STEP_M = 5.0
HEADING_NOISE_RAD = 0.15
LAT_NOISE_DEG = 4e-5
LON_NOISE_DEG = 5e-5
EXTENT_DEG = 0.14


def tracks(n_veh: int, seconds: int, seed: int, t0: int = T0) -> pa.Table:
    """`entity, ts, lat, lon` of `n_veh` vehicles x `seconds` fixes, vehicle-major, fixed by `seed`."""
    rng = np.random.default_rng(seed)
    lat0, lon0 = CENTRE
    start = rng.uniform(-0.13, 0.13, size=(n_veh, 2))
    heading = rng.uniform(0, 2 * np.pi, size=n_veh)
    lat = np.empty((n_veh, seconds))
    lon = np.empty((n_veh, seconds))
    pos = start.copy()
    step = STEP_M / 111_000
    lon_scale = np.cos(np.radians(lat0))
    # The draws happen in exactly the reference's order (heading, then lat noise, then lon noise per second).
    for s in range(seconds):
        heading += rng.normal(0, HEADING_NOISE_RAD, size=n_veh)
        pos[:, 0] += step * np.cos(heading)
        pos[:, 1] += step * np.sin(heading) / lon_scale
        pos = np.clip(pos, -EXTENT_DEG, EXTENT_DEG)
        lat[:, s] = lat0 + pos[:, 0] + rng.normal(0, LAT_NOISE_DEG, n_veh)
        lon[:, s] = lon0 + pos[:, 1] + rng.normal(0, LON_NOISE_DEG, n_veh)
    entity = np.repeat(np.array([f"courier:c{i}" for i in range(n_veh)]), seconds)
    ts = np.tile(t0 + np.arange(seconds, dtype=np.int64) * 1000, n_veh)
    return pa.table({"entity": entity, "ts": ts, "lat": lat.ravel(), "lon": lon.ravel()})


def tracks_stored(n_veh: int, seconds: int, seed: int) -> pa.Table:
    """`tracks` with positions rounded to the 1e-7 degree every compared system stores."""
    t = tracks(n_veh, seconds, seed)
    lat = np.round(t.column("lat").to_numpy() * 1e7) / 1e7
    lon = np.round(t.column("lon").to_numpy() * 1e7) / 1e7
    return t.set_column(2, "lat", pa.array(lat)).set_column(3, "lon", pa.array(lon))
