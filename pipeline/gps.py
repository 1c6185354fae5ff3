"""GPS fixes: columnar validation of Parquet/CSV row batches and per-row validation of JSONL GPS lines.

Both apply DESIGN §4: `entity, ts, lat, lon` required; `city, speed_mps, heading_deg, accuracy_m, dataset`
optional. The columnar path never loops in Python per row: each rule is a numpy mask, ids and names are
checked once per distinct value (dictionary encoding), and only rejected rows are turned into Python objects.
A failed row reports the first rule it breaks, in the order the rules are listed in `_RULES`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.contract import (
    RFC3339_PATTERN,
    Reject,
    TimeBounds,
    check_coordinate,
    check_dataset,
    check_id,
    check_number,
    check_short_name,
    check_ts,
    rfc3339_to_ms,
)
from storage.grammar import dataset_is_valid, id_is_valid, short_name_is_valid
from storage.tracks.types import BoolArray, FloatArray, Int32Array, Int64Array, PointBatch

#: Optional measurement columns and their allowed range.
_MEASURES: tuple[tuple[str, float, float], ...] = (
    ("speed_mps", 0.0, math.inf),
    ("heading_deg", 0.0, 360.0),
    ("accuracy_m", 0.0, math.inf),
)
_INTEGER_TEXT = re.compile(r"[+-]?\d{1,19}")
_FLOAT_TEXT = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|[+-]?(nan|NaN|inf|Infinity)")
_RFC3339_ANCHORED = "^" + RFC3339_PATTERN.pattern + "$"
UNKNOWN_CITY = "unknown"


@dataclass(frozen=True)
class GpsChunk:
    """Valid fixes of one dataset from one input batch: the PointBatch, each row's line, each row's city."""

    dataset: str
    batch: PointBatch
    lines: Int64Array
    city_names: tuple[str, ...]
    city_codes: Int32Array = field(hash=False)
    source_rows: Int64Array = field(hash=False)  # row i of the batch is row source_rows[i] of the input batch


@dataclass
class _Failures:
    """The first failed rule of each row: 0 = valid, k = rule k (1-based) of `rules`."""

    size: int
    codes: npt.NDArray[np.int16] = field(init=False)
    rules: list[tuple[str, str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.codes = np.zeros(self.size, dtype=np.int16)

    def add(self, mask: BoolArray, reason: str, column: str, message: str) -> None:
        if not mask.any():
            return
        self.rules.append((reason, column, message))
        self.codes[(self.codes == 0) & mask] = len(self.rules)


def _encoded(column: pa.ChunkedArray | pa.Array) -> tuple[list[Any], Int32Array]:
    """Distinct values and per-row codes (-1 for null) of a column."""
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if not pa.types.is_dictionary(array.type):
        array = pc.dictionary_encode(array)
    codes = pc.fill_null(array.indices, -1).to_numpy(zero_copy_only=False).astype(np.int32, copy=False)
    return array.dictionary.to_pylist(), codes


def _is_text(dtype: pa.DataType) -> bool:
    if pa.types.is_dictionary(dtype):
        dtype = dtype.value_type
    return bool(pa.types.is_string(dtype) or pa.types.is_large_string(dtype))


def _null_mask(column: pa.ChunkedArray) -> BoolArray:
    if column.null_count == 0:
        return np.zeros(len(column), dtype=np.bool_)
    return np.asarray(column.is_null().to_numpy(zero_copy_only=False), dtype=np.bool_)


def _parse_float_text(text: str) -> float:
    return float(text) if _FLOAT_TEXT.fullmatch(text) else math.nan


def _numbers(column: pa.ChunkedArray) -> tuple[FloatArray, BoolArray, BoolArray]:
    """(values with NaN where null or unparsable, null mask, unparsable mask) of a numeric or text column."""
    nulls = _null_mask(column)
    dtype = column.type
    if pa.types.is_integer(dtype) or pa.types.is_floating(dtype) or pa.types.is_decimal(dtype):
        values = pc.cast(column, pa.float64()).to_numpy().astype(np.float64, copy=False)
        return np.where(nulls, np.nan, values), nulls, np.zeros(len(nulls), dtype=np.bool_)
    if _is_text(dtype):
        try:
            values = pc.cast(column, pa.float64()).to_numpy().astype(np.float64, copy=False)
            return np.where(nulls, np.nan, values), nulls, np.zeros(len(nulls), dtype=np.bool_)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            # Some text is not a number: parse each distinct value once to find which.
            names, codes = _encoded(column)
            parsed = np.array([_parse_float_text(str(n)) for n in names] + [math.nan], dtype=np.float64)
            ok = np.array([_FLOAT_TEXT.fullmatch(str(n)) is not None for n in names] + [True], dtype=np.bool_)
            return parsed[codes], nulls, ~ok[codes]
    return np.full(len(nulls), np.nan), nulls, ~nulls


def _text_ts_to_ms(text: str) -> int | None:
    if _INTEGER_TEXT.fullmatch(text):
        # Clamped into int64 range: anything this far out is implausible anyway.
        return max(min(int(text), 9_000_000_000_000_000), -9_000_000_000_000_000)
    return rfc3339_to_ms(text)


def _epoch_ms(column: pa.ChunkedArray) -> tuple[Int64Array, BoolArray, BoolArray]:
    """(epoch ms, null mask, malformed mask) of a timestamp column of any supported type."""
    nulls = _null_mask(column)
    size = len(nulls)
    dtype = column.type
    none = np.zeros(size, dtype=np.bool_)
    if pa.types.is_integer(dtype):
        return (
            pc.fill_null(pc.cast(column, pa.int64()), 0).to_numpy().astype(np.int64, copy=False),
            nulls,
            none,
        )
    if pa.types.is_floating(dtype):
        values = pc.fill_null(pc.cast(column, pa.float64()), 0.0).to_numpy().astype(np.float64, copy=False)
        bad = ~np.isfinite(values) | (values != np.floor(values))
        clipped = np.clip(np.where(bad, 0.0, values), -9.0e15, 9.0e15)
        return clipped.astype(np.int64), nulls, bad & ~nulls
    if pa.types.is_timestamp(dtype):
        if dtype.tz is None:  # a naive time: which zone it meant is unknowable
            return np.zeros(size, dtype=np.int64), nulls, ~nulls
        as_ms = pc.cast(column, pa.timestamp("ms", tz="UTC"), safe=False)
        return pc.fill_null(as_ms.cast(pa.int64()), 0).to_numpy().astype(np.int64, copy=False), nulls, none
    if _is_text(dtype):
        try:
            as_int = pc.cast(column, pa.int64())
            return pc.fill_null(as_int, 0).to_numpy().astype(np.int64, copy=False), nulls, none
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
        try:
            if pc.all(pc.match_substring_regex(column, _RFC3339_ANCHORED)).as_py() is not False:
                as_ns = pc.cast(column, pa.timestamp("ns", tz="UTC"))
                as_ms = pc.cast(as_ns, pa.timestamp("ms", tz="UTC"), safe=False).cast(pa.int64())
                return pc.fill_null(as_ms, 0).to_numpy().astype(np.int64, copy=False), nulls, none
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
        # A mix of forms, or some malformed: parse each distinct value once.
        names, codes = _encoded(column)
        parsed = [_text_ts_to_ms(str(n)) for n in names]
        ms = np.array([0 if p is None else p for p in parsed] + [0], dtype=np.int64)
        ok = np.array([p is not None for p in parsed] + [True], dtype=np.bool_)
        return ms[codes], nulls, ~ok[codes]
    return np.zeros(size, dtype=np.int64), nulls, ~nulls


def _names(column: pa.ChunkedArray, valid: Any) -> tuple[list[Any], Int32Array, BoolArray, BoolArray]:
    """(distinct values, codes, null mask, invalid mask) of a name column checked by `valid` per value."""
    if not _is_text(column.type):
        nulls = _null_mask(column)
        return [], np.full(len(nulls), -1, dtype=np.int32), nulls, ~nulls
    values, codes = _encoded(column)
    good = np.array([bool(valid(v)) for v in values] + [True], dtype=np.bool_)
    return values, codes, codes < 0, ~good[codes]


def gps_table_validate(
    table: pa.Table, *, lines: Int64Array, default_dataset: str, bounds: TimeBounds
) -> tuple[list[GpsChunk], list[Reject]]:
    """Split a batch of GPS rows into valid fixes per dataset and rejects; `lines[i]` is row i's line."""
    size = table.num_rows
    names = set(table.column_names)
    fails = _Failures(size)
    everything = np.ones(size, dtype=np.bool_)

    dataset_values: list[Any] = [default_dataset]
    dataset_codes = np.zeros(size, dtype=np.int32)
    if "dataset" in names:
        dataset_values, dataset_codes, nulls, bad = _names(table.column("dataset"), dataset_is_valid)
        fails.add(bad & ~nulls, "bad_dataset", "dataset", "is not a dataset name")
        dataset_values = [*dataset_values, default_dataset]
        dataset_codes = np.where(nulls, len(dataset_values) - 1, dataset_codes).astype(np.int32)

    entity_values: list[Any] = []
    entity_codes = np.full(size, -1, dtype=np.int32)
    if "entity" in names:
        entity_values, entity_codes, nulls, bad = _names(table.column("entity"), id_is_valid)
        fails.add(nulls, "missing_field", "entity", "is required")
        fails.add(bad & ~nulls, "bad_id", "entity", "is not kind:id")
    else:
        fails.add(everything, "missing_field", "entity", "is required")

    ts = np.zeros(size, dtype=np.int64)
    if "ts" in names:
        ts, nulls, bad = _epoch_ms(table.column("ts"))
        fails.add(nulls, "missing_field", "ts", "is required")
        fails.add(bad & ~nulls, "bad_timestamp", "ts", "is not integer epoch ms or RFC 3339 with an offset")
        fails.add(
            (ts < bounds.start_ms) | (ts > bounds.end_ms),
            "implausible_timestamp",
            "ts",
            "is outside 2000-01-01 .. now + 1 day",
        )
    else:
        fails.add(everything, "missing_field", "ts", "is required")

    coordinates: dict[str, FloatArray] = {}
    for name, limit in (("lat", 90.0), ("lon", 180.0)):
        if name not in names:
            fails.add(everything, "missing_field", name, "is required")
            coordinates[name] = np.zeros(size, dtype=np.float64)
            continue
        values, nulls, bad = _numbers(table.column(name))
        fails.add(nulls, "missing_field", name, "is required")
        with np.errstate(invalid="ignore"):
            outside = ~(np.abs(values) <= limit)
        fails.add(
            (bad | outside) & ~nulls, "bad_coordinate", name, f"is not a number in [-{limit:g}, {limit:g}]"
        )
        coordinates[name] = values

    city_values: list[Any] = []
    city_codes = np.full(size, -1, dtype=np.int32)
    if "city" in names:
        city_values, city_codes, nulls, bad = _names(table.column("city"), short_name_is_valid)
        fails.add(bad & ~nulls, "bad_city", "city", "is not a short name [A-Za-z0-9_-]{1,32}")

    measures: dict[str, FloatArray] = {}
    for name, low, high in _MEASURES:
        if name not in names:
            continue
        values, nulls, bad = _numbers(table.column(name))
        with np.errstate(invalid="ignore"):
            outside = ~((values >= low) & (values <= high))
        fails.add(
            (bad | outside) & ~nulls, "bad_value", name, f"is not a finite number in [{low:g}, {high:g}]"
        )
        measures[name] = values

    rejects = _rejects(table, fails, lines)
    valid = fails.codes == 0
    chunks: list[GpsChunk] = []
    groups = np.flatnonzero(np.bincount(dataset_codes[valid], minlength=len(dataset_values)))
    for code in groups.tolist():
        rows = np.flatnonzero(valid) if len(groups) == 1 else np.flatnonzero(valid & (dataset_codes == code))
        chunks.append(
            _chunk(
                dataset=str(dataset_values[int(code)]),
                rows=rows,
                entity_values=entity_values,
                entity_codes=entity_codes,
                ts=ts,
                coordinates=coordinates,
                measures=measures,
                city_values=city_values,
                city_codes=city_codes,
                lines=lines,
            )
        )
    return chunks, rejects


