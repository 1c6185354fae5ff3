"""Loads log files into both stores: validate, normalise, dedupe, quarantine, write KV then Parquet.

Per input batch (a Parquet row group slice, a CSV block, ~8 MB of JSONL lines):
1. the reader yields rows with their line numbers; validation splits them into valid rows per dataset and
   rejects (pipeline/gps.py for fixes, pipeline/events.py for events);
2. the track store writes the valid rows and reports which were new, duplicates, or conflicts;
3. conflicts join the rejects in the input's quarantine file; every other valid row of the batch — new or
   already stored — goes to the warehouse, in content-named files.

So a load killed between the two writes, re-run, writes the warehouse rows the first run missed: the track
store calls them duplicates, but the warehouse still gets them, and a file it already has is left as it is.
At the end of a load every partition it wrote into is compacted (storage/warehouse/parquet.py), folding
rows that two overlapping loads both wrote into one. Job events whose city is not known yet (their
job_created comes later in the load) have their warehouse rows written at the end of the load (or once
DEFERRED_LIMIT of them wait, with the cities known by then, `unknown` for the rest).
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import orjson
import pyarrow as pa
from tqdm import tqdm

from pipeline.city import city_document_parse
from pipeline.contract import Reject, RowError, TimeBounds, time_bounds_now
from pipeline.events import JOB_EVENT_TYPES, event_normalise
from pipeline.facts import event_fact_tables, gps_anomaly_table, gps_fact_table
from pipeline.gps import UNKNOWN_CITY, GpsChunk, GpsRowBuffer, gps_row_is_fix, gps_table_validate
from pipeline.quarantine import QuarantineFile, quarantine_path
from pipeline.readers import (
    FORMATS,
    Format,
    InputError,
    LineBatch,
    TableBatch,
    city_read,
    csv_batches,
    format_detect,
    jsonl_batches,
    parquet_batches,
    progress_size,
)
from storage.grammar import dataset_problem, switchback_cell_is_valid
from storage.tracks.types import Int64Array, StoredEvent
from storage.warehouse.base import WarehouseError
from storage.warehouse.parquet import CompactSummary, Partition, partition_compact, write_fact_table
from storage.warehouse.schema import TABLES

if TYPE_CHECKING:
    from storage.tracks import TrackStore
    from storage.warehouse.base import Warehouse

#: Job events held back for their city at most; beyond it they are written with what is known (memory bound).
DEFERRED_LIMIT = 200_000

__all__ = ["FileSummary", "IngestError", "IngestSummary", "ingest_paths"]

# Rows of GPS validated and written together (about 1 GB of working memory at the most).
GPS_WRITE_ROWS = 16_000_000


class IngestError(Exception):
    """The load cannot start or a file cannot be read at all; the message says what to fix."""


@dataclass(frozen=True)
class FileSummary:
    """What one input did: rows read, newly stored, duplicates of stored rows, quarantined."""

    path: Path
    kind: Literal["gps", "events", "city"]
    read: int
    stored: int
    duplicates: int
    quarantined: int
    quarantine_path: Path | None


@dataclass(frozen=True)
class IngestSummary:
    """What a load did, per input file; the totals sum over files."""

    files: tuple[FileSummary, ...]

    @property
    def read(self) -> int:
        """Rows read over all files."""
        return sum(f.read for f in self.files)

    @property
    def stored(self) -> int:
        """Rows newly stored over all files."""
        return sum(f.stored for f in self.files)

    @property
    def duplicates(self) -> int:
        """Rows already stored (or repeated) over all files."""
        return sum(f.duplicates for f in self.files)

    @property
    def quarantined(self) -> int:
        """Rows sent to quarantine over all files."""
        return sum(f.quarantined for f in self.files)


@dataclass
class _FileCounts:
    read: int = 0
    stored: int = 0
    duplicates: int = 0
    gps_rows: int = 0
    event_rows: int = 0


@dataclass
class _EventGroup:
    events: list[StoredEvent] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    raw: list[Any] = field(default_factory=list)


@dataclass
class _Load:
    """State shared by every file of one load: the stores, time bounds, and what is known of job cities."""

    track_store: TrackStore
    warehouse_root: Path
    warehouse_gps: bool
    bounds: TimeBounds
    touched: set[Partition] = field(default_factory=set)
    job_cities: dict[tuple[str, str], str] = field(default_factory=dict)
    jobs_without_city: set[tuple[str, str]] = field(default_factory=set)
    deferred: list[tuple[str, StoredEvent]] = field(default_factory=list)

    # ---- GPS ------------------------------------------------------------------------------------

    def gps_store(
        self,
        chunk: GpsChunk,
        counts: _FileCounts,
        raw_rows: Callable[[Int64Array], list[Any]],
    ) -> list[Reject]:
        """Write one chunk of valid fixes; returns the conflicting rows as rejects."""
        result = self.track_store.points_write(dataset=chunk.dataset, batch=chunk.batch)
        counts.stored += result.stored
        counts.duplicates += result.duplicates
        conflicts = result.conflict_rows
        rows = np.setdiff1d(np.arange(len(chunk.batch), dtype=np.int64), conflicts, assume_unique=True)
        if len(rows):
            # Jumps and stale fixes always reach the warehouse (the incident finder reads them); every fix
            # only when asked.
            tables = {"gps_anomalies": gps_anomaly_table(chunk=chunk, rows=rows)}
            if self.warehouse_gps:
                tables["gps"] = gps_fact_table(chunk=chunk, rows=rows)
            self._facts_write(tables)
        if not len(conflicts):
            return []
        raws = raw_rows(chunk.source_rows[conflicts])
        return [
            Reject(
                line=int(chunk.lines[row]),
                reason="conflicting_duplicate",
                detail=f"{chunk.batch.entity_names[int(chunk.batch.entity_codes[row])]} at ts "
                f"{int(chunk.batch.ts[row])} is already stored with another position",
                row=raw,
            )
            for row, raw in zip(conflicts.tolist(), raws, strict=True)
        ]

    # ---- events ---------------------------------------------------------------------------------

    def events_store(self, dataset: str, group: _EventGroup, counts: _FileCounts) -> list[Reject]:
        """Write one dataset's events of a batch; returns the conflicting ones as rejects."""
        for event in group.events:
            if event.type == "job_created":
                self.job_cities.setdefault((dataset, event.body["job"]), event.body["city"])
        result = self.track_store.events_write(dataset=dataset, events=group.events)
        counts.stored += result.stored
        counts.duplicates += result.duplicates
        conflicting = set(result.conflict_rows)
        # Every valid, non-conflicting event, stored now or before: content-named files make this a
        # no-op for rows the warehouse already has, and fill in what an interrupted load missed.
        stored = [event for i, event in enumerate(group.events) if i not in conflicting]
        ready: list[StoredEvent] = []
        cities: list[str] = []
        for event in stored:
            city = self._city_of(dataset, event)
            if city is None:
                self.deferred.append((dataset, event))
                if len(self.deferred) >= DEFERRED_LIMIT:
                    self.deferred_flush()
            else:
                ready.append(event)
                cities.append(city)
        self._facts_write(event_fact_tables(dataset=dataset, events=ready, cities=cities))
        return [
            Reject(
                line=group.lines[i],
                reason="conflicting_duplicate",
                detail=f"event {group.events[i].id} is already stored with other content",
                row=group.raw[i],
            )
            for i in result.conflict_rows
        ]

    def _city_of(self, dataset: str, event: StoredEvent) -> str | None:
        """The event's partition city; None for a job event whose job_created may still come."""
        body = event.body
        given = body.get("city")
        if given is not None:
            return str(given)
        if event.type in JOB_EVENT_TYPES:
            key = (dataset, str(body["job"]))
            return self.job_cities.get(key) or self._stored_job_city(key)
        if event.type == "experiment_assignment":
            unit = str(body["unit"])
            if switchback_cell_is_valid(unit):
                return unit.split("|", 1)[0]
            return self.job_cities.get((dataset, unit), UNKNOWN_CITY)
        return UNKNOWN_CITY

    def _stored_job_city(self, key: tuple[str, str]) -> str | None:
        if key in self.jobs_without_city:
            return None
        for event in self.track_store.job_events(dataset=key[0], job=key[1]):
            if event.type == "job_created" and event.body.get("city") is not None:
                self.job_cities[key] = city = str(event.body["city"])
                return city
        self.jobs_without_city.add(key)
        return None

    def deferred_flush(self) -> None:
        """Write the warehouse rows of job events held back for their city (else `unknown`)."""
        by_dataset: dict[str, list[StoredEvent]] = {}
        for dataset, event in self.deferred:
            by_dataset.setdefault(dataset, []).append(event)
        self.deferred.clear()
        for dataset, events in by_dataset.items():
            cities = [self.job_cities.get((dataset, str(e.body["job"])), UNKNOWN_CITY) for e in events]
            self._facts_write(event_fact_tables(dataset=dataset, events=events, cities=cities))

    def _facts_write(self, tables: dict[str, pa.Table]) -> None:
        for name, rows in tables.items():
            if rows.num_rows:
                summary = write_fact_table(root=self.warehouse_root, table=name, rows=rows)
                self.touched.update(summary.partitions)

    def partitions_compact(self) -> list[CompactSummary]:
        """Fold each partition this load wrote into to one file with every row once."""
        done = [partition_compact(root=self.warehouse_root, partition=p) for p in sorted(self.touched)]
        self.touched.clear()
        return done


