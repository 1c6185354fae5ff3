"""The track store on HBase, through happybase and the HBase Thrift 1 gateway.

Row layout: every SortedKV table is the HBase table `<prefix>_<table>` (happybase's table prefix with the
"_" separator, because `<prefix>:<table>` would be an HBase namespace). Each key is one HBase row; its value
is the single cell `d:v` (column family `d`, one version). Keys and values are exactly the bytes the shared
key layout and block codec produce, so LMDB and HBase hold the same bytes. The first key byte is the salt
(the salt count is recorded once, in the track store's layout row of `<prefix>_meta`). A counter is a `d:v`
cell holding an 8-byte big-endian long, which `increment` adds to with HBase's atomicIncrement.

Salted tables are pre-split by salt (one region per salt value); Thrift 1 cannot pass split keys, so
`manage.py hbase_create_tables --print-shell` prints the `hbase shell` script that does it. See docs/hbase.md.

Reads: a range is read in pages of `batch_size` rows; each page is one short-lived scanner (open, one
`scannerGetList`, close) under one pooled connection, so no scanner or connection is held while the caller
consumes rows, an early stop leaves nothing open, and a range shorter than a page costs one scanner.
A call that meets a dropped Thrift connection is retried once on a fresh connection pool; an increment only
when the connection failed before it was sent (it is not idempotent).
"""

from __future__ import annotations

import contextlib
import queue as queue_module
import re
import socket
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any, TypeVar

import happybase
from thriftpy2.protocol.exc import TProtocolException
from thriftpy2.thrift import TException
from thriftpy2.transport import TTransportException

from storage.kv.base import TABLES, SortedKV, TrackStoreError

T = TypeVar("T")

FAMILY = b"d"
COLUMN = b"d:v"
#: Bytes of keys and values per mutateRows call: the gateway's framed transport refuses frames over
#: `hbase.regionserver.thrift.framed.max_frame_size_in_mb` (2 MB by default), and track blocks are large.
WRITE_BATCH_BYTES = 1 << 20
#: Tables whose keys start with a salt byte, and so are pre-split by salt; `meta` is small and unsalted.
SALTED_TABLES: tuple[str, ...] = tuple(t for t in TABLES if t != "meta")
TRANSPORTS = ("buffered", "framed")
PROTOCOLS = ("binary", "compact")
#: Options that settings pass to every track-store backend but that only LMDB uses.
OTHER_BACKEND_OPTIONS = frozenset({"path", "map_size_gb"})
HBASE_OPTIONS = frozenset(
    {"host", "port", "prefix", "transport", "protocol", "salts", "pool_size", "batch_size", "timeout_ms"}
)
_TABLE_PREFIX = re.compile(r"[A-Za-z0-9_.-]*")

# A failure of the connection itself (worth one retry on a fresh connection), as opposed to an answer
# from HBase such as a missing table.
_CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    TTransportException,
    TProtocolException,
    OSError,
    EOFError,
    socket.timeout,
)


@dataclass(frozen=True)
class HBaseTable:
    """One table of the store as `create_tables` found or made it."""

    name: str
    created: bool


def _int_option(options: Mapping[str, Any], name: str, default: int, *, minimum: int, maximum: int) -> int:
    raw = options.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise TrackStoreError(f"TRACK_STORE option {name}={raw!r} is not an integer") from None
    if not minimum <= value <= maximum:
        raise TrackStoreError(f"TRACK_STORE option {name}={value} must be between {minimum} and {maximum}")
    return value


def _choice_option(options: Mapping[str, Any], name: str, choices: tuple[str, ...]) -> str:
    value = str(options.get(name) or choices[0])
    if value not in choices:
        raise TrackStoreError(f"TRACK_STORE option {name}={value!r} is not one of: {', '.join(choices)}")
    return value


