"""Key layout of the track tables, shared by every backend so LMDB and HBase hold the same bytes.

Integers are big-endian so byte order is numeric order; every variable-length id is length-prefixed
(one byte), so `c1` and `c10` never share a prefix; every key starts with a salt byte derived from its
leading id, so writes spread across HBase regions while one id's rows stay in one contiguous range.

    track       salt(dataset, entity) | ds | entity | bucket_start u64 | part u32    -> track block
    cell        salt(dataset, row)    | ds | bucket_start u64 | row u32 | col u32 | part u32  -> cell block
    event       salt(dataset, id)     | ds | event id                             -> body digest (8 bytes)
    job         salt(dataset, job)    | ds | job | ts u64 | event id               -> event or round marker
    round       salt(dataset, round)  | ds | round                                -> dispatch_round event
    entity_job  salt(dataset, entity) | ds | entity | ts u64 | job | role u8      -> b""
    meta        b"layout"                                   -> layout JSON, with its version
                b"count:" dataset b":" counter              -> i64 counter ("points", "events")
                b"count:" dataset b":" counter b":v1"       -> i64 count carried over from layout version 1
                b"city:" dataset                            -> the dataset's city document, zstd(JSON)

`ds` is the length-prefixed dataset name; `part` is a checksum of the block, so a rewrite of the same
points lands on the same key while a late write for the same bucket adds a second part beside it. The
`meta` table is small and unsalted; its keys carry the plain dataset name (names never hold a ":").

The space grid of the cell table: row = (lat_e7 + 90°) // cell_e7 and col = (lon_e7 + 180°) // cell_e7
(positions in 1e-7 degree), so rows and columns are never negative and count from the south-west corner.
"""

from __future__ import annotations

import functools
import struct
import zlib
from dataclasses import dataclass
from typing import Any, overload

import numpy as np
import numpy.typing as npt

from storage.grammar import MAX_ID_BYTES, dataset_problem

U32 = struct.Struct(">I")
U64 = struct.Struct(">Q")
LAT_OFFSET_E7 = 900_000_000
LON_OFFSET_E7 = 1_800_000_000

LAYOUT_KEY = b"layout"
COUNTER_PREFIX = b"count:"
CITY_PREFIX = b"city:"

ROLE_OFFERED = 1
ROLE_ASSIGNED = 2
ROLE_EXCLUDED = 3
ROLE_EVENT = 4


@dataclass(frozen=True)
class Layout:
    """The parameters every reader and writer of one store must agree on (recorded in the meta table)."""

    salts: int = 16
    track_bucket_ms: int = 3_600_000
    cell_bucket_ms: int = 120_000
    cell_e7: int = 100_000  # 0.01 degree

    def __post_init__(self) -> None:
        if not 1 <= self.salts <= 256:
            raise ValueError(f"salts must be between 1 and 256, not {self.salts}")
        if self.track_bucket_ms <= 0 or self.cell_bucket_ms <= 0 or self.cell_e7 <= 0:
            raise ValueError("bucket lengths and cell size must be positive")


def lp(value: str) -> bytes:
    """The length-prefixed UTF-8 bytes of an id."""
    raw = value.encode()
    size = len(raw)
    if not 0 < size <= MAX_ID_BYTES:
        raise ValueError(f"id {value[:40]!r} must be 1 to {MAX_ID_BYTES} bytes")
    return _LENGTH_BYTES[size] + raw


_LENGTH_BYTES = [bytes((n,)) for n in range(MAX_ID_BYTES + 1)]


def read_lp(key: bytes, offset: int) -> tuple[str, int]:
    """The id at `offset` of a key and the offset just past it."""
    size = key[offset]
    return key[offset + 1 : offset + 1 + size].decode(), offset + 1 + size


def salt_of(layout: Layout, *parts: bytes) -> bytes:
    """The salt byte for a key led by these id bytes (stable across processes and machines)."""
    checksum = 0
    for part in parts:
        checksum = zlib.crc32(part, checksum)
    return bytes((checksum % layout.salts,))