def _list_rows(raw: list[Any], rows: Int64Array) -> list[Any]:
    return [raw[i] for i in rows.tolist()]


def _table_rows(table: pa.Table, rows: Int64Array) -> list[Any]:
    rows_list: list[Any] = table.take(pa.array(rows)).to_pylist()
    return rows_list


def _jsonl_batch_load(
    load: _Load,
    batch: LineBatch,
    *,
    dataset: str,
    counts: _FileCounts,
) -> list[Reject]:
    """Validate and store one batch of JSONL lines (events and GPS rows); returns its rejects."""
    rejects: list[Reject] = []
    groups: dict[str, _EventGroup] = {}
    fixes = GpsRowBuffer()
    bounds = load.bounds
    loads = orjson.loads
    for line, text in batch.lines:
        try:
            row = loads(text)
        except orjson.JSONDecodeError as exc:
            if not text.strip():
                continue  # blank lines are not rows
            counts.read += 1
            shown = text.decode("utf-8", errors="replace").rstrip("\r\n")
            rejects.append(Reject(line=line, reason="invalid_json", detail=str(exc), row=shown))
            continue
        counts.read += 1
        if type(row) is not dict:
            rejects.append(Reject(line=line, reason="invalid_json", detail="not a JSON object", row=row))
            continue
        try:
            kind = row.get("type")
            if kind == "gps" or (kind is None and gps_row_is_fix(row)):
                counts.gps_rows += 1
                fixes.add(row, line=line, default_dataset=dataset, bounds=bounds)
                continue
            counts.event_rows += 1
            row_dataset, event = event_normalise(row, default_dataset=dataset, bounds=bounds)
        except RowError as exc:
            rejects.append(Reject(line=line, reason=exc.reason, detail=exc.detail, row=row))
            continue
        group = groups.get(row_dataset)
        if group is None:
            group = groups[row_dataset] = _EventGroup()
        group.events.append(event)
        group.lines.append(line)
        group.raw.append(row)
    for row_dataset, group in groups.items():
        rejects.extend(load.events_store(row_dataset, group, counts))
    for chunk, raw in fixes.chunks():
        rejects.extend(load.gps_store(chunk, counts, partial(_list_rows, raw)))
    return rejects


