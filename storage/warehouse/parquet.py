"""Writes fact rows as Hive-partitioned Parquet, one content-named file per partition and write.

Layout: `<root>/<table>/dataset=<ds>/dt=<YYYY-MM-DD>/city=<city>/part-<hash>.parquet` where `dt` is the UTC
date of `ts` and `<hash>` is a digest of the partition's rows (canonically sorted), so writing the same rows
again lands on the same file name and is reported as unchanged instead of adding a copy.

Loads that overlap (the same events in two inputs, a re-run after a crash) can leave one identity
(TABLE_IDENTITY) in several files of a partition; `partition_compact` folds a partition's files into one
file holding each identity once. A crash part-way leaves the new file beside old ones, and the next
compaction of that partition finishes the job, so readers only ever see complete files.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from storage.grammar import DATASET_GRAMMAR, SHORT_NAME_GRAMMAR, dataset_is_valid, short_name_is_valid
from storage.warehouse.schema import TABLE_IDENTITY, TABLE_SCHEMAS, TABLES

# Bumped whenever the canonical row encoding below changes, so old and new names never collide by accident.
_HASH_VERSION = b"dispatchscope-fact-v1\x00"
_ROW_GROUP_ROWS = 1_000_000


@dataclass(frozen=True, order=True)
class Partition:
    """One Hive partition of a fact table: `<table>/dataset=…/dt=…/city=…`."""

    table: str
    dataset: str
    dt: str
    city: str

    def directory(self, root: Path) -> Path:
        """The partition's directory under the warehouse root."""
        return root / self.table / f"dataset={self.dataset}" / f"dt={self.dt}" / f"city={self.city}"


@dataclass(frozen=True)
class FactWriteSummary:
    """What a write did: files created, files that already held exactly these rows, rows received, and
    the partitions it wrote into."""

    files_written: int
    files_unchanged: int
    rows: int
    partitions: tuple[Partition, ...] = ()


@dataclass(frozen=True)
class CompactSummary:
    """What compacting one partition did: files read, rows read, rows kept (one per identity)."""

    partition: Partition
    files_before: int
    rows_before: int
    rows_after: int


def partition_value_check(*, column: str, value: str) -> str:
    """`value` unchanged if it is a safe path segment for partition `column`; ValueError otherwise."""
    valid = dataset_is_valid(value) if column == "dataset" else short_name_is_valid(value)
    if not valid:
        grammar = DATASET_GRAMMAR if column == "dataset" else SHORT_NAME_GRAMMAR
        raise ValueError(f"{column} {value!r} is not a safe partition value (allowed: {grammar})")
    return value


def write_fact_table(*, root: Path, table: str, rows: pa.Table) -> FactWriteSummary:
    """Write `rows` (file columns, `dataset`, `city`) under `root`; the same rows → same files, unchanged."""
    if table not in TABLES:
        raise ValueError(f"unknown fact table {table!r}; known: {', '.join(TABLES)}")
    schema = TABLE_SCHEMAS[table]
    checked = _rows_check(table=table, schema=schema, rows=rows)
    if checked.num_rows == 0:
        return FactWriteSummary(files_written=0, files_unchanged=0, rows=0)
    for column in ("dataset", "city"):
        for value in pc.unique(checked[column]).to_pylist():
            partition_value_check(column=column, value=value)
    # A row repeated inside one write (an input listing a fix twice) is written once.
    checked = _identity_unique(checked, [*TABLE_IDENTITY[table], "dataset"])
    # `ts` → timestamp[ms] (naive, read as UTC) → date32 → 'YYYY-MM-DD'.
    dt = pc.cast(pc.cast(pc.cast(checked["ts"], pa.timestamp("ms")), pa.date32()), pa.string())
    checked = checked.append_column("dt", dt)
    ordered = checked.sort_by(
        [(name, "ascending") for name in ("dataset", "dt", "city", *_sort_keys(schema))]
    )

    written = unchanged = 0
    start = 0
    partitions: list[Partition] = []
    for (dataset, day, city), count in _partition_runs(ordered):
        part = ordered.slice(start, count).select(schema.names)
        start += count
        partition = Partition(table=table, dataset=dataset, dt=day, city=city)
        partitions.append(partition)
        path = partition.directory(root) / f"part-{_content_digest(part)}.parquet"
        if path.exists():
            unchanged += 1
            continue
        _parquet_write_atomic(path=path, part=part.cast(schema))
        written += 1
    return FactWriteSummary(
        files_written=written, files_unchanged=unchanged, rows=checked.num_rows, partitions=tuple(partitions)
    )


