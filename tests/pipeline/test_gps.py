"""Columnar GPS validation (Parquet/CSV batches) and JSONL GPS rows."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from pipeline.contract import RowError, TimeBounds
from pipeline.gps import GpsRowBuffer, gps_table_validate
from tests.pipeline.conftest import T0

BOUNDS = TimeBounds(start_ms=946_684_800_000, end_ms=T0 + 86_400_000)


def validate(columns: dict[str, Any], dataset: str = "default") -> tuple[list[Any], list[Any]]:
    table = pa.table(columns)
    lines = np.arange(2, table.num_rows + 2, dtype=np.int64)
    return gps_table_validate(table, lines=lines, default_dataset=dataset, bounds=BOUNDS)


GOOD = {"entity": "courier:1", "ts": T0, "lat": 40.7, "lon": -74.0}


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"entity": None}, "missing_field"),
        ({"entity": "courier 1"}, "bad_id"),
        ({"ts": None}, "missing_field"),
        ({"ts": 1_700_000_000}, "implausible_timestamp"),
        ({"lat": None}, "missing_field"),
        ({"lat": 90.5}, "bad_coordinate"),
        ({"lon": -181.0}, "bad_coordinate"),
        ({"lat": float("nan")}, "bad_coordinate"),
        ({"lon": float("inf")}, "bad_coordinate"),
        ({"city": "New York"}, "bad_city"),
        ({"dataset": "a/b"}, "bad_dataset"),
        ({"speed_mps": -1.0}, "bad_value"),
        ({"heading_deg": 361.0}, "bad_value"),
        ({"accuracy_m": float("nan")}, "bad_value"),
    ],
)
def test_a_broken_fix_is_rejected_with_its_reason_and_line(change: dict[str, Any], reason: str) -> None:
    rows = [GOOD, {**GOOD, "ts": T0 + 1000, **change}, {**GOOD, "ts": T0 + 2000}]
    names = sorted({k for row in rows for k in row})
    columns = {name: [row.get(name, GOOD.get(name)) for row in rows] for name in names}
    for name in ("city", "dataset", "speed_mps", "heading_deg", "accuracy_m"):
        if name in columns:  # optional columns: only the changed row has a value
            columns[name] = [row.get(name) for row in rows]
    chunks, rejects = validate(columns)
    assert [(r.line, r.reason) for r in rejects] == [(3, reason)]
    assert rejects[0].row["entity"] == rows[1]["entity"]
    assert sum(len(c.batch) for c in chunks) == 2


def test_a_missing_required_column_rejects_every_row() -> None:
    chunks, rejects = validate({"entity": ["courier:1"], "ts": [T0], "lat": [1.0]})
    assert chunks == []
    assert [(r.reason, r.detail) for r in rejects] == [("missing_field", "lon is required")]


def test_entities_are_dictionary_encoded_and_unused_names_dropped() -> None:
    chunks, rejects = validate(
        {
            "entity": ["courier:c1", "courier:c10", "bad id", "courier:c1"],
            "ts": [T0, T0, T0, T0 + 1000],
            "lat": [1.0, 2.0, 3.0, 4.0],
            "lon": [1.0, 2.0, 3.0, 4.0],
        }
    )
    (chunk,) = chunks
    batch = chunk.batch
    assert len(rejects) == 1
    assert [batch.entity_names[c] for c in batch.entity_codes] == ["courier:c1", "courier:c10", "courier:c1"]
    assert set(batch.entity_names) == {"courier:c1", "courier:c10"}
    assert batch.entity_codes.dtype == np.int32
    assert chunk.lines.tolist() == [2, 3, 5]
    assert chunk.source_rows.tolist() == [0, 1, 3]


def test_text_columns_as_from_csv_are_parsed_and_bad_text_rejected() -> None:
    chunks, rejects = validate(
        {
            "entity": ["courier:1", "courier:1", "courier:1", "courier:1"],
            "ts": ["1700000000000", "2023-11-14T22:13:21+00:00", "2023-11-14T22:13:22", "1700000003000"],
            "lat": ["40.7", "40.8", "40.9", "north"],
            "lon": ["-74", "-74.1", "-74.2", "-74.3"],
        }
    )
    (chunk,) = chunks
    assert chunk.batch.ts.tolist() == [T0, T0 + 1000]
    assert chunk.batch.lat.tolist() == [40.7, 40.8]
    assert [(r.line, r.reason) for r in rejects] == [(4, "bad_timestamp"), (5, "bad_coordinate")]


def test_absurd_text_times_are_implausible_not_a_crash() -> None:
    chunks, rejects = validate(
        {
            "entity": ["courier:1", "courier:1"],
            "ts": ["9999999999999999999", "1700000000000"],
            "lat": ["1.0", "1.0"],
            "lon": ["2.0", "2.0"],
        }
    )
    assert [(r.line, r.reason) for r in rejects] == [(2, "implausible_timestamp")]
    assert chunks[0].batch.ts.tolist() == [T0]


def test_all_rfc3339_text_times_take_the_vectorised_path() -> None:
    chunks, rejects = validate(
        {
            "entity": ["courier:1", "courier:2"],
            "ts": ["2023-11-14T22:13:20.5Z", "2023-11-15T00:13:20+02:00"],
            "lat": [1.0, 2.0],
            "lon": [1.0, 2.0],
        }
    )
    assert rejects == []
    assert chunks[0].batch.ts.tolist() == [T0 + 500, T0]


def test_parquet_timestamp_columns_need_a_time_zone() -> None:
    aware = pa.array([T0, T0 + 1000], pa.timestamp("ms", tz="Europe/Berlin"))
    chunks, rejects = validate(
        {"entity": ["courier:1"] * 2, "ts": aware, "lat": [1.0, 2.0], "lon": [1.0, 2.0]}
    )
    assert rejects == []
    assert chunks[0].batch.ts.tolist() == [T0, T0 + 1000]
    naive = pa.array([T0], pa.timestamp("ms"))
    _, rejects = validate({"entity": ["courier:1"], "ts": naive, "lat": [1.0], "lon": [1.0]})
    assert [r.reason for r in rejects] == ["bad_timestamp"]


def test_float_times_must_be_integral() -> None:
    chunks, rejects = validate(
        {"entity": ["courier:1"] * 2, "ts": [float(T0), T0 + 0.5], "lat": [1.0, 2.0], "lon": [1.0, 2.0]}
    )
    assert chunks[0].batch.ts.tolist() == [T0]
    assert [r.reason for r in rejects] == ["bad_timestamp"]


def test_rows_are_grouped_by_their_dataset_column_with_the_default_for_nulls() -> None:
    chunks, rejects = validate(
        {
            "entity": ["courier:1", "courier:2", "courier:3"],
            "ts": [T0, T0, T0],
            "lat": [1.0, 2.0, 3.0],
            "lon": [1.0, 2.0, 3.0],
            "dataset": ["sim-a", None, "sim-a"],
        },
        dataset="prod",
    )
    assert rejects == []
    by_dataset = {c.dataset: c.lines.tolist() for c in chunks}
    assert by_dataset == {"sim-a": [2, 4], "prod": [3]}


def test_optional_measures_keep_nan_where_absent_and_cities_default_to_unknown() -> None:
    chunks, _ = validate(
        {
            "entity": ["courier:1", "courier:1"],
            "ts": [T0, T0 + 1000],
            "lat": [1.0, 2.0],
            "lon": [1.0, 2.0],
            "speed_mps": [3.5, None],
            "city": ["nyc", None],
        }
    )
    (chunk,) = chunks
    assert chunk.batch.speed_mps is not None
    assert chunk.batch.speed_mps[0] == 3.5
    assert np.isnan(chunk.batch.speed_mps[1])
    assert chunk.batch.heading_deg is None
    assert [chunk.city_names[c] for c in chunk.city_codes] == ["nyc", "unknown"]


def test_jsonl_gps_rows_use_the_same_rules() -> None:
    buffer = GpsRowBuffer()
    buffer.add({**GOOD, "speed_mps": 2}, line=1, default_dataset="d", bounds=BOUNDS)
    buffer.add(
        {**GOOD, "ts": "2023-11-14T22:13:21Z", "dataset": "e"}, line=2, default_dataset="d", bounds=BOUNDS
    )
    with pytest.raises(RowError) as caught:
        buffer.add({**GOOD, "lat": 95}, line=3, default_dataset="d", bounds=BOUNDS)
    assert caught.value.reason == "bad_coordinate"
    chunks = {chunk.dataset: chunk for chunk, _ in buffer.chunks()}
    assert set(chunks) == {"d", "e"}
    assert chunks["e"].batch.ts.tolist() == [T0 + 1000]
    assert chunks["d"].batch.speed_mps is not None
    assert chunks["e"].batch.speed_mps is None
