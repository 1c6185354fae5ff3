"""Road graph of a city: generated from a seed (grid of arterials and local streets, a river with few bridges,
zones and districts) or loaded from a GeoJSON file; all-pairs travel times per time-of-day speed profile.

Layout: nodes are indexed 0..n-1 with local metric coordinates `x`, `y` (metres east/north of the origin) and
WGS84 `lat`, `lon`; `side` is 0/1 for the river bank (all 0 without a river). Travel times are seconds for an
e-bike; other vehicles divide them by their speed factor. Paths come from scipy's Dijkstra predecessors.
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from simulator.scenarios import CityParams

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

ROAD_CLASSES: tuple[str, ...] = ("arterial", "local", "bridge")
#: Free-flow e-bike speeds by road class, km/h.
BASE_SPEED_KMH: dict[str, float] = {"arterial": 20.0, "local": 16.0, "bridge": 18.0}
#: Speed multipliers at peak hours: arterials and bridges congest more than local streets.
PEAK_FACTOR: dict[str, float] = {"arterial": 0.8, "local": 0.93, "bridge": 0.7}
#: Local-time peak windows (hours) when the peak profile applies.
PEAK_WINDOWS: tuple[tuple[float, float], ...] = ((7.5, 9.0), (11.5, 13.5), (17.5, 19.5))
DISTRICTS: tuple[str, ...] = ("commercial", "residential", "campus")
METRES_PER_DEGREE = 111_320.0


class CityError(ValueError):
    """A road graph that cannot be used (unreadable GeoJSON, no roads)."""


@dataclass(frozen=True)
class City:
    """An immutable road graph with travel-time matrices for the off-peak (0) and peak (1) profiles."""

    name: str
    x: FloatArray
    y: FloatArray
    lat: FloatArray
    lon: FloatArray
    side: IntArray
    zone: tuple[str, ...]
    district: tuple[str, ...]
    edges: IntArray  # (m, 2) node pairs
    edge_class: tuple[str, ...]
    utc_offset_h: int
    has_river: bool
    origin_lat: float  # WGS84 of the local origin x = y = 0
    origin_lon: float
    travel_s: tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]] = field(repr=False)
    predecessors: tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]] = field(repr=False)
    _paths: dict[tuple[int, int, int], IntArray] = field(default_factory=dict, repr=False, compare=False)
    _tree: Any = field(default=None, repr=False, compare=False)

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.x.shape[0])

    def profile_at(self, ts_ms: int) -> int:
        """0 for off-peak, 1 for peak at local time of `ts_ms`."""
        hour = ((ts_ms / 3_600_000.0) + self.utc_offset_h) % 24.0
        return 1 if any(a <= hour < b for a, b in PEAK_WINDOWS) else 0

    def path(self, profile: int, u: int, v: int) -> IntArray:
        """Node sequence of the fastest path u → v under `profile` (u and v included)."""
        key = (profile, u, v)
        cached = self._paths.get(key)
        if cached is not None:
            return cached
        pred = self.predecessors[profile][u]
        nodes = [v]
        while nodes[-1] != u:
            nodes.append(int(pred[nodes[-1]]))
        result = np.array(nodes[::-1], dtype=np.int64)
        self._paths[key] = result
        return result

    def nearest_nodes(self, x: FloatArray, y: FloatArray) -> IntArray:
        """Index of the node nearest each (x, y)."""
        tree = self._tree
        if tree is None:
            tree = cKDTree(np.column_stack([self.x, self.y]))
            object.__setattr__(self, "_tree", tree)
        _, idx = tree.query(np.column_stack([x, y]))
        return np.asarray(idx, dtype=np.int64)

    def to_latlon(self, x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
        """WGS84 degrees of local metric coordinates (equirectangular around the node centroid)."""
        lat = self.origin_lat + y / METRES_PER_DEGREE
        lon = self.origin_lon + x / (METRES_PER_DEGREE * math.cos(math.radians(self.origin_lat)))
        return lat, lon


def _travel_matrices(
    n: int, edges: IntArray, edge_class: tuple[str, ...], lengths: FloatArray, variation: FloatArray
) -> tuple[tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]], tuple[npt.NDArray[np.int32], ...]]:
    times: list[npt.NDArray[np.float32]] = []
    preds: list[npt.NDArray[np.int32]] = []
    for profile in (0, 1):
        speed = np.array(
            [BASE_SPEED_KMH[c] * (PEAK_FACTOR[c] if profile else 1.0) for c in edge_class], dtype=np.float64
        )
        weight = lengths / (speed / 3.6) * variation
        graph = csr_matrix((weight, (edges[:, 0], edges[:, 1])), shape=(n, n))
        dist, pred = dijkstra(graph, directed=False, return_predecessors=True)
        if not np.isfinite(dist).all():
            raise CityError("the road graph is not connected")
        times.append(dist.astype(np.float32))
        preds.append(pred.astype(np.int32))
    return (times[0], times[1]), (preds[0], preds[1])


def city_generate(*, params: CityParams, seed: int) -> City:
    """A grid city from `seed`: arterials every 1 km, a meandering river crossed only by `params.bridges`."""
    rng = np.random.default_rng([seed, 1])
    nx = int(params.width_km * 1000 // params.spacing_m) + 1
    ny = int(params.height_km * 1000 // params.spacing_m) + 1
    grid_i, grid_j = np.meshgrid(np.arange(nx), np.arange(ny), indexing="ij")
    ii, jj = grid_i.ravel(), grid_j.ravel()
    jitter = params.spacing_m * 0.12
    x = ii * params.spacing_m + rng.uniform(-jitter, jitter, ii.size)
    y = jj * params.spacing_m + rng.uniform(-jitter, jitter, ii.size)
    width, height = (nx - 1) * params.spacing_m, (ny - 1) * params.spacing_m
    phase = rng.uniform(0, 2 * math.pi)

    def river_y(xs: FloatArray) -> FloatArray:
        return 0.5 * height + 0.12 * height * np.sin(2 * math.pi * xs / max(width, 1.0) * 1.3 + phase)

    side = (y > river_y(x)).astype(np.int64)
    arterial_every = max(1, round(1000 / params.spacing_m))
    node_id = (ii * ny + jj).reshape(nx, ny)
    pairs: list[tuple[int, int, str]] = []
    arterial_cols = [i for i in range(nx) if i % arterial_every == 0]
    # bridges on evenly spread arterial columns, so a cross-river detour is long away from them
    step = len(arterial_cols) / (params.bridges + 1)
    bridge_cols = {
        arterial_cols[min(len(arterial_cols) - 1, round(step * (k + 1)))] for k in range(params.bridges)
    }
    for i in range(nx):
        for j in range(ny):
            a = int(node_id[i, j])
            if i + 1 < nx:
                b = int(node_id[i + 1, j])
                cls = "arterial" if j % arterial_every == 0 else "local"
                pairs.append((a, b, cls))
            if j + 1 < ny:
                b = int(node_id[i, j + 1])
                cls = "arterial" if i % arterial_every == 0 else "local"
                pairs.append((a, b, cls))
    kept: list[tuple[int, int, str]] = []
    for a, b, cls in pairs:
        if side[a] != side[b]:
            if ii[a] == ii[b] and ii[a] in bridge_cols:
                kept.append((a, b, "bridge"))
            continue
        kept.append((a, b, cls))
    edges = np.array([(a, b) for a, b, _ in kept], dtype=np.int64)
    edge_class = tuple(c for _, _, c in kept)
    lengths = np.hypot(x[edges[:, 0]] - x[edges[:, 1]], y[edges[:, 0]] - y[edges[:, 1]])
    variation = rng.uniform(0.9, 1.2, len(kept))
    travel, preds = _travel_matrices(ii.size, edges, edge_class, lengths, variation)

    zone_km = 2.0
    zx = (x // (zone_km * 1000)).astype(np.int64).clip(0, None)
    zy = (y // (zone_km * 1000)).astype(np.int64).clip(0, None)
    n_zx, n_zy = int(zx.max()) + 1, int(zy.max()) + 1
    zone_names = [f"z{a}-{b}" for a, b in zip(zx.tolist(), zy.tolist(), strict=True)]
    # districts per zone: central zones are commercial, two others are campuses, the rest residential
    zone_district: dict[tuple[int, int], str] = {}
    cx, cy = (n_zx - 1) / 2, (n_zy - 1) / 2
    order = sorted(
        ((a, b) for a in range(n_zx) for b in range(n_zy)), key=lambda z: (z[0] - cx) ** 2 + (z[1] - cy) ** 2
    )
    n_commercial = max(1, len(order) // 4)
    for k, z in enumerate(order):
        zone_district[z] = "commercial" if k < n_commercial else "residential"
    residential = [z for z in order if zone_district[z] == "residential"]
    if len(residential) > 2:
        picks = rng.choice(len(residential), size=2, replace=False)
        for p in picks:
            zone_district[residential[int(p)]] = "campus"
    district = tuple(zone_district[(a, b)] for a, b in zip(zx.tolist(), zy.tolist(), strict=True))
    lat = params.origin_lat + y / METRES_PER_DEGREE
    lon = params.origin_lon + x / (METRES_PER_DEGREE * math.cos(math.radians(params.origin_lat)))
    return City(
        name=params.name,
        x=x,
        y=y,
        lat=lat,
        lon=lon,
        side=side,
        zone=tuple(zone_names),
        district=district,
        edges=edges,
        edge_class=edge_class,
        utc_offset_h=params.utc_offset_h,
        has_river=True,
        origin_lat=params.origin_lat,
        origin_lon=params.origin_lon,
        travel_s=travel,
        predecessors=preds,  # type: ignore[arg-type]
    )


_CITY_CACHE: dict[tuple[CityParams, int], City] = {}


def city_for(*, params: CityParams, seed: int) -> City:
    """The generated city for (params, seed), built once per process."""
    key = (params, seed)
    if key not in _CITY_CACHE:
        _CITY_CACHE.clear()  # one city at a time keeps memory flat across seeds
        _CITY_CACHE[key] = city_generate(params=params, seed=seed)
    return _CITY_CACHE[key]


_HIGHWAY_CLASS = {"motorway": "arterial", "trunk": "arterial", "primary": "arterial", "secondary": "arterial"}


def _point_in_polygon(px: FloatArray, py: FloatArray, ring: FloatArray) -> npt.NDArray[np.bool_]:
    inside = np.zeros(px.shape, dtype=bool)
    xs, ys = ring[:, 0], ring[:, 1]
    for k in range(len(ring) - 1):
        x1, y1, x2, y2 = xs[k], ys[k], xs[k + 1], ys[k + 1]
        crosses = (y1 > py) != (y2 > py)
        with np.errstate(divide="ignore", invalid="ignore"):
            at = (x2 - x1) * (py - y1) / (y2 - y1) + x1
        inside ^= crosses & (px < at)
    return inside


def city_from_geojson(*, path: Path, name: str = "custom", utc_offset_h: int = 0) -> City:
    """A city from a GeoJSON FeatureCollection: LineStrings are roads (`road_class` or OSM `highway`),
    Polygons with a `district` property (commercial|residential|campus) and optional `zone` name mark areas,
    and a LineString with `waterway: river` splits the city into two banks. Unmarked nodes are residential."""
    try:
        doc = json.loads(Path(path).read_text())
        features = doc["features"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CityError(f"{path}: not a GeoJSON FeatureCollection ({exc})") from exc
    coords: dict[tuple[float, float], int] = {}
    pairs: dict[tuple[int, int], str] = {}
    polygons: list[tuple[FloatArray, str, str | None]] = []
    river: list[FloatArray] = []

    def node_of(pt: list[float]) -> int:
        key = (round(float(pt[0]), 6), round(float(pt[1]), 6))
        if key not in coords:
            coords[key] = len(coords)
        return coords[key]

    for feature in features:
        geometry, props = feature.get("geometry") or {}, feature.get("properties") or {}
        kind = geometry.get("type")
        lines = (
            [geometry["coordinates"]]
            if kind == "LineString"
            else geometry["coordinates"]
            if kind == "MultiLineString"
            else []
        )
        if props.get("waterway") == "river":
            river.extend(np.asarray(line, dtype=np.float64) for line in lines)
            continue
        if kind == "Polygon" and props.get("district") in DISTRICTS:
            polygons.append(
                (
                    np.asarray(geometry["coordinates"][0], dtype=np.float64),
                    props["district"],
                    props.get("zone"),
                )
            )
            continue
        cls = props.get("road_class") or _HIGHWAY_CLASS.get(str(props.get("highway")), "local")
        cls = cls if cls in ROAD_CLASSES else "local"
        for line in lines:
            ids = [node_of(pt) for pt in line]
            for a, b in itertools.pairwise(ids):
                if a != b:
                    pairs[(min(a, b), max(a, b))] = cls
    if not pairs:
        raise CityError(f"{path}: no LineString roads found")
    lonlat = np.array(list(coords.keys()), dtype=np.float64)
    lon, lat = lonlat[:, 0], lonlat[:, 1]
    lat0 = float(lat.min())
    lon0 = float(lon.min())
    x = (lon - lon0) * METRES_PER_DEGREE * math.cos(math.radians(lat0))
    y = (lat - lat0) * METRES_PER_DEGREE
    edges = np.array(list(pairs.keys()), dtype=np.int64)
    edge_class = tuple(pairs.values())
    # keep the largest connected component so every pair of nodes has a path
    from scipy.sparse.csgraph import connected_components

    n = len(coords)
    graph = csr_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    main = int(np.bincount(labels).argmax())
    keep = np.flatnonzero(labels == main)
    remap = -np.ones(n, dtype=np.int64)
    remap[keep] = np.arange(keep.size)
    edge_keep = (labels[edges[:, 0]] == main) & (labels[edges[:, 1]] == main)
    edges = remap[edges[edge_keep]]
    edge_class = tuple(c for c, k in zip(edge_class, edge_keep.tolist(), strict=True) if k)
    x, y, lat, lon = x[keep], y[keep], lat[keep], lon[keep]
    lengths = np.hypot(x[edges[:, 0]] - x[edges[:, 1]], y[edges[:, 0]] - y[edges[:, 1]]).clip(1.0, None)
    travel, preds = _travel_matrices(keep.size, edges, edge_class, lengths, np.ones(len(edges)))
    district = np.array(["residential"] * keep.size, dtype=object)
    zone = np.array([f"z{int(a)}-{int(b)}" for a, b in zip(x // 2000, y // 2000, strict=True)], dtype=object)
    for ring, name_d, zone_name in polygons:
        inside = _point_in_polygon(lon, lat, ring)
        district[inside] = name_d
        if zone_name:
            zone[inside] = str(zone_name)
    side = np.zeros(keep.size, dtype=np.int64)
    for line in river:
        # bank = which side of the river polyline's interpolated latitude a node lies on
        order = np.argsort(line[:, 0])
        river_lat = np.interp(lon, line[order, 0], line[order, 1])
        side = (lat > river_lat).astype(np.int64)
    return City(
        name=name,
        x=x,
        y=y,
        lat=lat,
        lon=lon,
        side=side,
        zone=tuple(str(z) for z in zone),
        district=tuple(str(d) for d in district),
        edges=edges,
        edge_class=edge_class,
        utc_offset_h=utc_offset_h,
        has_river=bool(river),
        origin_lat=lat0,
        origin_lon=lon0,
        travel_s=travel,
        predecessors=preds,  # type: ignore[arg-type]
    )
