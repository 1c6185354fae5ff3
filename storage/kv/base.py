"""The sorted key-value primitive every track-store backend implements.

A backend holds a fixed set of tables; each maps byte keys to byte values in byte order. Everything above
this (key layout, block codec, track operations) is shared, so LMDB and HBase store the same bytes.
"""

from __future__ import annotations

import struct
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence

TABLES: tuple[str, ...] = ("meta", "track", "cell", "event", "job", "round", "entity_job")
#: A counter's value: a signed 64-bit big-endian integer, the format HBase's atomic increment keeps.
COUNTER = struct.Struct(">q")


class TrackStoreError(RuntimeError):
    """The track store cannot be opened, read or written; the message names the setting to check."""


class SortedKV(ABC):
    """Byte-ordered tables of byte keys to byte values.

    Backends implement the six primitives; the bulk helpers have defaults built on them.
    """

    #: Short engine name shown on pages and in benchmark output ("lmdb", "hbase").
    engine: str = ""

    @property
    def location(self) -> str:
        """Where the store lives, as a TRACK_STORE-style URL (for messages)."""
        return f"{self.engine}://"

    @abstractmethod
    def put_many(self, table: str, items: Iterable[tuple[bytes, bytes]]) -> int:
        """Write every (key, value), replacing existing values; returns how many were written."""

    @abstractmethod
    def get_many(self, table: str, keys: Sequence[bytes]) -> list[bytes | None]:
        """The value of each key, in order; None where a key is absent."""

    @abstractmethod
    def scan(
        self, table: str, start: bytes, stop: bytes | None, *, keys_only: bool = False
    ) -> Iterator[tuple[bytes, bytes]]:
        """Every (key, value) with start <= key < stop (None: to the end), in key order.

        Values are b"" when keys_only.
        """

    @abstractmethod
    def delete_many(self, table: str, keys: Iterable[bytes]) -> int:
        """Delete the keys; returns how many were given."""

    @abstractmethod
    def increment(self, table: str, key: bytes, amount: int) -> int:
        """Add `amount` to the counter at `key` in one atomic step and return the new value.

        A counter is a COUNTER (8 bytes); an absent key counts as 0. Increments from any number of threads
        and processes are all applied. A value of another width raises TrackStoreError.
        """

    @abstractmethod
    def close(self) -> None:
        """Release connections and handles; the store may be reopened by building it again."""

    def get(self, table: str, key: bytes) -> bytes | None:
        """The value of one key, or None."""
        return self.get_many(table, [key])[0]

    def scan_prefix(
        self, table: str, prefix: bytes, *, keys_only: bool = False
    ) -> Iterator[tuple[bytes, bytes]]:
        """Every (key, value) whose key starts with `prefix`, in key order."""
        return self.scan(table, prefix, prefix_end(prefix), keys_only=keys_only)

    def scan_many(
        self, table: str, ranges: Sequence[tuple[bytes, bytes | None]]
    ) -> list[list[tuple[bytes, bytes]]]:
        """The results of several range scans, one list per range (backends may batch them)."""
        return [list(self.scan(table, start, stop)) for start, stop in ranges]


def counter_value(value: bytes) -> int:
    """The number a counter's stored bytes hold."""
    if len(value) != COUNTER.size:
        raise TrackStoreError(f"a counter is {COUNTER.size} bytes wide, not {len(value)}")
    count: int = COUNTER.unpack(value)[0]
    return count


def prefix_end(prefix: bytes) -> bytes | None:
    """The smallest key greater than every key starting with `prefix`; None when no such key exists."""
    trimmed = prefix.rstrip(b"\xff")
    if not trimmed:
        return None
    return trimmed[:-1] + bytes([trimmed[-1] + 1])
