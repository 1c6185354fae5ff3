"""Faults on the real engines: HBase's gateway stopped mid-scan, Trino stopped mid-query.

Each time the user gets one clear message naming the engine (a page shows it, never a stack trace), and
the next request after the engine is back succeeds in the same process: nothing is cached broken. The
engines are stopped and started through tools/engines.py, which signals only the processes it started.
"""

from __future__ import annotations

import concurrent.futures
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client, override_settings

from storage.kv.base import TrackStoreError
from storage.kv.hbase import HBaseStore
from storage.warehouse.base import WarehouseError
from tests.dashboard.test_warehouse_panels import JOB, search, text, warehouse_write
from tests.engines import RunningEngine, engine_start, engine_stop
from tests.storage.backends import kv_empty
from tests.storage.warehouse.real_engines import engine_schema, engine_warehouse

pytestmark = pytest.mark.django_db

#: 1e12 rows through a three-way cross join (sequence() stops at 10,000 entries): far longer than the
#: seconds the test waits before stopping Trino under it.
LONG_QUERY = (
    "SELECT count(*) AS n FROM UNNEST(sequence(1, 10000)) AS a(x) "
    "CROSS JOIN UNNEST(sequence(1, 10000)) AS b(y) CROSS JOIN UNNEST(sequence(1, 10000)) AS c(z) "
    "WHERE (x * y + z) % 7 = 3"
)


@pytest.fixture
def hbase_faults_store(hbase_engine: RunningEngine) -> Iterator[HBaseStore]:
    store = HBaseStore(
        host=hbase_engine.host,
        port=hbase_engine.port,
        prefix="faults",
        transport=str(hbase_engine.extra["transport"]),
        protocol=str(hbase_engine.extra["protocol"]),
        batch_size=100,
    )
    store.create_tables()
    kv_empty(store)
    time.sleep(0.003)  # past the delete markers (docs/hbase.md)
    yield store
    store.close()


def _track_store_settings(store: HBaseStore) -> dict[str, Any]:
    options = {
        "host": store.host,
        "port": store.port,
        "prefix": store.prefix,
        "transport": store.transport,
        "protocol": store.protocol,
    }
    return {"default": {"BACKEND": "storage.kv.hbase.HBaseStore", "OPTIONS": options}}


def test_hbase_stopped_mid_scan_is_one_clear_error_and_the_next_request_works(
    hbase_faults_store: HBaseStore, hbase_engine: RunningEngine, user_client: Client
) -> None:
    store = hbase_faults_store
    rows = [(i.to_bytes(4, "big"), b"v%d" % i) for i in range(1000)]
    store.put_many("track", rows)
    scan = store.scan("track", b"", None)
    first_page = [next(scan) for _ in range(store.batch_size)]
    assert first_page == rows[: store.batch_size]
    try:
        engine_stop("hbase", only="hbase-thrift")
        with pytest.raises(TrackStoreError) as raised:
            list(scan)
        message = str(raised.value)
        assert f"HBase Thrift server at {hbase_engine.host}:{hbase_engine.port} is unreachable" in message
        assert "while trying to scan faults_track" in message
        assert "check TRACK_STORE" in message

        with override_settings(TRACK_STORES=_track_store_settings(store)):
            response = user_client.get("/")
            page = response.content.decode()
            assert response.status_code == 503
            assert "HBase Thrift server at" in page
            assert "is unreachable" in page
            assert "Traceback" not in page
            health = user_client.get("/health/")
            assert health.status_code == 503
            track_store = next(row for row in health.json()["backends"] if row["kind"] == "track_store")
            assert (track_store["engine"], track_store["state"]) == ("hbase", "error")
            assert "HBase Thrift server at" in track_store["message"]
    finally:
        engine_start("hbase")

    # The same store object, and the same page handler: both work again without a restart.
    assert list(store.scan("track", b"", None)) == rows
    with override_settings(TRACK_STORES=_track_store_settings(store)):
        response = user_client.get("/")
        assert response.status_code == 200
        health = user_client.get("/health/")
        assert health.status_code == 200, health.content
        assert {row["kind"]: row["state"] for row in health.json()["backends"]}["track_store"] == "ok"


def test_trino_stopped_mid_query_is_one_clear_error_and_the_next_request_works(
    trino_engine: RunningEngine, tmp_path: Path, user_client: Client, fake_selectors: Any
) -> None:
    root = tmp_path / "warehouse"
    warehouse_write(root)
    fake_selectors.known = {}
    with engine_schema(trino_engine, root, label="faults") as warehouse:
        options = {
            "host": trino_engine.host,
            "port": trino_engine.port,
            "user": "tester",
            "catalog": "hive",
            "schema": warehouse.schema,  # type: ignore[attr-defined]
            "attempts": 1,
        }
        settings = {"default": {"BACKEND": "storage.warehouse.presto.TrinoWarehouse", "OPTIONS": options}}
        with override_settings(WAREHOUSES=settings):
            assert "answered by trino in" in search(user_client)
            long_running = engine_warehouse(trino_engine, warehouse.schema)  # type: ignore[attr-defined]
            try:
                with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
                    query = pool.submit(long_running.execute, LONG_QUERY)
                    time.sleep(3)
                    assert not query.done(), "the long query finished before Trino could be stopped"
                    engine_stop("trino")
                    with pytest.raises(WarehouseError) as raised:
                        query.result(timeout=120)
                where = f"{trino_engine.host}:{trino_engine.port}"
                assert f"Trino coordinator at {where} is unreachable" in str(raised.value)
                assert "check WAREHOUSE" in str(raised.value)

                page = search(user_client, q=JOB)
                assert "The warehouse (trino) could not answer." in text(page)
                assert f"Trino coordinator at {where} is unreachable" in page
                assert "Traceback" not in page
                landing = search(user_client)
                assert "Warehouse unavailable:" in landing
                assert "Traceback" not in landing
                health = user_client.get("/health/")
                assert health.status_code == 503
                row = next(row for row in health.json()["backends"] if row["kind"] == "warehouse")
                assert (row["engine"], row["state"]) == ("trino", "error")
                assert f"Trino coordinator at {where} is unreachable" in row["message"]
            finally:
                engine_start("trino")

            # The next request, in the same process and through the same settings, is answered again.
            assert "answered by trino in" in search(user_client)
            assert "warehouse only" in search(user_client, q=JOB)
            health = user_client.get("/health/")
            assert health.status_code == 200, health.content
