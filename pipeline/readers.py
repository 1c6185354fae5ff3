"""Input readers: each yields bounded batches of one file with the 1-based line number of every row.

- Parquet: Arrow record batches (row groups split to at most `batch_rows`); the "line" is the row number.
- CSV (optionally .gz): Arrow's streaming reader, every column read as text so a malformed value rejects
  one row instead of the file; lines of the wrong width come back as `malformed_row` rejects; the header is
  line 1.
  Rows whose every field is empty (blank lines) are skipped and not counted.
- JSONL (optionally .gz): raw lines with their numbers, parsed by the caller; blank lines are skipped.
- city (a road graph, pipeline/city.py): one JSON document read whole; `roads.json` and `*.roads.json`
  by name, and any other `.json` whose head is an object with a `nodes` or `edges` list.
Progress is reported in units of `progress_unit` (bytes read from disk, or Parquet rows).
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Literal, cast

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from pipeline.contract import Reject
from storage.tracks.types import Int64Array

Format = Literal["jsonl", "csv", "parquet", "city"]
FORMATS: tuple[str, ...] = ("auto", "jsonl", "csv", "parquet", "city")
_SUFFIXES: dict[str, Format] = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".jsonl.gz": "jsonl",
    ".ndjson.gz": "jsonl",
    ".json.gz": "jsonl",
    ".csv": "csv",
    ".csv.gz": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
}
PARQUET_BATCH_ROWS = 1_000_000
CSV_BLOCK_BYTES = 16 << 20
JSONL_BATCH_BYTES = 8 << 20
CITY_NAMES = ("roads.json", "roads.json.gz")
CITY_SUFFIXES = (".roads.json", ".roads.json.gz")
#: Bytes of a `.json` file read to tell a city document from JSONL.
SNIFF_BYTES = 64 << 10
_CITY_KEY = re.compile(rb'"(nodes|edges)"\s*:\s*\[')


class InputError(Exception):
    """A file cannot be read at all (missing, unknown format, not Parquet, …); the message says which."""


@dataclass(frozen=True)
class TableBatch:
    """Rows of a columnar file: `lines[i]` is row i's line; `rejects` are lines that did not even parse."""

    table: pa.Table
    lines: Int64Array
    rejects: tuple[Reject, ...] = ()
    progress: int = 0


@dataclass(frozen=True)
class LineBatch:
    """Raw JSONL lines, each with its 1-based line number."""

    lines: list[tuple[int, bytes]] = field(hash=False)
    progress: int = 0


def format_detect(path: Path, fmt: str = "auto") -> Format:
    """The input format of `path`: `fmt` if given, else from its extension; InputError if unknown."""
    if fmt != "auto":
        if fmt not in FORMATS:
            raise InputError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
        return fmt  # type: ignore[return-value]
    name = path.name.lower()
    if name in CITY_NAMES or name.endswith(CITY_SUFFIXES):
        return "city"
    for suffix, found in sorted(_SUFFIXES.items(), key=lambda item: -len(item[0])):
        if name.endswith(suffix):
            if found == "jsonl" and name.endswith((".json", ".json.gz")) and _looks_like_city(path):
                return "city"
            return found
    known = ", ".join(sorted(_SUFFIXES))
    raise InputError(f"{path}: cannot tell the format from the extension (known: {known}); pass --format")


def _looks_like_city(path: Path) -> bool:
    """True when a `.json` file opens like a city document rather than JSON lines: one object with a
    `nodes` or `edges` list near its start, and a first line that is not an event or a GPS row."""
    try:
        stream, _ = _open(path)
        with stream:
            head = stream.read(SNIFF_BYTES)
    except (InputError, OSError, EOFError, zlib.error):
        return False  # the reader proper reports what is wrong with the file
    if not head.lstrip().startswith(b"{") or _CITY_KEY.search(head) is None:
        return False
    first = head.split(b"\n", 1)[0]
    try:
        row = orjson.loads(first)
    except orjson.JSONDecodeError:
        return True  # one document over several lines, or a first line longer than the head
    return isinstance(row, dict) and "type" not in row and "entity" not in row


def city_read(path: Path) -> bytes:
    """The whole file (decompressed): a city document is read in one piece."""
    stream, _ = _open(path)
    with stream:
        try:
            return stream.read()
        except (OSError, EOFError, zlib.error) as exc:
            raise InputError(f"{path}: unreadable ({exc})") from None


def progress_size(path: Path, fmt: Format) -> int:
    """The total that this file's batches' `progress` values add up to (bytes, or rows for Parquet)."""
    if fmt == "parquet":
        try:
            return int(pq.ParquetFile(path).metadata.num_rows)
        except (OSError, pa.ArrowException) as exc:
            raise InputError(f"{path}: not a readable Parquet file ({exc})") from None
    return os.path.getsize(path)


def _open(path: Path) -> tuple[IO[bytes], IO[bytes]]:
    """(stream of decompressed bytes, underlying file for progress)."""
    try:
        raw = open(path, "rb")  # noqa: SIM115 - closed by the caller's generator
    except OSError as exc:
        raise InputError(f"{path}: cannot open ({exc.strerror})") from None
    if path.name.lower().endswith(".gz"):
        return cast(IO[bytes], gzip.GzipFile(fileobj=raw, mode="rb")), raw
    return raw, raw


