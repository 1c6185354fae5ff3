"""The embedded track store: one LMDB environment (a directory), one named database per table.

Layout: the directory holds `data.mdb` and `lock.mdb`; inside, the named databases `meta`, `track`, `cell`,
`event`, `job`, `round` and `entity_job` (storage.kv.base.TABLES) each map a key to its value exactly as
storage.keys and storage.track_codec produce them, with no prefix or envelope, so the bytes are those the
HBase backend stores. A counter is an 8-byte big-endian value, added to inside one write transaction.

LMDB keeps each named database in byte order, so a range scan is a cursor walk. One environment is opened
per directory per process (LMDB forbids opening the same environment twice in a process) and shared by
every thread; any number of processes may open it, and LMDB runs one write transaction at a time across
all of them.
"""

from __future__ import annotations

import struct
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import lmdb

from storage.kv.base import COUNTER, TABLES, SortedKV, TrackStoreError, counter_value

# Open environments by directory, with how many store objects use each: the last close() closes it.
_environments: dict[Path, tuple[lmdb.Environment, int]] = {}
_environments_lock = threading.Lock()


def _open_environment(path: Path, map_size: int) -> lmdb.Environment:
    resolved = path.resolve()
    with _environments_lock:
        env, users = _environments.get(resolved, (None, 0))
        if env is None:
            try:
                resolved.mkdir(parents=True, exist_ok=True)
                env = lmdb.open(
                    str(resolved), map_size=map_size, max_dbs=len(TABLES) + 1, max_readers=512,
                    readahead=False, metasync=False,
                )  # fmt: skip
            except (lmdb.Error, OSError) as exc:
                raise TrackStoreError(
                    f"cannot open the LMDB track store at {resolved}: {exc}. "
                    "Check TRACK_STORE (lmdb:///path) and that the directory is writable "
                    "and holds an LMDB store."
                ) from None
        _environments[resolved] = (env, users + 1)
        return env


def _release_environment(path: Path) -> None:
    resolved = path.resolve()
    with _environments_lock:
        env, users = _environments.get(resolved, (None, 0))
        if env is None:
            return
        if users > 1:
            _environments[resolved] = (env, users - 1)
        else:
            del _environments[resolved]
            env.close()


class LMDBStore(SortedKV):
    """Sorted tables in one LMDB environment."""

    engine = "lmdb"

    def __init__(self, *, path: str | Path, map_size_gb: int = 64) -> None:
        self.path = Path(path)
        self._env = _open_environment(self.path, map_size_gb << 30)
        try:
            self._dbs = {name: self._env.open_db(name.encode()) for name in TABLES}
        except lmdb.Error as exc:
            raise TrackStoreError(
                f"the LMDB track store at {self.path} is corrupt or from another program: {exc}. "
                "Check TRACK_STORE."
            ) from None

    @property
    def location(self) -> str:
        """The store's directory as a TRACK_STORE URL."""
        return f"lmdb://{self.path.resolve()}"

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> LMDBStore:
        """Build from the OPTIONS of a TRACK_STORES entry."""
        if not options.get("path"):
            raise TrackStoreError("TRACK_STORE names no LMDB directory (example: lmdb:///srv/tracks)")
        return cls(path=options["path"], map_size_gb=int(options.get("map_size_gb", 64)))

    def _db(self, table: str) -> Any:
        if not self._dbs:
            raise TrackStoreError(f"the LMDB track store at {self.path} was closed; build a new one")
        try:
            return self._dbs[table]
        except KeyError:
            raise ValueError(f"unknown table {table!r}; tables: {', '.join(TABLES)}") from None

    def put_many(self, table: str, items: Iterable[tuple[bytes, bytes]]) -> int:
        db = self._db(table)
        try:
            with self._env.begin(write=True, db=db) as txn:
                consumed, _added = txn.cursor().putmulti(items, dupdata=False, overwrite=True)
        except lmdb.MapFullError:
            raise TrackStoreError(
                f"the LMDB track store at {self.path} is full; raise LMDB_MAP_SIZE_GB"
            ) from None
        except lmdb.Error as exc:
            raise TrackStoreError(
                f"cannot write the LMDB track store at {self.path}: {exc}. Check TRACK_STORE."
            ) from None
        return int(consumed)

    def get_many(self, table: str, keys: Sequence[bytes]) -> list[bytes | None]:
        with self._env.begin(db=self._db(table)) as txn:
            return [txn.get(key) for key in keys]

    def scan(
        self, table: str, start: bytes, stop: bytes | None, *, keys_only: bool = False
    ) -> Iterator[tuple[bytes, bytes]]:
        # Materialised inside one read transaction: the caller may write before it finishes iterating.
        return iter(self._scan_list(table, start, stop, keys_only))

    def _scan_list(
        self, table: str, start: bytes, stop: bytes | None, keys_only: bool
    ) -> list[tuple[bytes, bytes]]:
        out: list[tuple[bytes, bytes]] = []
        with self._env.begin(db=self._db(table)) as txn:
            cursor = txn.cursor()
            if not cursor.set_range(start):
                return out
            if keys_only:
                for key in cursor.iternext(keys=True, values=False):
                    if stop is not None and key >= stop:
                        break
                    out.append((key, b""))
            else:
                for key, value in cursor:
                    if stop is not None and key >= stop:
                        break
                    out.append((key, value))
        return out

    def scan_many(
        self, table: str, ranges: Sequence[tuple[bytes, bytes | None]]
    ) -> list[list[tuple[bytes, bytes]]]:
        results: list[list[tuple[bytes, bytes]]] = []
        with self._env.begin(db=self._db(table)) as txn:
            cursor = txn.cursor()
            for start, stop in ranges:
                found: list[tuple[bytes, bytes]] = []
                if cursor.set_range(start):
                    for key, value in cursor:
                        if stop is not None and key >= stop:
                            break
                        found.append((key, value))
                results.append(found)
        return results

    def increment(self, table: str, key: bytes, amount: int) -> int:
        db = self._db(table)
        try:
            # One write transaction: LMDB runs one writer at a time across every process of the
            # environment, so the read and the write of the counter cannot interleave with another's.
            with self._env.begin(write=True, db=db) as txn:
                stored = txn.get(key)
                total = (0 if stored is None else counter_value(stored)) + amount
                txn.put(key, COUNTER.pack(total))
        except struct.error:
            raise TrackStoreError(f"the counter {key!r} in {self.path} would overflow 64 bits") from None
        except lmdb.MapFullError:
            raise TrackStoreError(
                f"the LMDB track store at {self.path} is full; raise LMDB_MAP_SIZE_GB"
            ) from None
        except lmdb.Error as exc:
            raise TrackStoreError(
                f"cannot write the LMDB track store at {self.path}: {exc}. Check TRACK_STORE."
            ) from None
        return total

    def delete_many(self, table: str, keys: Iterable[bytes]) -> int:
        count = 0
        with self._env.begin(write=True, db=self._db(table)) as txn:
            for key in keys:
                txn.delete(key)
                count += 1
        return count

    def close(self) -> None:
        # The environment is shared by every store object of this directory in the process; the last
        # store to close closes it.
        if self._dbs:
            self._dbs = {}
            _release_environment(self.path)

    def size_bytes(self, table: str) -> int:
        """Bytes of keys plus values held in one table (what the benchmark calls bytes per point)."""
        total = 0
        with self._env.begin(db=self._db(table)) as txn:
            for key, value in txn.cursor():
                total += len(key) + len(value)
        return total