class HBaseStore(SortedKV):
    """SortedKV tables as HBase tables `<prefix>_<table>`, one `d:v` cell per key."""

    engine = "hbase"

    def __init__(
        self,
        *,
        host: str,
        port: int = 9090,
        prefix: str = "",
        transport: str = "buffered",
        protocol: str = "binary",
        salts: int = 16,
        pool_size: int = 4,
        batch_size: int = 1000,
        timeout_ms: int = 10_000,
    ) -> None:
        if not _TABLE_PREFIX.fullmatch(prefix):
            raise TrackStoreError(
                f"TRACK_STORE table prefix {prefix!r} may only hold letters, digits, '_', '-' and '.'"
            )
        self.host = host
        self.port = port
        self.prefix = prefix
        self.transport = transport
        self.protocol = protocol
        self.salts = salts
        self.pool_size = pool_size
        self.batch_size = batch_size
        self.timeout_ms = timeout_ms
        self._pool: happybase.ConnectionPool | None = None
        self._pool_lock = threading.Lock()

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> HBaseStore:
        """A store configured from TRACK_STORES OPTIONS (values may be strings); connects lazily."""
        unknown = set(options) - HBASE_OPTIONS - OTHER_BACKEND_OPTIONS
        if unknown:
            raise TrackStoreError(
                f"TRACK_STORE has unknown option(s) {', '.join(sorted(unknown))}; "
                f"accepted: {', '.join(sorted(HBASE_OPTIONS - {'host', 'port', 'prefix'}))}"
            )
        host = str(options.get("host") or "")
        if not host:
            raise TrackStoreError(
                "TRACK_STORE names no HBase Thrift host (example: hbase://host:9090/dispatch)"
            )
        return cls(
            host=host,
            port=_int_option(options, "port", 9090, minimum=1, maximum=65535),
            prefix=str(options.get("prefix") or ""),
            transport=_choice_option(options, "transport", TRANSPORTS),
            protocol=_choice_option(options, "protocol", PROTOCOLS),
            # The salt is one key byte, so at most 256 values.
            salts=_int_option(options, "salts", 16, minimum=1, maximum=256),
            pool_size=_int_option(options, "pool_size", 4, minimum=1, maximum=1024),
            batch_size=_int_option(options, "batch_size", 1000, minimum=1, maximum=1_000_000),
            timeout_ms=_int_option(options, "timeout_ms", 10_000, minimum=1, maximum=3_600_000),
        )

    @property
    def location(self) -> str:
        """Where the store lives, as a TRACK_STORE-style URL (shown on pages and in errors)."""
        return f"hbase://{self.host}:{self.port}/{self.prefix}"

    def table_name(self, table: str) -> str:
        """The HBase table name that holds SortedKV table `table`."""
        return f"{self.prefix}_{table}" if self.prefix else table

    # -- SortedKV primitives -------------------------------------------------------------------------

    def put_many(self, table: str, items: Iterable[tuple[bytes, bytes]]) -> int:
        """Write every (key, value) in mutateRows batches of at most `batch_size` rows and about 1 MB."""
        self._check_table(table)
        written = 0
        for chunk in _write_batches(items, max_rows=self.batch_size, max_bytes=WRITE_BATCH_BYTES):

            def send(connection: happybase.Connection, chunk: list[tuple[bytes, bytes]] = chunk) -> None:
                batch = connection.table(table).batch()
                for key, value in chunk:
                    batch.put(key, {COLUMN: value})
                batch.send()

            self._attempt(f"write to {self.table_name(table)}", send)
            written += len(chunk)
        return written

    def get_many(self, table: str, keys: Sequence[bytes]) -> list[bytes | None]:
        """The value of each key, in order, read with getRows in batches of `batch_size`."""
        self._check_table(table)
        found: dict[bytes, bytes] = {}
        for offset in range(0, len(keys), self.batch_size):
            chunk = list(keys[offset : offset + self.batch_size])

            def read(connection: happybase.Connection, chunk: list[bytes] = chunk) -> list[tuple[bytes, Any]]:
                rows: list[tuple[bytes, Any]] = connection.table(table).rows(chunk, columns=[COLUMN])
                return rows

            for key, cells in self._attempt(f"read {self.table_name(table)}", read):
                found[key] = cells[COLUMN]
        return [found.get(key) for key in keys]

    def scan(
        self, table: str, start: bytes, stop: bytes | None, *, keys_only: bool = False
    ) -> Iterator[tuple[bytes, bytes]]:
        """Every (key, value) with start <= key < stop, in key order, fetched `batch_size` rows at a time."""
        self._check_table(table)
        return self._scan_pages(table, start, stop, keys_only=keys_only)

    def _scan_pages(
        self, table: str, start: bytes, stop: bytes | None, *, keys_only: bool
    ) -> Iterator[tuple[bytes, bytes]]:
        cursor = start
        while stop is None or cursor < stop:

            def read(connection: happybase.Connection, cursor: bytes = cursor) -> list[tuple[bytes, bytes]]:
                return self._read_page(connection, table, cursor, stop)

            page = self._attempt(f"scan {self.table_name(table)}", read)
            for key, value in page:
                yield key, (b"" if keys_only else value)
            if len(page) < self.batch_size:
                return
            # The smallest key after the last one read: resuming there never repeats or skips a row.
            cursor = page[-1][0] + b"\x00"

    def _read_page(
        self, connection: happybase.Connection, table: str, start: bytes, stop: bytes | None
    ) -> list[tuple[bytes, bytes]]:
        """Up to `batch_size` rows from `start`, through one scanner that is always closed."""
        client = connection.client
        # Mirrors what happybase's Table.scan sends, minus its extra scannerGetList that only confirms the
        # end of a short scan: a page shorter than batch_size already says the range is done.
        scan = happybase.table.TScan(startRow=start, stopRow=stop, columns=[COLUMN], caching=self.batch_size)
        scanner_id = client.scannerOpenWithScan(connection.table(table).name, scan, {})
        try:
            rows = client.scannerGetList(scanner_id, self.batch_size)
        finally:
            client.scannerClose(scanner_id)
        return [(row.row, row.columns[COLUMN].value) for row in rows]

    def delete_many(self, table: str, keys: Iterable[bytes]) -> int:
        """Delete the keys in mutateRows batches of `batch_size`; returns how many were given."""
        self._check_table(table)
        given = 0
        iterator = iter(keys)
        while chunk := list(islice(iterator, self.batch_size)):

            def send(connection: happybase.Connection, chunk: list[bytes] = chunk) -> None:
                batch = connection.table(table).batch()
                for key in chunk:
                    batch.delete(key, columns=[COLUMN])
                batch.send()

            self._attempt(f"delete from {self.table_name(table)}", send)
            given += len(chunk)
        return given

    def increment(self, table: str, key: bytes, amount: int) -> int:
        """Add to the counter at `key` with HBase's atomicIncrement (happybase `Table.counter_inc`)."""
        self._check_table(table)

        def send(connection: happybase.Connection) -> int:
            total: int = connection.table(table).counter_inc(key, COLUMN, amount)
            return total

        return self._attempt(f"increment a counter in {self.table_name(table)}", send, repeatable=False)

    def close(self) -> None:
        """Close the pooled connections; the next call opens a new pool."""
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            _close_idle_connections(pool)

    # -- table administration ------------------------------------------------------------------------

    def create_tables(self) -> list[HBaseTable]:
        """Create every missing table (family `d`, one version); existing tables are left as they are."""

        def create(connection: happybase.Connection) -> list[HBaseTable]:
            existing = {name.decode() for name in connection.tables()}
            result = []
            for table in TABLES:
                if table not in existing:
                    connection.create_table(table, {FAMILY.decode(): COLUMN_FAMILY_OPTIONS})
                result.append(HBaseTable(name=self.table_name(table), created=table not in existing))
            return result

        return self._attempt("create tables", create)

    # -- connections ---------------------------------------------------------------------------------

    def _check_table(self, table: str) -> None:
        if table not in TABLES:
            # A programming error, not a store failure: the same ValueError as the LMDB backend.
            raise ValueError(f"unknown table {table!r}; tables: {', '.join(TABLES)}")

    def _attempt(
        self, what: str, operation: Callable[[happybase.Connection], T], *, repeatable: bool = True
    ) -> T:
        """Run `operation`, retrying once on a fresh pool when the Thrift connection fails.

        An operation that must not run twice (`repeatable=False`, an increment) is retried only when the
        connection failed before it was sent: a cheap read on the same connection proves it alive first,
        and a failure after that is reported rather than retried, since HBase may have applied it.
        """
        failure: BaseException | None = None
        for _ in range(2):
            pool = None
            sent = False
            try:
                pool = self._connection_pool()
                with pool.connection(timeout=self.timeout_ms / 1000) as connection:
                    if not repeatable:
                        connection.table("meta").row(b"\x00", columns=[COLUMN])
                    sent = True
                    return operation(connection)
            except _CONNECTION_ERRORS as exc:
                # Every pooled connection may be stale (a restarted gateway drops them all), so the retry
                # and later calls start from a new pool rather than from a sibling of the broken connection.
                self._discard_pool(pool)
                if sent and not repeatable:
                    raise TrackStoreError(
                        f"the connection to the HBase Thrift server at {self.host}:{self.port} failed "
                        f"({_exception_text(exc)}) while trying to {what}; HBase may or may not have "
                        "applied it, so it was not repeated (a dataset count may be off by one write); "
                        f"check TRACK_STORE (now {self.location})"
                    ) from exc
                failure = exc
            except happybase.NoConnectionsAvailable:
                raise TrackStoreError(
                    f"all {self.pool_size} HBase connections to {self.host}:{self.port} stayed busy for "
                    f"{self.timeout_ms} ms; raise pool_size or timeout_ms in TRACK_STORE"
                ) from None
            except TException as exc:
                raise TrackStoreError(self._refusal_message(what, exc)) from exc
        raise TrackStoreError(
            f"HBase Thrift server at {self.host}:{self.port} is unreachable ({_exception_text(failure)}) "
            f"while trying to {what}; check TRACK_STORE (now {self.location}"
            f"?transport={self.transport}&protocol={self.protocol}) and that the Thrift gateway runs "
            "with the same transport and protocol"
        ) from failure

    def _refusal_message(self, what: str, exc: TException) -> str:
        message = _exception_text(exc)
        if "TableNotFoundException" in message:
            return (
                f"HBase has no table {message.rsplit(':', 1)[-1].strip()} (while trying to {what}); "
                f"run `manage.py hbase_create_tables` for TRACK_STORE={self.location}"
            )
        return f"HBase refused to {what}: {message} (TRACK_STORE={self.location})"

    def _connection_pool(self) -> happybase.ConnectionPool:
        with self._pool_lock:
            if self._pool is None:
                # Building the pool opens its first connection, so an unreachable server fails here.
                self._pool = happybase.ConnectionPool(
                    size=self.pool_size,
                    host=self.host,
                    port=self.port,
                    timeout=self.timeout_ms,
                    transport=self.transport,
                    protocol=self.protocol,
                    table_prefix=self.prefix or None,
                    table_prefix_separator="_",
                )
            return self._pool

    def _discard_pool(self, pool: happybase.ConnectionPool | None) -> None:
        with self._pool_lock:
            if pool is not None and self._pool is pool:
                self._pool = None
        if pool is not None:
            _close_idle_connections(pool)


