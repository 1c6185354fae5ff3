"""LMDB's increment across real OS processes: two spawned processes adding to the same counters."""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

from storage.kv.base import counter_value
from storage.kv.lmdb import LMDBStore

SPAWN = multiprocessing.get_context("spawn")
ROUNDS = 2000


def _add(path: str, amount: int, barrier: Any) -> None:
    store = LMDBStore(path=path, map_size_gb=1)
    try:
        barrier.wait(timeout=120)
        for i in range(ROUNDS):
            store.increment("meta", b"count:shared", amount)
            store.increment("meta", b"count:%d" % (i % 3), 1)
    finally:
        store.close()


def test_increments_from_two_processes_are_all_applied(tmp_path: Path) -> None:
    barrier = SPAWN.Barrier(2)
    processes = [SPAWN.Process(target=_add, args=(str(tmp_path), amount, barrier)) for amount in (1, 1000)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=300)
        assert process.exitcode == 0

    store = LMDBStore(path=tmp_path, map_size_gb=1)
    assert counter_value(store.get("meta", b"count:shared") or b"") == ROUNDS * 1001
    counts = [counter_value(store.get("meta", b"count:%d" % k) or b"") for k in range(3)]
    assert sum(counts) == 2 * ROUNDS
    store.close()
