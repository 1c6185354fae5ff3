"""Demand: meal orders (merchants clustered in commercial districts, customers in residential ones, lunch and
dinner peaks, preparation and promised times) and bike trips (commute flows between areas).

All draws come from generators seeded by (seed, stream), never by the strategy, so every strategy of a paired
run sees the same demand (common random numbers).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree

from simulator.city import City
from simulator.scenarios import BikeSharingParams, FoodDeliveryParams

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

#: 2024-03-05T00:00:00Z: the simulated day (a Tuesday), so every timestamp is plausible and reproducible.
SIM_DAY_MS = 1_709_596_800_000


def sim_start_ms(*, start_local_hour: float, utc_offset_h: int) -> int:
    """Epoch ms of the simulated start (local hour on the simulated day)."""
    return SIM_DAY_MS + round((start_local_hour - utc_offset_h) * 3_600_000)


def meal_rate_shape(local_hour: FloatArray) -> FloatArray:
    """Relative order rate by local hour: a base plus lunch (12:00) and dinner (18:30) peaks, 1.2 at peak."""
    lunch = np.exp(-0.5 * ((local_hour - 12.0) / 0.9) ** 2)
    dinner = np.exp(-0.5 * ((local_hour - 18.5) / 1.0) ** 2)
    return np.asarray(0.3 + 0.9 * lunch + 0.9 * dinner, dtype=np.float64)


@dataclass(frozen=True)
class Orders:
    """Meal orders sorted by creation time; index i is order `order:<i+1>`."""

    created_ts: IntArray
    ready_ts: IntArray
    promised_ts: IntArray
    pickup_node: IntArray
    dropoff_node: IntArray
    merchant: IntArray

    def __len__(self) -> int:
        return int(self.created_ts.size)


def _nodes_of(city: City, districts: set[str]) -> IntArray:
    picked = np.array([d in districts for d in city.district])
    return np.flatnonzero(picked) if picked.any() else np.arange(city.n_nodes)


def merchants_place(*, city: City, count: int, rng: np.random.Generator) -> IntArray:
    """Merchant nodes clustered (Gaussian, σ 350 m) around hotspots in commercial districts."""
    commercial = _nodes_of(city, {"commercial"})
    centers = rng.choice(commercial, size=min(8, commercial.size), replace=False)
    which = rng.integers(0, centers.size, count)
    mx = city.x[centers[which]] + rng.normal(0, 350, count)
    my = city.y[centers[which]] + rng.normal(0, 350, count)
    return city.nearest_nodes(mx, my)


def food_orders_generate(*, city: City, params: FoodDeliveryParams, start_ms: int) -> Orders:
    """Orders over [start, start + hours) by thinning a Poisson process with the meal-peak shape."""
    rng = np.random.default_rng([params.seed, 2])
    merchants = merchants_place(city=city, count=params.merchants, rng=rng)
    popularity = 1.0 / np.arange(1, merchants.size + 1) ** 0.8
    popularity /= popularity.sum()
    duration_ms = params.hours * 3_600_000
    peak_rate_per_ms = params.couriers * params.orders_per_courier_hour * 1.2 / 3_600_000
    n_draw = rng.poisson(peak_rate_per_ms * duration_ms)
    t = np.sort(rng.uniform(0, duration_ms, n_draw))
    local_hour = ((start_ms + t) / 3_600_000 + city.utc_offset_h) % 24
    keep = rng.uniform(0, 1.2, n_draw) < meal_rate_shape(local_hour)
    created = (start_ms + t[keep]).astype(np.int64)
    n = created.size
    merchant = rng.choice(merchants.size, size=n, p=popularity)
    pickup = merchants[merchant]
    homes = _nodes_of(city, {"residential", "campus"})
    distance = np.clip(rng.lognormal(math.log(1800), 0.5, n), 400, 5000)
    angle = rng.uniform(0, 2 * math.pi, n)
    tx = np.clip(city.x[pickup] + distance * np.cos(angle), city.x.min(), city.x.max())
    ty = np.clip(city.y[pickup] + distance * np.sin(angle), city.y.min(), city.y.max())
    _, nearest_home = cKDTree(np.column_stack([city.x[homes], city.y[homes]])).query(
        np.column_stack([tx, ty])
    )
    home_nodes = homes[np.asarray(nearest_home, dtype=np.int64)]
    prep_ms = (np.clip(rng.lognormal(math.log(params.prep_median_min), 0.4, n), 3, 30) * 60_000).astype(
        np.int64
    )
    ready = created + prep_ms
    ride_s = city.travel_s[0][pickup, home_nodes].astype(np.float64)
    promise_ms = np.maximum(prep_ms, 8 * 60_000) + ride_s * 1000 + (params.promise_buffer_min + 5) * 60_000
    promised = created + (np.ceil(promise_ms / 60_000) * 60_000).astype(np.int64)
    return Orders(
        created_ts=created,
        ready_ts=ready,
        promised_ts=promised,
        pickup_node=pickup.astype(np.int64),
        dropoff_node=home_nodes.astype(np.int64),
        merchant=merchant.astype(np.int64),
    )


@dataclass(frozen=True)
class Trips:
    """Bike trip requests sorted by time: origin and destination area indices."""

    ts: IntArray
    origin: IntArray
    destination: IntArray


def areas_place(*, city: City, params: BikeSharingParams) -> tuple[IntArray, tuple[str, ...]]:
    """Area nodes (half residential, the rest commercial or campus) and their districts."""
    rng = np.random.default_rng([params.seed, 3])
    homes = _nodes_of(city, {"residential"})
    work = _nodes_of(city, {"commercial", "campus"})
    n_home = params.areas // 2
    nodes = np.concatenate(
        [rng.choice(homes, n_home, replace=False), rng.choice(work, params.areas - n_home, replace=False)]
    ).astype(np.int64)
    return nodes, tuple(city.district[int(n)] for n in nodes)


def bike_trips_generate(
    *,
    city: City,
    params: BikeSharingParams,
    start_ms: int,
    area_nodes: IntArray,
    area_district: tuple[str, ...],
) -> Trips:
    """Trip requests: a morning commute peak (08:15) from residential to work areas and an evening
    peak (18:00) back, over a base of trips in every direction; destinations mostly within 1-3 km."""
    rng = np.random.default_rng([params.seed, 4])
    duration_ms = params.hours * 3_600_000
    peak_rate_per_ms = params.bikes * params.trips_per_bike_hour * 2.0 / 3_600_000
    n_draw = rng.poisson(peak_rate_per_ms * duration_ms)
    t = np.sort(rng.uniform(0, duration_ms, n_draw))
    hour = ((start_ms + t) / 3_600_000 + city.utc_offset_h) % 24
    morning = np.exp(-0.5 * ((hour - 8.25) / 0.6) ** 2)
    evening = np.exp(-0.5 * ((hour - 18.0) / 0.8) ** 2)
    keep = rng.uniform(0, 2.0, n_draw) < 0.3 + 1.7 * np.maximum(morning, evening)
    t, morning, evening = t[keep], morning[keep], evening[keep]
    n = t.size
    is_home = np.array([d == "residential" for d in area_district])
    homes, works = np.flatnonzero(is_home), np.flatnonzero(~is_home)
    commute = rng.uniform(0, 1, n) < 0.85 * np.maximum(morning, evening)
    to_work = morning >= evening
    origin = rng.integers(0, area_nodes.size, n)
    origin = np.where(commute & to_work, homes[rng.integers(0, homes.size, n)], origin)
    origin = np.where(commute & ~to_work, works[rng.integers(0, works.size, n)], origin)
    ax, ay = city.x[area_nodes], city.y[area_nodes]
    dist = np.hypot(ax[origin][:, None] - ax[None, :], ay[origin][:, None] - ay[None, :])
    weight = np.exp(-dist / 1200.0) * (dist > 300)
    weight = np.where(commute[:, None] & to_work[:, None] & is_home[None, :], 0.0, weight)
    weight = np.where(commute[:, None] & ~to_work[:, None] & ~is_home[None, :], 0.0, weight)
    weight = np.where(weight.sum(axis=1, keepdims=True) > 0, weight, (dist > 300).astype(np.float64))
    cum = np.cumsum(weight, axis=1)
    pick = rng.uniform(0, 1, n) * cum[:, -1]
    destination = (cum < pick[:, None]).sum(axis=1).astype(np.int64)
    return Trips(ts=(start_ms + t).astype(np.int64), origin=origin.astype(np.int64), destination=destination)