def _city_load(load: _Load, path: Path, *, dataset: str, counts: _FileCounts) -> list[Reject]:
    """Keep a city document with its dataset in the track store; a bad one is quarantined whole."""
    raw = city_read(path)
    counts.read += 1
    try:
        document = city_document_parse(raw)
    except RowError as exc:
        shown = raw[:2000].decode("utf-8", errors="replace")
        return [Reject(line=1, reason=exc.reason, detail=f"city document: {exc.detail}", row=shown)]
    if load.track_store.city_put(dataset=document.dataset or dataset, document=document.canonical):
        counts.stored += 1
    else:
        counts.duplicates += 1
    return []


def _file_load(
    load: _Load, path: Path, fmt: Format, *, dataset: str, quarantine: QuarantineFile, bar: Any
) -> _FileCounts:
    counts = _FileCounts()
    if fmt == "city":
        quarantine.add(_city_load(load, path, dataset=dataset, counts=counts))
        bar.update(path.stat().st_size)
        return counts
    if fmt == "jsonl":
        for line_batch in jsonl_batches(path):
            rejects = _jsonl_batch_load(load, line_batch, dataset=dataset, counts=counts)
            quarantine.add(sorted(rejects, key=lambda r: r.line))
            bar.update(line_batch.progress)
        return counts
    batches = parquet_batches(path) if fmt == "parquet" else csv_batches(path)
    pending: list[TableBatch] = []
    for table_batch in batches:
        counts.read += table_batch.table.num_rows + len(table_batch.rejects)
        counts.gps_rows += table_batch.table.num_rows
        pending.append(table_batch)
        bar.update(table_batch.progress)
        if sum(b.table.num_rows for b in pending) >= GPS_WRITE_ROWS:
            _gps_batches_store(load, pending, dataset=dataset, counts=counts, quarantine=quarantine)
            pending = []
    _gps_batches_store(load, pending, dataset=dataset, counts=counts, quarantine=quarantine)
    return counts


