"""An in-process HBase Thrift 1 server for tests, built from the `Hbase.thrift` IDL shipped in happybase.

Data layout: per table, a sorted list of row keys (kept sorted with `bisect`) beside a dict
`row -> {b"family:qualifier": (value, timestamp_ms)}`. Only the latest version of a cell is kept.

What it emulates, call by call, is what happybase sends: table admin (create, delete, enable, disable,
list, column descriptors, one region per table), single and batched mutations, point reads, scanners
(`scannerOpenWithScan` with start/stop rows and columns, `scannerOpen*`, `scannerGetList`, `scannerGet`,
`scannerClose`), whole-row deletes and 64-bit counters. Errors are the IDL's `IOError`, `IllegalArgument`
and `AlreadyExists`, raised where HBase raises them, with HBase's Java exception names in the message.

What it does NOT emulate. Refused loudly (IllegalArgument, or "does not emulate Hbase.<call>"): filters
(`filterString`), reversed scans, scan batching of wide rows, timestamped reads (`*Ts`, `TScan.timestamp`)
and every call not defined below. Simply absent: region splits and region servers, the write-ahead log and
durability, versions beyond the newest cell (whatever `VERSIONS` says), delete markers (a delete removes
cells at or before its timestamp and leaves nothing behind), security (SASL/Kerberos/TLS), Thrift 2,
scanner leases (a scanner lives until closed or the server stops) and snapshot isolation (a scanner sees
writes made after it opened). Column family options are stored and returned but change nothing.

Operational switches for tests: `drop_connections()` closes every client socket (the client then sees the
classic "TSocket read 0 bytes"), `stop()`/`start()` take the port down and bring it back with the data intact,
and `calls` counts Thrift calls by name so tests can assert round trips.
"""

from __future__ import annotations

import bisect
import contextlib
import logging
import os
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import happybase
import pytest
import thriftpy2
from thriftpy2.protocol import TBinaryProtocolFactory, TCompactProtocolFactory
from thriftpy2.thrift import TApplicationException, TProcessor
from thriftpy2.transport import (
    TBufferedTransportFactory,
    TFramedTransportFactory,
    TSocket,
    TTransportException,
)

from storage.kv.base import SortedKV
from storage.kv.hbase import HBaseStore

# Loaded under its own module name so the server's classes never replace the `Hbase_thrift` module that
# happybase's client imported; both sides only share the wire format, as a real server would.
HBASE_THRIFT: Any = thriftpy2.load(
    os.path.join(os.path.dirname(happybase.__file__), "Hbase.thrift"), module_name="hbase_test_server_thrift"
)

TRANSPORT_FACTORIES = {"buffered": TBufferedTransportFactory, "framed": TFramedTransportFactory}
PROTOCOL_FACTORIES = {"binary": TBinaryProtocolFactory, "compact": TCompactProtocolFactory}

logger = logging.getLogger(__name__)
LONG = struct.Struct(">q")  # Bytes.toBytes(long): how HBase stores a counter


def _io_error(message: str) -> Exception:
    exc: Exception = HBASE_THRIFT.IOError(message=message)
    return exc


def _illegal_argument(message: str) -> Exception:
    exc: Exception = HBASE_THRIFT.IllegalArgument(message=message)
    return exc


def _split_column(column: bytes) -> tuple[bytes, bytes]:
    """`family:qualifier` → (family, qualifier); a bare family has the empty qualifier, as in HBase."""
    family, _, qualifier = column.partition(b":")
    return family, qualifier


