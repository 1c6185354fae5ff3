"""Every SortedKV backend the contract suites run against, built fresh per test.

A backend is a context manager factory taking a temporary directory. `hbase` is the real standalone HBase
that `tools/engines.py up` started, through happybase and its Thrift 1 gateway (skipped loudly without it,
fatal under CI=true). The protocol-level test server in tests/servers/hbase_thrift.py is no longer a
contract backend: it stays for the fault-injection and round-trip tests of tests/storage/kv/.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager as ContextManager
from pathlib import Path

from storage.kv.base import TABLES, SortedKV
from storage.kv.hbase import HBaseStore
from storage.kv.lmdb import LMDBStore
from tests.engines import RunningEngine, require_engine

#: Table prefix of the contract suites on the real HBase: created once, emptied before every test.
HBASE_CONTRACT_PREFIX = "contract"
_hbase_stores: dict[tuple[str, int], HBaseStore] = {}
_hbase_lock = threading.Lock()


@contextlib.contextmanager
def lmdb_backend(tmp_path: Path) -> Iterator[SortedKV]:
    store = LMDBStore(path=tmp_path / "lmdb")
    try:
        yield store
    finally:
        store.close()


def hbase_contract_store(engine: RunningEngine) -> HBaseStore:
    """The session's HBaseStore on the real engine, its tables created on first use."""
    with _hbase_lock:
        key = (engine.host, engine.port)
        if key not in _hbase_stores:
            store = HBaseStore(
                host=engine.host,
                port=engine.port,
                prefix=HBASE_CONTRACT_PREFIX,
                transport=str(engine.extra["transport"]),
                protocol=str(engine.extra["protocol"]),
                # Small pages, so the suites cross scanner pages with a few thousand rows.
                batch_size=100,
            )
            store.create_tables()
            _hbase_stores[key] = store
        return _hbase_stores[key]


def kv_empty(kv: SortedKV) -> None:
    """Delete every key of every table (tests reuse one set of HBase tables rather than create seven)."""
    for table in TABLES:
        keys = [key for key, _ in kv.scan(table, b"", None, keys_only=True)]
        if keys:
            kv.delete_many(table, keys)


@contextlib.contextmanager
def hbase_backend(tmp_path: Path) -> Iterator[SortedKV]:
    store = hbase_contract_store(require_engine("hbase"))
    # Creating seven tables per test costs seconds on HBase; emptying them costs milliseconds.
    kv_empty(store)
    # HBase hides a put made in the same millisecond as a delete of its key (docs/hbase.md), so the test's
    # first writes must land after the delete markers.
    time.sleep(0.003)
    try:
        yield store
    finally:
        store.close()


KV_BACKENDS: dict[str, Callable[[Path], ContextManager[SortedKV]]] = {
    "lmdb": lmdb_backend,
    "hbase": hbase_backend,
}