#: Column family settings used by `create_tables` (Thrift) and mirrored by the shell script.
COLUMN_FAMILY_OPTIONS: dict[str, Any] = {
    "max_versions": 1,
    "bloom_filter_type": "ROW",
    "block_cache_enabled": True,
    "compression": "NONE",
}


def _write_batches(
    items: Iterable[tuple[bytes, bytes]], *, max_rows: int, max_bytes: int
) -> Iterator[list[tuple[bytes, bytes]]]:
    """`items` in consecutive lists of at most `max_rows` rows and `max_bytes` (a lone row may exceed it)."""
    batch: list[tuple[bytes, bytes]] = []
    size = 0
    for key, value in items:
        if batch and (len(batch) == max_rows or size + len(key) + len(value) > max_bytes):
            yield batch
            batch, size = [], 0
        batch.append((key, value))
        size += len(key) + len(value)
    if batch:
        yield batch


def _exception_text(exc: BaseException | None) -> str:
    """The message of a Thrift exception; happybase reads string fields as bytes, so decode them."""
    raw = getattr(exc, "message", None)
    if isinstance(raw, bytes):
        return raw.decode(errors="replace")
    return str(raw) if raw else type(exc).__name__


def _close_idle_connections(pool: happybase.ConnectionPool) -> None:
    """Close the connections waiting in a discarded pool (ones in use close when their holder is done)."""
    # happybase's pool has no close(); its idle connections sit in its queue.
    queue = getattr(pool, "_queue", None)
    while queue is not None and not queue.empty():
        try:
            connection = queue.get_nowait()
        except queue_module.Empty:  # another thread emptied it first
            return
        # A connection that is already broken has nothing left to release.
        with contextlib.suppress(TException, OSError, EOFError):
            connection.close()