@dataclass
class Table:
    """One HBase table: its column families and its rows in key order."""

    families: dict[bytes, Any]  # family name (no colon) → ColumnDescriptor
    enabled: bool = True
    keys: list[bytes] = field(default_factory=list)  # sorted row keys
    rows: dict[bytes, dict[bytes, tuple[bytes, int]]] = field(default_factory=dict)

    def put(self, row: bytes, column: bytes, value: bytes, timestamp: int) -> None:
        """Write a cell; as in HBase, the cell with the newest timestamp is the one that stays."""
        cells = self.rows.get(row)
        if cells is None:
            bisect.insort(self.keys, row)
            cells = self.rows[row] = {}
        current = cells.get(column)
        if current is None or current[1] <= timestamp:
            cells[column] = (value, timestamp)

    def delete(self, row: bytes, column: bytes | None, timestamp: int | None = None) -> None:
        """Delete one column (`b"fam:qual"`), every column of a family (`b"fam"`), or the row (None).

        With a timestamp only cells written at or before it go (HBase's delete markers, which would also
        hide later writes with older timestamps, are not kept).
        """
        cells = self.rows.get(row)
        if cells is None:
            return
        if column is None:
            doomed = list(cells)
        elif b":" in column:
            doomed = [column] if column in cells else []
        else:
            doomed = [name for name in cells if _split_column(name)[0] == column]
        for name in doomed:
            if timestamp is None or cells[name][1] <= timestamp:
                del cells[name]
        if not cells:
            del self.rows[row]
            del self.keys[bisect.bisect_left(self.keys, row)]

    def cells(self, row: bytes, columns: list[bytes] | None) -> dict[bytes, tuple[bytes, int]]:
        """The row's cells limited to `columns` (`fam:qual`, or `fam`/`fam:` for a family); all when None."""
        cells = self.rows.get(row, {})
        if not columns:
            return dict(cells)
        wanted_columns = {c for c in columns if _split_column(c)[1]}
        wanted_families = {_split_column(c)[0] for c in columns if not _split_column(c)[1]}
        return {
            name: cell
            for name, cell in cells.items()
            if name in wanted_columns or _split_column(name)[0] in wanted_families
        }


@dataclass
class Scanner:
    """An open scanner: the rows still to return are those after `last_row` and before `stop_row`."""

    table: bytes
    start_row: bytes
    stop_row: bytes | None
    columns: list[bytes] | None
    sort_columns: bool
    last_row: bytes | None = None