def parquet_batches(path: Path, *, batch_rows: int = PARQUET_BATCH_ROWS) -> Iterator[TableBatch]:
    """The file's rows in batches of at most `batch_rows`; line = 1-based row number."""
    try:
        names = pq.ParquetFile(path).schema_arrow.names
        # Ids and names repeat: reading them dictionary-encoded saves decoding every string.
        parquet = pq.ParquetFile(
            path, read_dictionary=[n for n in ("entity", "city", "dataset") if n in names]
        )
    except (OSError, pa.ArrowException) as exc:
        raise InputError(f"{path}: not a readable Parquet file ({exc})") from None
    first = 1
    try:
        for record_batch in parquet.iter_batches(batch_size=batch_rows):
            size = record_batch.num_rows
            yield TableBatch(
                table=pa.Table.from_batches([record_batch]),
                lines=np.arange(first, first + size, dtype=np.int64),
                progress=size,
            )
            first += size
    except (OSError, pa.ArrowException) as exc:
        raise InputError(f"{path}: Parquet data unreadable after row {first - 1} ({exc})") from None


def _csv_header(path: Path) -> list[str]:
    stream, _ = _open(path)
    with stream:
        try:
            first = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="").readline()
        except (OSError, UnicodeDecodeError, EOFError, zlib.error) as exc:
            raise InputError(f"{path}: cannot read the CSV header ({exc})") from None
    header = next(csv.reader([first]), [])
    if not header or not all(name.strip() for name in header):
        raise InputError(f"{path}: the first line must be a CSV header naming every column")
    return [name.strip() for name in header]


def _row_lines(first: int, count: int, skipped: Int64Array) -> tuple[Int64Array, int]:
    """The `count` line numbers from `first` on that are not in `skipped` (sorted), and the next line."""
    ahead = skipped[skipped >= first]
    candidates = np.arange(first, first + count + len(ahead), dtype=np.int64)
    lines = candidates[~np.isin(candidates, ahead)][:count]
    return lines, int(lines[-1]) + 1 if count else first


def csv_batches(path: Path, *, block_bytes: int = CSV_BLOCK_BYTES) -> Iterator[TableBatch]:
    """The file's rows in blocks, all columns as text; malformed lines come back as rejects."""
    header = _csv_header(path)
    malformed: list[Reject] = []

    def on_invalid(row: pcsv.InvalidRow) -> str:
        malformed.append(
            Reject(
                line=int(row.number),
                reason="malformed_row",
                detail=f"expected {row.expected_columns} fields, got {row.actual_columns}",
                row=row.text,
            )
        )
        return "skip"

    stream, raw = _open(path)
    # Threads would lose the line numbers of malformed rows, which the quarantine must report.
    read_options = pcsv.ReadOptions(
        use_threads=False, block_size=block_bytes, column_names=header, skip_rows=1
    )
    parse_options = pcsv.ParseOptions(invalid_row_handler=on_invalid, ignore_empty_lines=False)
    convert_options = pcsv.ConvertOptions(
        column_types={name: pa.string() for name in header},
        strings_can_be_null=True,
        quoted_strings_can_be_null=False,
    )
    next_line = 2
    reported = 0
    done = 0
    with stream:
        try:
            reader = pcsv.open_csv(
                stream,
                read_options=read_options,
                parse_options=parse_options,
                convert_options=convert_options,
            )
            for record_batch in reader:
                skipped = np.array(sorted(r.line for r in malformed), dtype=np.int64)
                lines, next_line = _row_lines(next_line, record_batch.num_rows, skipped)
                table = pa.Table.from_batches([record_batch])
                table, lines = _without_blank_rows(table, lines)
                fresh = tuple(malformed[reported:])
                reported = len(malformed)
                position = raw.tell()
                yield TableBatch(table=table, lines=lines, rejects=fresh, progress=position - done)
                done = position
        except (OSError, pa.ArrowException, EOFError, zlib.error) as exc:
            raise InputError(f"{path}: CSV unreadable after line {next_line - 1} ({exc})") from None
    if len(malformed) > reported:
        yield TableBatch(
            table=pa.table({name: pa.array([], pa.string()) for name in header}),
            lines=np.zeros(0, dtype=np.int64),
            rejects=tuple(malformed[reported:]),
            progress=0,
        )


def _without_blank_rows(table: pa.Table, lines: Int64Array) -> tuple[pa.Table, Int64Array]:
    if table.num_rows == 0 or table.num_columns == 0:
        return table, lines
    blank = table.column(0).is_null()
    for column in table.columns[1:]:
        blank = pc.and_(blank, column.is_null())
    if not pc.any(blank).as_py():
        return table, lines
    keep = pc.invert(blank)
    return table.filter(keep), lines[np.asarray(keep.to_numpy(zero_copy_only=False), dtype=np.bool_)]


def jsonl_batches(path: Path, *, batch_bytes: int = JSONL_BATCH_BYTES) -> Iterator[LineBatch]:
    """The file's lines in batches of about `batch_bytes`, each with its 1-based line number."""
    stream, raw = _open(path)
    number = 0
    done = 0
    with stream:
        try:
            while True:
                chunk = stream.readlines(batch_bytes)
                if not chunk:
                    break
                numbered = list(zip(range(number + 1, number + 1 + len(chunk)), chunk, strict=True))
                number += len(chunk)
                position = raw.tell()
                yield LineBatch(lines=numbered, progress=position - done)
                done = position
        except (OSError, EOFError, zlib.error) as exc:
            raise InputError(f"{path}: unreadable after line {number} ({exc})") from None
