"""Reads of the SQL warehouse for the dashboard's pages, each answer labelled with its engine and time.

Values cross into templates as frozen dataclasses: SQL NULL (pandas NA/NaN) becomes None, times stay int
epoch milliseconds UTC. A WarehouseError becomes the answer's `error` so a page can say what failed and
still render; any other exception is a bug and propagates.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import pandas as pd

from storage.connections import warehouses
from storage.warehouse.base import WarehouseError

T = TypeVar("T")


@dataclass(frozen=True)
class WarehouseAnswer(Generic[T]):
    """A warehouse read: its value (None when it failed), which engine ran it, how long it took, and why
    it failed (`error`, the WarehouseError's message) if it did."""

    value: T | None
    engine: str
    elapsed_ms: float
    error: str | None = None


@dataclass(frozen=True)
class DatasetTotals:
    """What the warehouse holds of one dataset: distinct jobs, job events, dispatch rounds, candidates."""

    dataset: str
    jobs: int
    events: int
    rounds: int
    candidates: int


@dataclass(frozen=True)
class JobOutcome:
    """One job's row of the warehouse's `jobs` view (times epoch ms UTC; None where the logs say nothing)."""

    dataset: str
    job: str
    city: str | None
    zone: str | None
    kind: str | None
    created_ts: int | None
    ready_ts: int | None
    promised_ts: int | None
    assigned_ts: int | None
    accepted_ts: int | None
    picked_up_ts: int | None
    delivered_ts: int | None
    cancelled_ts: int | None
    entity: str | None
    waybills: int
    rejections: int
    pickup_lat: float | None
    pickup_lon: float | None
    dropoff_lat: float | None
    dropoff_lon: float | None
    distance_m: float | None
    delivery_s: float | None
    late: bool | None

    @property
    def distance_km(self) -> float | None:
        """The straight-line pickup → dropoff distance in kilometres."""
        return None if self.distance_m is None else self.distance_m / 1000

    @property
    def delivery_ms(self) -> int | None:
        """Creation to delivery in milliseconds, for the duration filters."""
        return None if self.delivery_s is None else round(self.delivery_s * 1000)


def _cell(value: Any) -> Any:
    """A frame cell as a plain Python value: NA/NaN → None, numpy scalars → int/float/bool/str."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):  # numpy scalar
        value = value.item()
        if isinstance(value, float) and math.isnan(value):
            return None
    return value


def _optional_int(value: Any) -> int | None:
    plain = _cell(value)
    return None if plain is None else int(plain)


def _optional_float(value: Any) -> float | None:
    plain = _cell(value)
    return None if plain is None else float(plain)


def _optional_str(value: Any) -> str | None:
    plain = _cell(value)
    return None if plain is None else str(plain)


def _optional_bool(value: Any) -> bool | None:
    plain = _cell(value)
    return None if plain is None else bool(plain)


def _answer_read(
    name: str, params: Mapping[str, Any], convert: Callable[[pd.DataFrame], T]
) -> WarehouseAnswer[T]:
    """Run the named query on the default warehouse; a WarehouseError becomes the answer's `error`."""
    engine = ""
    started = time.perf_counter()
    try:
        warehouse = warehouses["default"]
        engine = warehouse.engine
        result = warehouse.query(name, **params)
    except WarehouseError as exc:
        elapsed = (time.perf_counter() - started) * 1000
        return WarehouseAnswer(value=None, engine=engine, elapsed_ms=elapsed, error=str(exc))
    return WarehouseAnswer(value=convert(result.frame), engine=result.engine, elapsed_ms=result.elapsed_ms)


def _totals_from_frame(frame: pd.DataFrame) -> list[DatasetTotals]:
    return [
        DatasetTotals(
            dataset=str(row["dataset"]),
            jobs=_optional_int(row["jobs"]) or 0,
            events=_optional_int(row["events"]) or 0,
            rounds=_optional_int(row["rounds"]) or 0,
            candidates=_optional_int(row["candidates"]) or 0,
        )
        for row in frame.to_dict("records")
    ]


def _outcome_from_frame(frame: pd.DataFrame) -> JobOutcome | None:
    if frame.empty:
        return None
    row = frame.iloc[0]
    return JobOutcome(
        dataset=str(row["dataset"]),
        job=str(row["job"]),
        city=_optional_str(row["city"]),
        zone=_optional_str(row["zone"]),
        kind=_optional_str(row["kind"]),
        created_ts=_optional_int(row["created_ts"]),
        ready_ts=_optional_int(row["ready_ts"]),
        promised_ts=_optional_int(row["promised_ts"]),
        assigned_ts=_optional_int(row["assigned_ts"]),
        accepted_ts=_optional_int(row["accepted_ts"]),
        picked_up_ts=_optional_int(row["picked_up_ts"]),
        delivered_ts=_optional_int(row["delivered_ts"]),
        cancelled_ts=_optional_int(row["cancelled_ts"]),
        entity=_optional_str(row["entity"]),
        waybills=_optional_int(row["waybills"]) or 0,
        rejections=_optional_int(row["rejections"]) or 0,
        pickup_lat=_optional_float(row["pickup_lat"]),
        pickup_lon=_optional_float(row["pickup_lon"]),
        dropoff_lat=_optional_float(row["dropoff_lat"]),
        dropoff_lon=_optional_float(row["dropoff_lon"]),
        distance_m=_optional_float(row["distance_m"]),
        delivery_s=_optional_float(row["delivery_s"]),
        late=_optional_bool(row["late"]),
    )


def warehouse_overview() -> WarehouseAnswer[list[DatasetTotals]]:
    """Per dataset the warehouse holds: jobs, events, rounds and candidates (query `dataset_counts`)."""
    return _answer_read("dataset_counts", {}, _totals_from_frame)


def job_outcome(*, dataset: str, job: str) -> WarehouseAnswer[JobOutcome | None]:
    """The job's row of the `jobs` view (query `job_row`); value None when the warehouse has no such job."""
    return _answer_read("job_row", {"dataset": dataset, "job": job}, _outcome_from_frame)