class HBaseHandler:
    """The Hbase service methods happybase calls, over in-memory sorted tables.

    Every method holds one lock, so each call is atomic, like a single-row operation in HBase.
    """

    def __init__(self) -> None:
        self.tables: dict[bytes, Table] = {}
        self.scanners: dict[int, Scanner] = {}
        self._next_scanner_id = 1
        self._lock = threading.RLock()

    # -- helpers -------------------------------------------------------------------------------------

    def _table(self, name: bytes, *, must_be_enabled: bool = True) -> Table:
        table = self.tables.get(name)
        if table is None:
            raise _io_error(
                f"org.apache.hadoop.hbase.TableNotFoundException: {name.decode(errors='replace')}"
            )
        if must_be_enabled and not table.enabled:
            raise _io_error(
                f"org.apache.hadoop.hbase.TableNotEnabledException: {name.decode(errors='replace')}"
            )
        return table

    def _check_family(self, table_name: bytes, table: Table, column: bytes) -> None:
        family, _ = _split_column(column)
        if family not in table.families:
            raise _io_error(
                "org.apache.hadoop.hbase.regionserver.NoSuchColumnFamilyException: column family "
                f"{family.decode(errors='replace')} does not exist in table "
                f"{table_name.decode(errors='replace')}"
            )

    def _row_result(self, row: bytes, cells: dict[bytes, tuple[bytes, int]], *, sort_columns: bool) -> Any:
        if sort_columns:
            return HBASE_THRIFT.TRowResult(
                row=row,
                sortedColumns=[
                    HBASE_THRIFT.TColumn(columnName=name, cell=HBASE_THRIFT.TCell(value=v, timestamp=ts))
                    for name, (v, ts) in sorted(cells.items())
                ],
            )
        return HBASE_THRIFT.TRowResult(
            row=row,
            columns={name: HBASE_THRIFT.TCell(value=v, timestamp=ts) for name, (v, ts) in cells.items()},
        )

    def _apply_mutations(self, table_name: bytes, row: bytes, mutations: list[Any], timestamp: int) -> None:
        table = self._table(table_name)
        if not row:
            raise _illegal_argument("java.lang.IllegalArgumentException: Row length is 0")
        # HBase checks every family before applying any mutation of the batch.
        for mutation in mutations:
            if mutation.column is None and not mutation.isDelete:
                raise _illegal_argument("java.lang.IllegalArgumentException: a put needs a column")
            if mutation.column is not None:
                self._check_family(table_name, table, mutation.column)
        for mutation in mutations:
            if mutation.isDelete:
                table.delete(row, mutation.column, timestamp)
            else:
                table.put(row, mutation.column, mutation.value or b"", timestamp)

    # -- table administration ------------------------------------------------------------------------

    def getTableNames(self) -> list[bytes]:
        with self._lock:
            return sorted(self.tables)

    def createTable(self, tableName: bytes, columnFamilies: list[Any]) -> None:
        with self._lock:
            if not tableName:
                raise _illegal_argument("java.lang.IllegalArgumentException: Table name is empty")
            if tableName in self.tables:
                raise HBASE_THRIFT.AlreadyExists(message=f"table name already in use: {tableName.decode()}")
            if not columnFamilies:
                raise _illegal_argument("java.lang.IllegalArgumentException: a table needs a column family")
            families = {}
            for descriptor in columnFamilies:
                family = descriptor.name.rstrip(b":")
                if not family or b":" in family:
                    raise _illegal_argument(f"java.lang.IllegalArgumentException: bad family name {family!r}")
                families[family] = descriptor
            self.tables[tableName] = Table(families=families)

    def deleteTable(self, tableName: bytes) -> None:
        with self._lock:
            table = self._table(tableName, must_be_enabled=False)
            if table.enabled:
                raise _io_error(f"org.apache.hadoop.hbase.TableNotDisabledException: {tableName.decode()}")
            del self.tables[tableName]

    def enableTable(self, tableName: bytes) -> None:
        with self._lock:
            self._table(tableName, must_be_enabled=False).enabled = True

    def disableTable(self, tableName: bytes) -> None:
        with self._lock:
            self._table(tableName, must_be_enabled=False).enabled = False

    def isTableEnabled(self, tableName: bytes) -> bool:
        with self._lock:
            return self._table(tableName, must_be_enabled=False).enabled

    def getColumnDescriptors(self, tableName: bytes) -> dict[bytes, Any]:
        with self._lock:
            table = self._table(tableName, must_be_enabled=False)
            return {family + b":": descriptor for family, descriptor in table.families.items()}

    def getTableRegions(self, tableName: bytes) -> list[Any]:
        # One region spanning every key: this server never splits.
        with self._lock:
            self._table(tableName, must_be_enabled=False)
            return [
                HBASE_THRIFT.TRegionInfo(
                    startKey=b"",
                    endKey=b"",
                    id=1,
                    name=tableName + b",,1",
                    version=1,
                    serverName=b"127.0.0.1",
                    port=0,
                )
            ]

    # -- writes --------------------------------------------------------------------------------------

    def mutateRow(self, tableName: bytes, row: bytes, mutations: list[Any], attributes: Any) -> None:
        with self._lock:
            self._apply_mutations(tableName, row, mutations, int(time.time() * 1000))

    def mutateRowTs(
        self, tableName: bytes, row: bytes, mutations: list[Any], timestamp: int, attributes: Any
    ) -> None:
        with self._lock:
            self._apply_mutations(tableName, row, mutations, timestamp)

    def mutateRows(self, tableName: bytes, rowBatches: list[Any], attributes: Any) -> None:
        with self._lock:
            now = int(time.time() * 1000)
            for batch in rowBatches:
                self._apply_mutations(tableName, batch.row, batch.mutations, now)

    def mutateRowsTs(self, tableName: bytes, rowBatches: list[Any], timestamp: int, attributes: Any) -> None:
        with self._lock:
            for batch in rowBatches:
                self._apply_mutations(tableName, batch.row, batch.mutations, timestamp)

    def deleteAllRow(self, tableName: bytes, row: bytes, attributes: Any) -> None:
        with self._lock:
            self._table(tableName).delete(row, None)

    def deleteAll(self, tableName: bytes, row: bytes, column: bytes, attributes: Any) -> None:
        with self._lock:
            self._table(tableName).delete(row, column)

    def atomicIncrement(self, tableName: bytes, row: bytes, column: bytes, value: int) -> int:
        """HBase's Table.incrementColumnValue: the cell holds the counter as an 8-byte big-endian long."""
        with self._lock:
            table = self._table(tableName)
            if not row:
                raise _illegal_argument("java.lang.IllegalArgumentException: Row length is 0")
            self._check_family(tableName, table, column)
            current = table.rows.get(row, {}).get(column)
            now = int(time.time() * 1000)
            if current is None:
                total = value
            elif len(current[0]) != LONG.size:
                raise _io_error(
                    "org.apache.hadoop.hbase.DoNotRetryIOException: Field is not a long, it's "
                    f"{len(current[0])} bytes wide"
                )
            else:
                total = LONG.unpack(current[0])[0] + value
                # HBase stamps the new cell after the old one, so the increment is the newest version.
                now = max(now, current[1] + 1)
            # Java's long arithmetic wraps around on overflow.
            total = (total + (1 << 63)) % (1 << 64) - (1 << 63)
            table.put(row, column, LONG.pack(total), now)
            self.after_increment()
            return total

    def after_increment(self) -> None:
        """Called once an increment is applied, before it is answered (tests replace it to fail there)."""

    # -- point reads ---------------------------------------------------------------------------------

    def get(self, tableName: bytes, row: bytes, column: bytes, attributes: Any) -> list[Any]:
        with self._lock:
            cell = self._table(tableName).cells(row, [column]).get(column)
            return [] if cell is None else [HBASE_THRIFT.TCell(value=cell[0], timestamp=cell[1])]

    def getVer(
        self, tableName: bytes, row: bytes, column: bytes, numVersions: int, attributes: Any
    ) -> list[Any]:
        # Only the latest version is kept, so at most one cell comes back.
        return self.get(tableName, row, column, attributes)

    def getRowWithColumns(
        self, tableName: bytes, row: bytes, columns: list[bytes] | None, attributes: Any
    ) -> list[Any]:
        return self.getRowsWithColumns(tableName, [row], columns, attributes)

    def getRow(self, tableName: bytes, row: bytes, attributes: Any) -> list[Any]:
        return self.getRowsWithColumns(tableName, [row], None, attributes)

    def getRows(self, tableName: bytes, rows: list[bytes], attributes: Any) -> list[Any]:
        return self.getRowsWithColumns(tableName, rows, None, attributes)

    def getRowsWithColumns(
        self, tableName: bytes, rows: list[bytes], columns: list[bytes] | None, attributes: Any
    ) -> list[Any]:
        # Like HBase, rows with no matching cells are left out of the answer rather than returned empty.
        with self._lock:
            table = self._table(tableName)
            results = []
            for row in rows:
                cells = table.cells(row, columns)
                if cells:
                    results.append(self._row_result(row, cells, sort_columns=False))
            return results

    # -- scanners ------------------------------------------------------------------------------------

    def scannerOpenWithScan(self, tableName: bytes, scan: Any, attributes: Any) -> int:
        refused = {
            "filterString": scan.filterString,
            "timestamp": scan.timestamp,
            "reversed": scan.reversed,
            "batchSize": scan.batchSize,
        }
        for name, value in refused.items():
            if value:
                raise _illegal_argument(
                    f"the HBase test server does not emulate TScan.{name} (got {value!r})"
                )
        return self._open_scanner(
            tableName,
            scan.startRow or b"",
            scan.stopRow or None,
            scan.columns,
            sort_columns=bool(scan.sortColumns),
        )

    def scannerOpen(
        self, tableName: bytes, startRow: bytes, columns: list[bytes] | None, attributes: Any
    ) -> int:
        return self._open_scanner(tableName, startRow or b"", None, columns, sort_columns=False)

    def scannerOpenWithStop(
        self, tableName: bytes, startRow: bytes, stopRow: bytes, columns: list[bytes] | None, attributes: Any
    ) -> int:
        return self._open_scanner(tableName, startRow or b"", stopRow or None, columns, sort_columns=False)

    def scannerOpenWithPrefix(
        self, tableName: bytes, startAndPrefix: bytes, columns: list[bytes] | None, attributes: Any
    ) -> int:
        stop = _prefix_stop(startAndPrefix)
        return self._open_scanner(tableName, startAndPrefix, stop, columns, sort_columns=False)

    def _open_scanner(
        self,
        table_name: bytes,
        start_row: bytes,
        stop_row: bytes | None,
        columns: list[bytes] | None,
        *,
        sort_columns: bool,
    ) -> int:
        with self._lock:
            self._table(table_name)
            scanner_id = self._next_scanner_id
            self._next_scanner_id += 1
            self.scanners[scanner_id] = Scanner(table_name, start_row, stop_row, columns, sort_columns)
            return scanner_id

    def scannerGetList(self, id: int, nbRows: int) -> list[Any]:
        with self._lock:
            scanner = self.scanners.get(id)
            if scanner is None:
                raise _illegal_argument(f"scanner ID is invalid: {id}")
            table = self._table(scanner.table)
            if scanner.last_row is None:
                position = bisect.bisect_left(table.keys, scanner.start_row)
            else:
                position = bisect.bisect_right(table.keys, scanner.last_row)
            results: list[Any] = []
            while position < len(table.keys) and len(results) < max(nbRows, 1):
                row = table.keys[position]
                if scanner.stop_row is not None and row >= scanner.stop_row:
                    break
                cells = table.cells(row, scanner.columns)
                if cells:
                    results.append(self._row_result(row, cells, sort_columns=scanner.sort_columns))
                scanner.last_row = row
                position += 1
            return results

    def scannerGet(self, id: int) -> list[Any]:
        return self.scannerGetList(id, 1)

    def scannerClose(self, id: int) -> None:
        with self._lock:
            if self.scanners.pop(id, None) is None:
                raise _illegal_argument(f"scanner ID is invalid: {id}")