def partition_files(*, root: Path, partition: Partition) -> list[Path]:
    """The complete Parquet files of a partition (hidden temp files of unfinished writes excluded)."""
    directory = partition.directory(root)
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.glob("part-*.parquet") if p.is_file())


def partition_compact(*, root: Path, partition: Partition) -> CompactSummary:
    """Fold a partition's files into one content-named file holding each identity once.

    Copies of one identity are equal (the pipeline quarantines conflicting rows before the warehouse sees
    them), so which copy stays does not matter; the first in file-name order does. Idempotent: a compacted
    partition is left as it is, and the same rows always give the same file name."""
    if partition.table not in TABLES:
        raise ValueError(f"unknown fact table {partition.table!r}; known: {', '.join(TABLES)}")
    schema = TABLE_SCHEMAS[partition.table]
    files = partition_files(root=root, partition=partition)
    if len(files) <= 1:
        rows = pq.ParquetFile(files[0]).metadata.num_rows if files else 0
        return CompactSummary(partition=partition, files_before=len(files), rows_before=rows, rows_after=rows)
    tables = []
    for path in files:
        try:
            tables.append(pq.ParquetFile(path).read().cast(schema))
        except FileNotFoundError:
            continue  # another compaction of this partition already folded it
    combined = pa.concat_tables(tables) if tables else schema.empty_table()
    kept = _identity_unique(combined, list(TABLE_IDENTITY[partition.table]))
    ordered = kept.sort_by([(name, "ascending") for name in _sort_keys(schema)])
    target = partition.directory(root) / f"part-{_content_digest(ordered)}.parquet"
    if not target.exists():
        _parquet_write_atomic(path=target, part=ordered.cast(schema))
    for path in files:
        if path != target:
            path.unlink(missing_ok=True)
    return CompactSummary(
        partition=partition, files_before=len(files), rows_before=combined.num_rows, rows_after=kept.num_rows
    )


def _rows_check(*, table: str, schema: pa.Schema, rows: pa.Table) -> pa.Table:
    """`rows` cast to the table's types, schema order then dataset, city; ValueError on any mismatch."""
    if not isinstance(rows, pa.Table):
        raise ValueError(f"{table} rows must be a pyarrow.Table, not {type(rows).__name__}")
    expected = [*schema.names, "dataset", "city"]
    missing = [name for name in expected if name not in rows.column_names]
    extra = [name for name in rows.column_names if name not in expected]
    if missing or extra:
        problems = []
        if missing:
            problems.append(f"missing columns {', '.join(missing)}")
        if extra:
            problems.append(f"unexpected columns {', '.join(extra)}")
        raise ValueError(f"{table} rows do not match the table schema: {'; '.join(problems)}")
    fields = [*schema, pa.field("dataset", pa.string(), nullable=False), pa.field("city", pa.string(), False)]
    columns = []
    for field in fields:
        column = rows[field.name]
        try:
            column = pc.cast(column, field.type, safe=True)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise ValueError(
                f"{table}.{field.name} must be {field.type}, got {column.type} that does not convert: {exc}"
            ) from exc
        if not field.nullable and column.null_count:
            first = int(pc.index(pc.is_null(column), True).as_py())
            raise ValueError(
                f"{table}.{field.name} must not be null ({column.null_count} null rows, first at row {first})"
            )
        columns.append(column)
    return pa.Table.from_arrays(columns, schema=pa.schema(fields))