def _gps_batches_store(
    load: _Load, pending: list[TableBatch], *, dataset: str, counts: _FileCounts, quarantine: QuarantineFile
) -> None:
    """Validate and write read batches together: one large write leaves one part per cell and bucket,
    where many small writes would leave one part per write for compaction to fold."""
    if not pending:
        return
    table = pa.concat_tables([b.table for b in pending]) if len(pending) > 1 else pending[0].table
    lines = np.concatenate([b.lines for b in pending]) if len(pending) > 1 else pending[0].lines
    chunks, rejects = gps_table_validate(table, lines=lines, default_dataset=dataset, bounds=load.bounds)
    for b in pending:
        rejects.extend(b.rejects)
    for chunk in chunks:
        rejects.extend(load.gps_store(chunk, counts, partial(_table_rows, table)))
    quarantine.add(sorted(rejects, key=lambda r: r.line))


def _inputs_check(paths: Iterable[Path], fmt: str) -> list[tuple[Path, Format, int]]:
    """(path, format, progress total) of every input, or IngestError naming the first unusable one."""
    if fmt not in FORMATS:
        raise IngestError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    checked: list[tuple[Path, Format, int]] = []
    for path in paths:
        if not path.is_file():
            raise IngestError(f"{path}: no such file")
        try:
            file_fmt = format_detect(path, fmt)
            checked.append((path, file_fmt, progress_size(path, file_fmt)))
        except InputError as exc:
            raise IngestError(str(exc)) from None
    if not checked:
        raise IngestError("no input files given")
    return checked