def _prefix_stop(prefix: bytes) -> bytes | None:
    trimmed = prefix.rstrip(b"\xff")
    return trimmed[:-1] + bytes([trimmed[-1] + 1]) if trimmed else None


class _Processor(TProcessor):
    """A TProcessor that answers a handler failure with a TApplicationException instead of hanging up.

    thriftpy2's own processor re-raises undeclared exceptions, which closes the socket; a real HBase
    Thrift server reports them, so a test sees the cause rather than "TSocket read 0 bytes".
    """

    def process(self, iprot: Any, oprot: Any) -> None:
        api, seqid, result, call = self.process_in(iprot)
        if isinstance(result, TApplicationException):
            self.send_exception(oprot, api, result, seqid)
            return
        assert call is not None
        try:
            result.success = call()
        except TApplicationException as exc:
            self.send_exception(oprot, api, exc, seqid)
            return
        except AttributeError:
            message = f"the HBase test server does not emulate Hbase.{api}"
            self.send_exception(
                oprot, api, TApplicationException(TApplicationException.UNKNOWN_METHOD, message), seqid
            )
            return
        except Exception as exc:
            if not self.handle_exception(exc, result):
                logger.exception("HBase test server failed in %s", api)
                failure = TApplicationException(TApplicationException.INTERNAL_ERROR, f"{api}: {exc!r}")
                self.send_exception(oprot, api, failure, seqid)
                return
        self.send_result(oprot, api, result, seqid)