def _compact(values: list[Any], codes: Int32Array) -> tuple[tuple[str, ...], Int32Array]:
    """Names actually used by `codes` (-1 → UNKNOWN_CITY), and codes into them."""
    present = np.bincount(codes + 1, minlength=len(values) + 1) > 0
    used = np.flatnonzero(present) - 1
    names = tuple(UNKNOWN_CITY if u < 0 else str(values[int(u)]) for u in used.tolist())
    if not present[0] and len(used) == len(values):
        return names, codes.astype(np.int32, copy=False)  # every name used: codes already index them
    lookup = np.zeros(len(values) + 1, dtype=np.int32)
    lookup[used] = np.arange(len(used), dtype=np.int32)
    return names, lookup[codes]


def _chunk(
    *,
    dataset: str,
    rows: Int64Array,
    entity_values: list[Any],
    entity_codes: Int32Array,
    ts: Int64Array,
    coordinates: dict[str, FloatArray],
    measures: dict[str, FloatArray],
    city_values: list[Any],
    city_codes: Int32Array,
    lines: Int64Array,
) -> GpsChunk:
    whole = len(rows) == len(ts)

    def pick(array: Any) -> Any:
        return array if whole else array[rows]

    entity_names, entity_index = _compact(entity_values, pick(entity_codes))
    city_names, city_index = _compact(city_values, pick(city_codes))
    batch = PointBatch(
        entity_names=entity_names,
        entity_codes=entity_index,
        ts=pick(ts),
        lat=pick(coordinates["lat"]),
        lon=pick(coordinates["lon"]),
        speed_mps=pick(measures["speed_mps"]) if "speed_mps" in measures else None,
        heading_deg=pick(measures["heading_deg"]) if "heading_deg" in measures else None,
        accuracy_m=pick(measures["accuracy_m"]) if "accuracy_m" in measures else None,
    )
    return GpsChunk(
        dataset=dataset,
        batch=batch,
        lines=pick(lines),
        city_names=city_names,
        city_codes=city_index,
        source_rows=rows,
    )