def hbase_shell_script(*, prefix: str, salts: int, meta_rows: Sequence[tuple[bytes, bytes]] = ()) -> str:
    """The `hbase shell` script that creates every table, pre-split by salt, then puts `meta_rows` in meta."""

    def name(table: str) -> str:
        return f"{prefix}_{table}" if prefix else table

    family = (
        "{NAME => 'd', VERSIONS => 1, BLOOMFILTER => 'ROW', COMPRESSION => 'NONE', "
        "DATA_BLOCK_ENCODING => 'FAST_DIFF'}"
    )
    splits = ", ".join(f'"\\x{salt:02x}"' for salt in range(1, salts))
    lines = [
        f"# Dispatchscope track store: tables for prefix {prefix!r}, {salts} salt(s), one region per salt.",
        "# Run with: hbase shell -n <this file>",
        f"create '{name('meta')}', {family}",
    ]
    for table in SALTED_TABLES:
        if salts > 1:
            lines.append(f"create '{name(table)}', {family}, SPLITS => [{splits}]")
        else:
            lines.append(f"create '{name(table)}', {family}")
    for key, value in meta_rows:
        lines.append(f"put '{name('meta')}', {_ruby_bytes(key)}, '{COLUMN.decode()}', {_ruby_bytes(value)}")
    return "\n".join(lines) + "\n"


def _ruby_bytes(raw: bytes) -> str:
    """`raw` as a double-quoted Ruby string literal (what the hbase shell reads)."""
    out = []
    for byte in raw:
        char = chr(byte)
        if char in '"\\#':
            out.append("\\" + char)
        elif 0x20 <= byte < 0x7F:
            out.append(char)
        else:
            out.append(f"\\x{byte:02x}")
    return '"' + "".join(out) + '"'