@functools.lru_cache(maxsize=1024)
def dataset_prefix(dataset: str) -> bytes:
    """The dataset segment of every key (validated: names appear in paths and URLs too)."""
    problem = dataset_problem(dataset)
    if problem is not None:
        raise ValueError(problem)
    return lp(dataset)


@functools.lru_cache(maxsize=1 << 16)
def entity_prefix(layout: Layout, dataset: str, entity: str) -> bytes:
    """Prefix of every track key of one entity."""
    ds, ent = dataset_prefix(dataset), lp(entity)
    return salt_of(layout, ds, ent) + ds + ent


def track_key(prefix: bytes, bucket_start: int, part: int) -> bytes:
    """A track-table key under an entity prefix."""
    return prefix + U64.pack(bucket_start) + U32.pack(part)


@overload
def cell_row(layout: Layout, lat_e7: int) -> int: ...
@overload
def cell_row(layout: Layout, lat_e7: npt.NDArray[np.integer[Any]]) -> npt.NDArray[np.int64]: ...
def cell_row(layout: Layout, lat_e7: int | npt.NDArray[np.integer[Any]]) -> int | npt.NDArray[np.int64]:
    """The cell-grid row of a latitude (or of each one) in 1e-7 degree."""
    if isinstance(lat_e7, int):
        return (lat_e7 + LAT_OFFSET_E7) // layout.cell_e7
    return (lat_e7.astype(np.int64) + LAT_OFFSET_E7) // layout.cell_e7


@overload
def cell_col(layout: Layout, lon_e7: int) -> int: ...
@overload
def cell_col(layout: Layout, lon_e7: npt.NDArray[np.integer[Any]]) -> npt.NDArray[np.int64]: ...
def cell_col(layout: Layout, lon_e7: int | npt.NDArray[np.integer[Any]]) -> int | npt.NDArray[np.int64]:
    """The cell-grid column of a longitude (or of each one) in 1e-7 degree."""
    if isinstance(lon_e7, int):
        return (lon_e7 + LON_OFFSET_E7) // layout.cell_e7
    # int64 first: 180° + 180° in 1e-7 degree does not fit in int32.
    return (lon_e7.astype(np.int64) + LON_OFFSET_E7) // layout.cell_e7


def cell_row_prefix(layout: Layout, dataset: str, bucket_start: int, row: int) -> bytes:
    """Prefix of the cell keys of one bucket and grid row; columns follow in order."""
    ds = dataset_prefix(dataset)
    return salt_of(layout, ds, U32.pack(row)) + ds + U64.pack(bucket_start) + U32.pack(row)


def cell_key(row_prefix: bytes, col: int, part: int) -> bytes:
    """A cell-table key under a (bucket, row) prefix."""
    return row_prefix + U32.pack(col) + U32.pack(part)


@functools.lru_cache(maxsize=1 << 16)
def id_key(layout: Layout, dataset: str, value: str) -> bytes:
    """Key of an id-addressed row (event digests, rounds), and prefix of a job's or entity's rows."""
    ds, ident = dataset_prefix(dataset), lp(value)
    return salt_of(layout, ds, ident) + ds + ident


def counter_key(dataset: str, counter: str) -> bytes:
    """Key of one of a dataset's counters in the meta table."""
    dataset_prefix(dataset)
    return COUNTER_PREFIX + dataset.encode() + b":" + counter.encode()


def city_key(dataset: str) -> bytes:
    """Key of a dataset's city document in the meta table."""
    dataset_prefix(dataset)
    return CITY_PREFIX + dataset.encode()


def job_event_key(layout: Layout, dataset: str, job: str, ts: int, event_id: str) -> bytes:
    """Key of one event (or round marker) in a job's time-ordered row range."""
    return b"".join((id_key(layout, dataset, job), U64.pack(ts), lp(event_id)))


def entity_job_key(layout: Layout, dataset: str, entity: str, ts: int, job: str, role: int) -> bytes:
    """Key of the marker saying `entity` touched `job` at `ts` in `role`."""
    return b"".join((id_key(layout, dataset, entity), U64.pack(ts), lp(job), _LENGTH_BYTES[role]))
