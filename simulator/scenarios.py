"""Scenario parameters: typed, validated, one frozen dataclass per scenario.

Every numeric parameter has a valid range in `PARAMETER_RANGES`; `scenario_params_build` checks all of them at
once and raises one `ScenarioError` that lists every bad value next to its valid range.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

ScenarioName = Literal["food-delivery", "bike-sharing"]
SCENARIO_NAMES: tuple[ScenarioName, ...] = ("food-delivery", "bike-sharing")
SCENARIO_DESCRIPTIONS: dict[str, str] = {
    "food-delivery": "couriers on e-bikes carry several meal orders; lunch peak; river with few bridges",
    "bike-sharing": "shared bikes on commute trips; areas run dry at the morning peak; trucks rebalance",
}


class ScenarioError(ValueError):
    """Invalid scenario parameters; the message lists every bad value and the valid ranges."""


@dataclass(frozen=True)
class CityParams:
    """The generated city (ignored when a GeoJSON road graph is given)."""

    name: str = "riverside"
    width_km: float = 8.0
    height_km: float = 8.0
    spacing_m: float = 250.0
    bridges: int = 3
    origin_lat: float = 31.20
    origin_lon: float = 121.40
    utc_offset_h: int = 8


@dataclass(frozen=True)
class GpsParams:
    """GPS sampling and noise."""

    hz: float = 1.0
    jitter_m: float = 5.0
    jumps_per_hour: float = 1.0
    jump_min_m: float = 100.0
    jump_max_m: float = 500.0
    dropouts_per_hour: float = 2.0
    stale_per_hour: float = 3.0
    parked_report_s: float = 300.0


@dataclass(frozen=True)
class FoodDeliveryParams:
    """Food delivery: couriers, meal orders with preparation and promised times, dispatch rounds."""

    scenario: ClassVar[ScenarioName] = "food-delivery"
    seed: int = 1
    hours: float = 2.0
    couriers: int = 300
    start_local_hour: float = 11.0
    orders_per_courier_hour: float = 2.3
    merchants: int = 400
    round_interval_s: int = 30
    search_radius_km: float = 4.0
    capacity: int = 3
    decline_base: float = 0.03
    prep_median_min: float = 10.0
    promise_buffer_min: float = 8.0
    eta_budget: int = 50_000
    cancel_after_min: float = 45.0
    late_shift_share: float = 0.1
    city: CityParams = CityParams()
    gps: GpsParams = GpsParams()


@dataclass(frozen=True)
class BikeSharingParams:
    """Bike sharing: commute trips between areas, rebalancing tasks dispatched to trucks."""

    scenario: ClassVar[ScenarioName] = "bike-sharing"
    seed: int = 1
    hours: float = 2.0
    bikes: int = 600
    trucks: int = 6
    areas: int = 24
    start_local_hour: float = 7.0
    trips_per_bike_hour: float = 0.5
    round_interval_s: int = 60
    search_radius_km: float = 10.0
    low_stock: int = 2
    truck_load: int = 10
    eta_budget: int = 50_000
    city: CityParams = CityParams()
    gps: GpsParams = GpsParams()


ScenarioParams = FoodDeliveryParams | BikeSharingParams
#: Each scenario's parameters class, by scenario name.
SCENARIO_PARAMS: dict[str, type[ScenarioParams]] = {
    p.scenario: p for p in (FoodDeliveryParams, BikeSharingParams)
}

#: (minimum, maximum) of every numeric parameter, by field name (nested ones as `city.x`, `gps.x`).
PARAMETER_RANGES: dict[str, tuple[float, float]] = {
    "seed": (0, 2**31 - 1),
    "hours": (0.1, 24),
    "couriers": (1, 20_000),
    "bikes": (1, 50_000),
    "trucks": (1, 500),
    "areas": (4, 200),
    "start_local_hour": (0, 23.99),
    "orders_per_courier_hour": (0.1, 10),
    "trips_per_bike_hour": (0.01, 5),
    "merchants": (1, 20_000),
    "round_interval_s": (5, 600),
    "search_radius_km": (0.2, 50),
    "capacity": (1, 10),
    "decline_base": (0, 0.5),
    "prep_median_min": (1, 60),
    "promise_buffer_min": (0, 120),
    "eta_budget": (1, 100_000_000),
    "cancel_after_min": (5, 600),
    "late_shift_share": (0, 0.9),
    "low_stock": (0, 100),
    "truck_load": (1, 100),
    "city.width_km": (1, 60),
    "city.height_km": (1, 60),
    "city.spacing_m": (50, 2000),
    "city.bridges": (1, 20),
    "city.origin_lat": (-80, 80),
    "city.origin_lon": (-180, 180),
    "city.utc_offset_h": (-12, 14),
    "gps.hz": (0.01, 10),
    "gps.jitter_m": (0, 100),
    "gps.jumps_per_hour": (0, 60),
    "gps.jump_min_m": (0, 5000),
    "gps.jump_max_m": (0, 5000),
    "gps.dropouts_per_hour": (0, 60),
    "gps.stale_per_hour": (0, 60),
    "gps.parked_report_s": (1, 3600),
}


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _ranges_text(prefix: str, params: Any) -> list[str]:
    lines: list[str] = []
    for f in dataclasses.fields(params):
        key = f"{prefix}{f.name}"
        if key in PARAMETER_RANGES:
            low, high = PARAMETER_RANGES[key]
            lines.append(f"  {key}: {_fmt(low)}..{_fmt(high)}")
        elif dataclasses.is_dataclass(getattr(params, f.name)):
            lines.extend(_ranges_text(f"{f.name}.", getattr(params, f.name)))
    return lines


def _problems(prefix: str, params: Any) -> list[str]:
    problems: list[str] = []
    for f in dataclasses.fields(params):
        key = f"{prefix}{f.name}"
        value = getattr(params, f.name)
        if dataclasses.is_dataclass(value):
            problems.extend(_problems(f"{f.name}.", value))
        elif key in PARAMETER_RANGES:
            low, high = PARAMETER_RANGES[key]
            if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
                problems.append(f"{key}={value!r} (valid {_fmt(low)}..{_fmt(high)})")
    return problems


def _convert(current: Any, raw: Any) -> Any:
    if isinstance(raw, str):
        try:
            return int(raw) if isinstance(current, int) else float(raw)
        except ValueError:
            return raw  # reported as a problem by the range check
    return raw


def scenario_params_build(*, name: str, overrides: dict[str, Any] | None = None) -> ScenarioParams:
    """Validated parameters of scenario `name` with `overrides` (keys like `couriers` or `gps.hz`) applied."""
    if name not in SCENARIO_NAMES:
        raise ScenarioError(f"unknown scenario {name!r}; valid scenarios: {', '.join(SCENARIO_NAMES)}")
    base: ScenarioParams = SCENARIO_PARAMS[name]()
    top: dict[str, Any] = {}
    nested: dict[str, dict[str, Any]] = {"city": {}, "gps": {}}
    unknown: list[str] = []
    for key, raw in (overrides or {}).items():
        group, _, field_name = key.rpartition(".")
        holder = getattr(base, group) if group in nested else base if not group else None
        if holder is None or field_name not in {f.name for f in dataclasses.fields(holder)}:
            unknown.append(key)
            continue
        value = _convert(getattr(holder, field_name), raw)
        (nested[group] if group else top)[field_name] = value
    for group, values in nested.items():
        if values:
            top[group] = dataclasses.replace(getattr(base, group), **values)
    params = dataclasses.replace(base, **top)
    problems = [f"unknown parameter {key!r}" for key in unknown] + _problems("", params)
    if params.gps.jump_min_m > params.gps.jump_max_m:
        problems.append("gps.jump_min_m must not exceed gps.jump_max_m")
    if problems:
        raise ScenarioError(
            f"invalid parameters for scenario {name!r}: "
            + "; ".join(problems)
            + "\nvalid ranges:\n"
            + "\n".join(_ranges_text("", params))
        )
    return params
