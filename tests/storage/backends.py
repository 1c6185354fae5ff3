"""Every SortedKV backend the contract suites run against, built fresh per test.

A backend is a context manager factory taking a temporary directory; cluster backends start their
protocol-level test server inside it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager as ContextManager
from pathlib import Path

from storage.kv.base import SortedKV
from storage.kv.lmdb import LMDBStore
from tests.servers.hbase_thrift import hbase_kv_backend


@contextlib.contextmanager
def lmdb_backend(tmp_path: Path) -> Iterator[SortedKV]:
    store = LMDBStore(path=tmp_path / "lmdb")
    try:
        yield store
    finally:
        store.close()


KV_BACKENDS: dict[str, Callable[[Path], ContextManager[SortedKV]]] = {
    "lmdb": lmdb_backend,
    "hbase": hbase_kv_backend,
}