class _CountingHandler:
    """Counts each Thrift call by name before passing it to the real handler."""

    def __init__(self, handler: HBaseHandler, calls: Counter[str]) -> None:
        self._handler = handler
        self._calls = calls

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._handler, name)
        self._calls[name] += 1
        return method


class HBaseTestServer:
    """A threaded Thrift server on 127.0.0.1 speaking one transport and one protocol."""

    def __init__(
        self, *, transport: str = "buffered", protocol: str = "binary", handler: HBaseHandler | None = None
    ) -> None:
        self.host = "127.0.0.1"
        self.port = 0
        self.transport = transport
        self.protocol = protocol
        self.handler = handler or HBaseHandler()
        self.calls: Counter[str] = Counter()
        self._processor = _Processor(HBASE_THRIFT.Hbase, _CountingHandler(self.handler, self.calls))
        self._transport_factory: Any = TRANSPORT_FACTORIES[transport]()
        self._protocol_factory = PROTOCOL_FACTORIES[protocol]()
        self._listener: socket.socket | None = None
        self._accept_thread: threading.Thread | None = None
        self._clients: set[socket.socket] = set()
        self._clients_lock = threading.Lock()

    @property
    def url(self) -> str:
        """The TRACK_STORE-style address of this server (without a table prefix)."""
        return f"hbase://{self.host}:{self.port}/?transport={self.transport}&protocol={self.protocol}"

    def start(self) -> None:
        """Listen (on a free port the first time, on the same port after a stop) and serve in threads."""
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self.port))
        listener.listen(64)
        # A short accept timeout lets stop() end the loop without relying on close() waking accept().
        listener.settimeout(0.1)
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._accept_thread = threading.Thread(target=self._accept_loop, args=(listener,), daemon=True)
        self._accept_thread.start()

    def stop(self) -> None:
        """Stop listening and drop every client; the tables stay, as they would behind a restarted gateway."""
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        if self._accept_thread is not None:
            self._accept_thread.join()
            self._accept_thread = None
        self.drop_connections()

    def drop_connections(self) -> None:
        """Close every open client socket; each client's next call fails with "TSocket read 0 bytes"."""
        with self._clients_lock:
            clients, self._clients = self._clients, set()
        for client in clients:
            with contextlib.suppress(OSError):
                client.shutdown(socket.SHUT_RDWR)
            client.close()

    @property
    def open_connections(self) -> int:
        """How many client sockets are currently open."""
        with self._clients_lock:
            return len(self._clients)

    @property
    def open_scanners(self) -> int:
        """How many scanners are open (a client that stops reading early must still close its scanner)."""
        return len(self.handler.scanners)

    def _accept_loop(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            with self._clients_lock:
                self._clients.add(client)
            threading.Thread(target=self._serve_client, args=(client,), daemon=True).start()

    def _serve_client(self, client: socket.socket) -> None:
        transport = self._transport_factory.get_transport(TSocket(sock=client))
        protocol = self._protocol_factory.get_protocol(transport)
        try:
            while True:
                self._processor.process(protocol, protocol)
        except (TTransportException, OSError):
            pass  # the client hung up, or drop_connections() closed the socket
        except Exception as exc:
            # Bytes that do not decode: usually a client using another transport or protocol. The real
            # gateway logs and hangs up too, so the client sees "TSocket read 0 bytes".
            logger.warning(
                "HBase test server (%s/%s) hung up on an undecodable request: %r",
                self.transport,
                self.protocol,
                exc,
            )
        finally:
            with self._clients_lock:
                self._clients.discard(client)
            with contextlib.suppress(OSError):
                client.close()


@contextlib.contextmanager
def hbase_server(
    *, transport: str = "buffered", protocol: str = "binary", handler: HBaseHandler | None = None
) -> Iterator[HBaseTestServer]:
    """A started HBaseTestServer, stopped on exit."""
    server = HBaseTestServer(transport=transport, protocol=protocol, handler=handler)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def hbase_kv_backend(tmp_path: Path) -> Iterator[SortedKV]:
    """An HBaseStore with its tables created on a fresh server (for tests/storage/backends.KV_BACKENDS)."""
    with hbase_server() as server:
        store = HBaseStore(host=server.host, port=server.port, prefix="contract", batch_size=100)
        store.create_tables()
        try:
            yield store
        finally:
            store.close()


# -- pytest fixtures (register with `pytest_plugins = ["tests.servers.hbase_thrift"]` or import them) --------


@pytest.fixture
def hbase_thrift_server(request: pytest.FixtureRequest) -> Iterator[HBaseTestServer]:
    """A running test server; parametrise indirectly with ("framed", "compact") to pick the wire format."""
    transport, protocol = getattr(request, "param", ("buffered", "binary"))
    with hbase_server(transport=transport, protocol=protocol) as server:
        yield server


@pytest.fixture
def hbase_store(hbase_thrift_server: HBaseTestServer) -> Iterator[HBaseStore]:
    """An HBaseStore with its tables created on `hbase_thrift_server`, closed afterwards."""
    store = HBaseStore(
        host=hbase_thrift_server.host,
        port=hbase_thrift_server.port,
        prefix="test",
        transport=hbase_thrift_server.transport,
        protocol=hbase_thrift_server.protocol,
        # Small pages so ordinary tests cross scanner batch boundaries.
        batch_size=7,
        timeout_ms=5_000,
    )
    store.create_tables()
    yield store
    store.close()