def _identity_unique(rows: pa.Table, identity: list[str]) -> pa.Table:
    """`rows` with the first row of each identity only, in their original order."""
    if rows.num_rows < 2:
        return rows
    numbered = rows.append_column("__row", pa.array(np.arange(rows.num_rows, dtype=np.int64)))
    first = numbered.group_by(identity, use_threads=False).aggregate([("__row", "min")])
    if first.num_rows == rows.num_rows:
        return rows
    keep = np.sort(np.asarray(first["__row_min"].to_numpy(zero_copy_only=False), dtype=np.int64))
    return rows.take(pa.array(keep))


def _sort_keys(schema: pa.Schema) -> list[str]:
    """Canonical in-file row order: by ts, then every other column, so the same rows always sort alike."""
    names = list(schema.names)
    return ["ts", *(name for name in names if name != "ts")] if "ts" in names else names


def _partition_runs(ordered: pa.Table) -> list[tuple[tuple[str, str, str], int]]:
    """(dataset, dt, city) and row count of each contiguous run of the sorted table, in table order."""
    counts = ordered.group_by(["dataset", "dt", "city"]).aggregate([([], "count_all")])
    runs = [
        ((str(ds), str(day), str(city)), int(n))
        for ds, day, city, n in zip(
            counts["dataset"].to_pylist(),
            counts["dt"].to_pylist(),
            counts["city"].to_pylist(),
            counts["count_all"].to_pylist(),
            strict=True,
        )
    ]
    # The table was sorted bytewise; partition values are ASCII, where Python's order is the same.
    return sorted(runs)


def _content_digest(part: pa.Table) -> str:
    """A digest of the rows' values (not of any file encoding), stable across pyarrow versions."""
    digest = hashlib.sha256(_HASH_VERSION)
    for name in part.column_names:
        column = part[name].combine_chunks()
        digest.update(f"{name}:{column.type}:{len(column)}\x00".encode())
        digest.update(np.asarray(pc.is_valid(column), dtype=np.bool_).tobytes())
        if pa.types.is_string(column.type):
            digest.update(_string_bytes(pc.fill_null(column, "")))
        else:
            filled = pc.fill_null(column, False if pa.types.is_boolean(column.type) else 0)
            values = np.asarray(filled.to_numpy(zero_copy_only=False))
            digest.update(values.astype(values.dtype.newbyteorder("<"), copy=False).tobytes())
    return digest.hexdigest()[:32]


def _string_bytes(column: pa.Array) -> bytes:
    """Lengths then UTF-8 bytes of a null-free string array, independent of its buffer offsets."""
    lengths = np.asarray(pc.binary_length(column).to_numpy(zero_copy_only=False), dtype="<i8")
    _, offsets_buffer, data_buffer = column.buffers()
    if data_buffer is None:
        return lengths.tobytes()
    offsets = np.frombuffer(offsets_buffer, dtype=np.int32)[column.offset : column.offset + len(column) + 1]
    data = memoryview(data_buffer)[int(offsets[0]) : int(offsets[-1])]
    return lengths.tobytes() + bytes(data)


def _parquet_write_atomic(*, path: Path, part: pa.Table) -> None:
    """`part` at `path`, fully written or not at all: a hidden temp file, fsynced, then renamed into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # A leading dot, no .parquet suffix: neither DuckDB's glob nor Hive readers see a half-written file.
    temp = path.parent / f".{path.name}.{uuid.uuid4().hex}.tmp"
    try:
        with temp.open("wb") as handle:
            pq.write_table(
                part,
                handle,
                compression="zstd",
                row_group_size=_ROW_GROUP_ROWS,
                write_statistics=True,
            )
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
