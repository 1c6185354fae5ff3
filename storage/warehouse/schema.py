"""The fact tables' file columns: what the pipeline writes and every warehouse backend reads.

Layout: `<root>/<table>/dataset=<ds>/dt=<YYYY-MM-DD>/city=<city>/part-<hash>.parquet`. The partition columns
(`dataset`, `dt`, `city`) live only in the path and read back as VARCHAR; the files hold the columns below.
Times are int64 epoch milliseconds UTC; JSON payloads (`attrs`, `features`) are stored as text.
"""

from __future__ import annotations

import pyarrow as pa

#: Hive partition columns, outermost first; always VARCHAR, never stored inside the files.
PARTITION_COLUMNS: tuple[str, ...] = ("dataset", "dt", "city")


def _schema(*fields: tuple[str, pa.DataType, bool]) -> pa.Schema:
    return pa.schema([pa.field(name, dtype, nullable=nullable) for name, dtype, nullable in fields])


# (name, type, nullable): a non-nullable column rejects nulls at write time.
TABLE_SCHEMAS: dict[str, pa.Schema] = {
    "job_events": _schema(
        ("event_id", pa.string(), False),
        ("type", pa.string(), False),
        ("job", pa.string(), False),
        ("ts", pa.int64(), False),
        ("entity", pa.string(), True),
        ("round", pa.string(), True),
        ("waybill", pa.string(), True),
        ("reason", pa.string(), True),
        ("kind", pa.string(), True),
        ("zone", pa.string(), True),
        ("pickup_lat", pa.float64(), True),
        ("pickup_lon", pa.float64(), True),
        ("dropoff_lat", pa.float64(), True),
        ("dropoff_lon", pa.float64(), True),
        ("promised_ts", pa.int64(), True),
        ("ready_ts", pa.int64(), True),
        ("attrs", pa.string(), True),
    ),
    "rounds": _schema(
        ("round", pa.string(), False),
        ("ts", pa.int64(), False),
        ("strategy", pa.string(), False),
        ("strategy_version", pa.string(), True),
        ("latency_ms", pa.float64(), True),
        ("n_jobs", pa.int32(), False),
        ("n_candidates", pa.int32(), False),
        ("n_assignments", pa.int32(), False),
        ("n_postponed", pa.int32(), False),
        ("n_excluded", pa.int32(), False),
    ),
    "candidates": _schema(
        ("round", pa.string(), False),
        ("ts", pa.int64(), False),
        ("job", pa.string(), False),
        ("entity", pa.string(), False),
        ("score", pa.float64(), True),
        ("eta_s", pa.float64(), True),
        ("distance_m", pa.float64(), True),
        ("assigned", pa.bool_(), False),
        ("features", pa.string(), True),
        # The fix the dispatcher used for this candidate (entity_pos), when the round logged it.
        ("pos_ts", pa.int64(), True),
        ("pos_lat", pa.float64(), True),
        ("pos_lon", pa.float64(), True),
    ),
    "entity_states": _schema(
        ("event_id", pa.string(), False),
        ("entity", pa.string(), False),
        ("ts", pa.int64(), False),
        ("state", pa.string(), False),
        ("capacity", pa.int32(), True),
    ),
    "experiment_assignments": _schema(
        ("event_id", pa.string(), False),
        ("experiment", pa.string(), False),
        ("unit", pa.string(), False),
        ("variant", pa.string(), False),
        ("ts", pa.int64(), False),
    ),
    # GPS jumps and stale (repeated) fixes found at ingest, one row per flagged fix: the incident finder
    # reads these instead of every fix. `step_m` is the distance from the previous fix, `speed_mps` the
    # speed it implies.
    "gps_anomalies": _schema(
        ("entity", pa.string(), False),
        ("ts", pa.int64(), False),
        ("kind", pa.string(), False),
        ("step_m", pa.float64(), True),
        ("speed_mps", pa.float64(), True),
        ("lat", pa.float64(), False),
        ("lon", pa.float64(), False),
    ),
    "gps": _schema(
        ("entity", pa.string(), False),
        ("ts", pa.int64(), False),
        ("lat", pa.float64(), False),
        ("lon", pa.float64(), False),
        ("speed_mps", pa.float64(), True),
        ("heading_deg", pa.float64(), True),
        ("accuracy_m", pa.float64(), True),
    ),
}

#: The columns that identify a row of each table: a partition holds each identity once after compaction.
TABLE_IDENTITY: dict[str, tuple[str, ...]] = {
    "job_events": ("event_id",),
    "rounds": ("round",),
    "candidates": ("round", "job", "entity"),
    "entity_states": ("event_id",),
    "experiment_assignments": ("event_id",),
    "gps": ("entity", "ts"),
    "gps_anomalies": ("entity", "ts", "kind"),
}

#: Whitelist of fact table names: the only table identifiers any SQL text may be built from.
TABLES: tuple[str, ...] = tuple(TABLE_SCHEMAS)


def column_sql_type(arrow_type: pa.DataType) -> str:
    """The SQL type of a fact-table file column; Presto, Trino and DuckDB share these names."""
    for check, name in (
        (pa.types.is_string, "varchar"),
        (pa.types.is_int64, "bigint"),
        (pa.types.is_int32, "integer"),
        (pa.types.is_float64, "double"),
        (pa.types.is_boolean, "boolean"),
    ):
        if check(arrow_type):
            return name
    raise TypeError(f"no SQL type for {arrow_type}")