def ingest_paths(
    paths: Sequence[Path],
    *,
    track_store: TrackStore,
    warehouse_root: Path,
    quarantine_dir: Path,
    dataset: str = "default",
    fmt: str = "auto",
    warehouse_gps: bool = False,
    progress: bool = False,
    rebuild_warehouse: bool = False,
) -> IngestSummary:
    """Load every file into the track store and the warehouse; bad rows are quarantined, never fatal.

    Re-running any load, finished or interrupted, ends with both stores holding every valid row once. With
    `rebuild_warehouse`, the event tables of `dataset` are deleted first and rewritten from these files
    alone (for a dataset whose warehouse files were lost or damaged).

    Raises IngestError (before anything is written) for bad options or missing/unrecognised files, and for
    a file whose content cannot be read at all (earlier files stay loaded; a re-run is safe).
    """
    problem = dataset_problem(dataset)
    if problem is not None:
        raise IngestError(problem)
    inputs = _inputs_check([Path(p) for p in paths], fmt)
    if rebuild_warehouse and warehouse_gps:
        raise IngestError(
            "--rebuild-warehouse rebuilds the event tables; load GPS into the warehouse separately"
        )
    load = _Load(
        track_store=track_store,
        warehouse_root=Path(warehouse_root),
        warehouse_gps=warehouse_gps,
        bounds=time_bounds_now(),
    )
    if rebuild_warehouse:
        _warehouse_dataset_drop(load.warehouse_root, dataset)
    try:
        summaries = _inputs_load(
            load, inputs, dataset=dataset, quarantine_dir=Path(quarantine_dir), progress=progress
        )
    finally:
        load.deferred_flush()
        load.partitions_compact()
    return IngestSummary(files=tuple(summaries))


def _warehouse_dataset_drop(root: Path, dataset: str) -> None:
    """Delete every event-table partition of one dataset (the GPS table is left alone)."""
    for table in TABLES:
        if table not in ("gps", "gps_anomalies"):
            shutil.rmtree(root / table / f"dataset={dataset}", ignore_errors=True)


def _inputs_load(
    load: _Load,
    inputs: list[tuple[Path, Format, int]],
    *,
    dataset: str,
    quarantine_dir: Path,
    progress: bool,
) -> list[FileSummary]:
    base = quarantine_dir
    used: set[Path] = set()
    summaries: list[FileSummary] = []
    for path, file_fmt, total in inputs:
        target = quarantine_path(quarantine_dir=base, dataset=dataset, source=path)
        # Two inputs with the same name in one load keep separate quarantine files.
        suffix = 2
        while target in used:
            target = quarantine_path(
                quarantine_dir=base, dataset=dataset, source=path.with_name(f"{path.name}.{suffix}")
            )
            suffix += 1
        used.add(target)
        quarantine = QuarantineFile(target)
        bar = tqdm(
            total=total,
            unit="row" if file_fmt == "parquet" else "B",
            unit_scale=True,
            desc=path.name,
            disable=not progress,
            file=sys.stderr,
            leave=False,
        )
        try:
            counts = _file_load(load, path, file_fmt, dataset=dataset, quarantine=quarantine, bar=bar)
            # One block per cell and bucket again, however many batches the file was read in.
            load.track_store.compact_touched()
        except InputError as exc:
            raise IngestError(str(exc)) from None
        finally:
            bar.close()
            written = quarantine.close()
        kind: Literal["gps", "events", "city"] = (
            "city"
            if file_fmt == "city"
            else "gps"
            if file_fmt != "jsonl" or (counts.gps_rows and not counts.event_rows)
            else "events"
        )
        summaries.append(
            FileSummary(
                path=path,
                kind=kind,
                read=counts.read,
                stored=counts.stored,
                duplicates=counts.duplicates,
                quarantined=quarantine.count,
                quarantine_path=written,
            )
        )
    return summaries


def warehouse_partitions_register(warehouse: Warehouse) -> str | None:
    """Make what loads wrote visible to `warehouse` (Presto/Trino register partitions; DuckDB reads them
    live); the warehouse's message if it cannot, None when it did."""
    try:
        warehouse.refresh()
    except WarehouseError as exc:
        return str(exc)
    return None
