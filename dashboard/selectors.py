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

from playback.selectors import IncidentRow
from playback.services import incident_describe
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


def optional_int(value: Any) -> int | None:
    """A frame cell as an int, or None for SQL NULL."""
    plain = _cell(value)
    return None if plain is None else int(plain)


def optional_float(value: Any) -> float | None:
    """A frame cell as a float, or None for SQL NULL."""
    plain = _cell(value)
    return None if plain is None else float(plain)


def optional_str(value: Any) -> str | None:
    """A frame cell as a str, or None for SQL NULL."""
    plain = _cell(value)
    return None if plain is None else str(plain)


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
            jobs=optional_int(row["jobs"]) or 0,
            events=optional_int(row["events"]) or 0,
            rounds=optional_int(row["rounds"]) or 0,
            candidates=optional_int(row["candidates"]) or 0,
        )
        for row in frame.to_dict("records")
    ]


def warehouse_overview() -> WarehouseAnswer[list[DatasetTotals]]:
    """Per dataset the warehouse holds: jobs, events, rounds and candidates (query `dataset_counts`)."""
    return _answer_read("dataset_counts", {}, _totals_from_frame)


#: Incident kinds the warehouse finds on any dataset; the others come only from simulator manifests.
FOUND_KINDS = frozenset({"late", "redispatched", "gps_jump", "stale_fix"})


def _found_from_frame(frame: pd.DataFrame) -> list[IncidentRow]:
    rows: list[IncidentRow] = []
    for row in frame.to_dict("records"):
        kind = str(row["kind"])
        magnitude = optional_float(row["magnitude"]) or 0.0
        entity = optional_str(row["entity"])
        job = optional_str(row["job"])
        item = {
            "kind": kind,
            "entity": entity,
            "jobs": [job] if job else [],
            "late_s": round(magnitude),
            "rejections": round(magnitude),
            "jump_m": round(magnitude),
            "age_s": round(magnitude),
        }
        rows.append(
            IncidentRow(
                dataset=str(row["dataset"]),
                kind=kind,
                ts=optional_int(row["ts"]) or 0,
                jobs=(job,) if job else (),
                entity=entity,
                description=incident_describe(item),
                rank=(optional_int(row["rank"]) or 1) - 1,
            )
        )
    return rows


def incidents_found() -> WarehouseAnswer[list[IncidentRow]]:
    """The worst few late, re-dispatched, GPS-jump and stale-fix incidents of every dataset (query
    `incidents_found`), from the facts alone."""
    return _answer_read("incidents_found", {}, _found_from_frame)