def _rejects(table: pa.Table, fails: _Failures, lines: Int64Array) -> list[Reject]:
    failed = np.flatnonzero(fails.codes)
    if len(failed) == 0:
        return []
    raw_rows = table.take(pa.array(failed)).to_pylist()
    rejects: list[Reject] = []
    for index, raw in zip(failed.tolist(), raw_rows, strict=True):
        reason, column, message = fails.rules[int(fails.codes[index]) - 1]
        detail = f"{column} {message}" if raw.get(column) is None else f"{column} {raw[column]!r} {message}"
        rejects.append(Reject(line=int(lines[index]), reason=reason, detail=detail, row=raw))
    return rejects


# --- JSONL GPS rows -----------------------------------------------------------------------------------


@dataclass
class GpsRowBuffer:
    """Collects validated JSONL GPS rows per dataset and turns them into GpsChunks."""

    columns: dict[str, tuple[list[Any], ...]] = field(default_factory=dict)

    def add(self, row: dict[str, Any], *, line: int, default_dataset: str, bounds: TimeBounds) -> None:
        """Validate one JSONL GPS row and keep it; raises RowError naming its first problem."""
        dataset_value = row.get("dataset")
        dataset = default_dataset if dataset_value is None else check_dataset(dataset_value)
        entity = check_id(row.get("entity"), "entity")
        ts = check_ts(row.get("ts"), "ts", bounds)
        lat = check_coordinate(row.get("lat"), "lat", 90.0)
        lon = check_coordinate(row.get("lon"), "lon", 180.0)
        city_value = row.get("city")
        city = UNKNOWN_CITY if city_value is None else check_short_name(city_value, "city", "bad_city")
        measured = []
        for name, low, high in _MEASURES:
            value = row.get(name)
            measured.append(
                math.nan if value is None else check_number(value, name, minimum=low, maximum=high)
            )
        columns = self.columns.get(dataset)
        if columns is None:
            columns = self.columns[dataset] = tuple([] for _ in range(10))
        for column, value in zip(columns, (entity, ts, lat, lon, *measured, city, line, row), strict=True):
            column.append(value)

    def __len__(self) -> int:
        return sum(len(columns[0]) for columns in self.columns.values())

    def chunks(self) -> list[tuple[GpsChunk, list[Any]]]:
        """One GpsChunk per dataset of the rows added so far, with the raw rows its source_rows index."""
        out: list[tuple[GpsChunk, list[Any]]] = []
        for dataset, (
            entity,
            ts,
            lat,
            lon,
            speed,
            heading,
            accuracy,
            city,
            line,
            raw,
        ) in self.columns.items():
            entity_values, entity_codes = _encoded(pa.array(entity, pa.string()))
            city_values, city_codes = _encoded(pa.array(city, pa.string()))
            measures: dict[str, FloatArray] = {}
            for (name, _, _), values in zip(_MEASURES, (speed, heading, accuracy), strict=True):
                if any(name in r for r in raw):
                    measures[name] = np.array(values, dtype=np.float64)
            chunk = _chunk(
                dataset=dataset,
                rows=np.arange(len(ts), dtype=np.int64),
                entity_values=entity_values,
                entity_codes=entity_codes,
                ts=np.array(ts, dtype=np.int64),
                coordinates={"lat": np.array(lat, dtype=np.float64), "lon": np.array(lon, dtype=np.float64)},
                measures=measures,
                city_values=city_values,
                city_codes=city_codes,
                lines=np.array(line, dtype=np.int64),
            )
            out.append((chunk, raw))
        return out


def gps_row_is_fix(row: dict[str, Any]) -> bool:
    """True when a JSONL object without an event type is meant as a GPS row (it has lat or lon)."""
    return "lat" in row or "lon" in row
