"""HBaseStore when the Thrift connection drops, the server is down, or settings do not match the tables."""

from __future__ import annotations

import socket
import threading

import orjson
import pytest
from django.test import override_settings

from dashboard.config import parse_track_store
from storage.connections import track_stores
from storage.keys import Layout
from storage.kv.base import TrackStoreError
from storage.kv.hbase import HBaseStore
from storage.tracks import TrackStore
from tests.servers import hbase_thrift
from tests.servers.hbase_thrift import HBaseTestServer, hbase_server

# The server's fixtures, made visible to this module.
hbase_thrift_server = hbase_thrift.hbase_thrift_server
hbase_store = hbase_thrift.hbase_store


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_a_dropped_connection_is_replaced_within_the_same_call(
    hbase_store: HBaseStore, hbase_thrift_server: HBaseTestServer
) -> None:
    hbase_store.put_many("track", [(b"\x01a", b"before")])

    hbase_thrift_server.drop_connections()

    assert hbase_store.get("track", b"\x01a") == b"before"
    hbase_thrift_server.drop_connections()
    assert hbase_store.put_many("track", [(b"\x01b", b"after")]) == 1
    hbase_thrift_server.drop_connections()
    assert list(hbase_store.scan("track", b"", None)) == [(b"\x01a", b"before"), (b"\x01b", b"after")]


def test_an_increment_on_a_dropped_connection_is_sent_once_on_a_fresh_one(
    hbase_store: HBaseStore, hbase_thrift_server: HBaseTestServer
) -> None:
    assert hbase_store.increment("meta", b"count:n", 5) == 5

    hbase_thrift_server.drop_connections()

    assert hbase_store.increment("meta", b"count:n", 1) == 6
    assert hbase_thrift_server.calls["atomicIncrement"] == 2


def test_an_increment_whose_answer_is_lost_is_reported_not_repeated(
    hbase_store: HBaseStore, hbase_thrift_server: HBaseTestServer
) -> None:
    hbase_thrift_server.handler.after_increment = hbase_thrift_server.drop_connections  # type: ignore[method-assign]

    with pytest.raises(TrackStoreError, match="may or may not have applied it, so it was not repeated"):
        hbase_store.increment("meta", b"count:n", 1)

    hbase_thrift_server.handler.after_increment = lambda: None  # type: ignore[method-assign]
    # HBase did apply it, once: the store did not send it a second time.
    assert hbase_store.increment("meta", b"count:n", 0) == 1


def test_a_scan_survives_a_drop_between_pages_without_repeating_or_skipping_rows(
    hbase_store: HBaseStore, hbase_thrift_server: HBaseTestServer
) -> None:
    keys = [bytes([2, i]) for i in range(40)]
    hbase_store.put_many("cell", [(k, b"v") for k in keys])

    rows = hbase_store.scan("cell", b"", None, keys_only=True)
    seen = [next(rows)[0] for _ in range(10)]
    hbase_thrift_server.drop_connections()
    seen += [k for k, _ in rows]

    assert seen == keys


@pytest.mark.parametrize("hbase_thrift_server", [("framed", "compact")], indirect=True)
def test_a_stopped_server_gives_one_clear_error_and_the_next_call_after_restart_works(
    hbase_store: HBaseStore, hbase_thrift_server: HBaseTestServer
) -> None:
    hbase_store.put_many("round", [(b"\x03r1", b"round")])

    hbase_thrift_server.stop()
    with pytest.raises(TrackStoreError) as failure:
        hbase_store.get("round", b"\x03r1")
    hbase_thrift_server.start()

    message = str(failure.value)
    assert f"HBase Thrift server at 127.0.0.1:{hbase_thrift_server.port} is unreachable" in message
    assert "check TRACK_STORE" in message
    assert "transport=framed&protocol=compact" in message
    assert hbase_store.get("round", b"\x03r1") == b"round"


def test_an_unreachable_port_names_the_setting_and_a_later_server_on_it_is_used() -> None:
    port = _free_port()
    store = HBaseStore.from_options({"host": "127.0.0.1", "port": str(port), "prefix": "late"})

    with pytest.raises(TrackStoreError, match=f"127.0.0.1:{port} is unreachable.*check TRACK_STORE"):
        store.put_many("track", [(b"\x01k", b"v")])

    server = HBaseTestServer()
    server.port = port
    server.start()
    try:
        HBaseStore(host="127.0.0.1", port=port, prefix="late").create_tables()
        assert store.put_many("track", [(b"\x01k", b"v")]) == 1
        assert store.get("track", b"\x01k") == b"v"
    finally:
        store.close()
        server.stop()


def test_missing_tables_point_to_hbase_create_tables(hbase_thrift_server: HBaseTestServer) -> None:
    store = HBaseStore(host=hbase_thrift_server.host, port=hbase_thrift_server.port, prefix="nothing")

    with pytest.raises(TrackStoreError, match=r"no table nothing_track.*manage.py hbase_create_tables"):
        store.get("track", b"\x01k")
    store.close()


def test_other_refusals_quote_hbase_and_name_the_setting(
    hbase_store: HBaseStore, hbase_thrift_server: HBaseTestServer
) -> None:
    hbase_thrift_server.handler.tables[b"test_track"].enabled = False

    with pytest.raises(TrackStoreError) as failure:
        hbase_store.get("track", b"\x01k")

    assert str(failure.value) == (
        "HBase refused to read test_track: org.apache.hadoop.hbase.TableNotEnabledException: test_track "
        f"(TRACK_STORE=hbase://127.0.0.1:{hbase_thrift_server.port}/test)"
    )
    hbase_thrift_server.handler.tables[b"test_track"].enabled = True
    assert hbase_store.get("track", b"\x01k") is None


def _settings_for(server: HBaseTestServer, **options: str) -> dict[str, dict[str, object]]:
    config = {"host": server.host, "port": server.port, "prefix": "test", "path": "", **options}
    return {
        "default": {"BACKEND": "storage.kv.hbase.HBaseStore", "OPTIONS": config, "SETTING": "TRACK_STORE"}
    }


def test_a_salt_count_other_than_the_recorded_one_is_refused(
    hbase_store: HBaseStore, hbase_thrift_server: HBaseTestServer
) -> None:
    TrackStore(hbase_store, layout=Layout(salts=16))

    with (
        override_settings(TRACK_STORES=_settings_for(hbase_thrift_server, salts="8")),
        pytest.raises(
            TrackStoreError, match=r"created with salts=16 but TRACK_STORE says salts=8; set salts=16"
        ),
    ):
        track_stores["default"]
    with override_settings(TRACK_STORES=_settings_for(hbase_thrift_server)):
        assert track_stores["default"].layout.salts == 16  # a URL without salts= takes the recorded count


def test_the_salt_count_is_recorded_once_in_the_layout_row(
    hbase_store: HBaseStore, hbase_thrift_server: HBaseTestServer
) -> None:
    with override_settings(TRACK_STORES=_settings_for(hbase_thrift_server, salts="8")):
        track_stores["default"]

    assert [key for key, _ in hbase_store.scan("meta", b"", None)] == [b"layout"]
    assert orjson.loads(hbase_store.get("meta", b"layout") or b"")["salts"] == 8


def test_options_from_the_url_are_parsed_and_checked() -> None:
    store = HBaseStore.from_options(
        {
            "host": "hbase.internal",
            "port": 9091,
            "prefix": "dispatch",
            "transport": "framed",
            "protocol": "compact",
            "salts": "32",
            "pool_size": "8",
            "batch_size": "500",
            "timeout_ms": "2000",
            "path": "",  # given to every backend by settings; LMDB's, ignored here
            "map_size_gb": 64,
        }
    )
    assert (store.host, store.port, store.prefix, store.transport, store.protocol) == (
        "hbase.internal",
        9091,
        "dispatch",
        "framed",
        "compact",
    )
    assert (store.salts, store.pool_size, store.batch_size, store.timeout_ms) == (32, 8, 500, 2000)
    assert store.table_name("track") == "dispatch_track"
    assert store.engine == "hbase"


@pytest.mark.parametrize(
    ("options", "complaint"),
    [
        ({"transport": "http"}, "TRACK_STORE option transport='http' is not one of: buffered, framed"),
        ({"protocol": "json"}, "TRACK_STORE option protocol='json' is not one of: binary, compact"),
        ({"salts": "many"}, "TRACK_STORE option salts='many' is not an integer"),
        ({"salts": "300"}, "TRACK_STORE option salts=300 must be between 1 and 256"),
        ({"salt": "8"}, "TRACK_STORE has unknown option(s) salt"),
        ({"prefix": "a/b"}, "TRACK_STORE table prefix 'a/b'"),
        ({"host": ""}, "TRACK_STORE names no HBase Thrift host"),
    ],
)
def test_bad_options_name_the_setting(options: dict[str, str], complaint: str) -> None:
    with pytest.raises(TrackStoreError) as failure:
        HBaseStore.from_options({"host": "h", **options})
    assert complaint in str(failure.value)


def test_threads_share_the_pool_without_mixing_answers(
    hbase_store: HBaseStore, hbase_thrift_server: HBaseTestServer
) -> None:
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            items = [(bytes([n, i]), bytes([n, i]) * 3) for i in range(30)]
            hbase_store.put_many("track", items)
            for _ in range(5):
                assert list(hbase_store.scan("track", bytes([n]), bytes([n + 1]))) == items
                assert hbase_store.get_many("track", [k for k, _ in items]) == [v for _, v in items]
        except BaseException as exc:  # collected and re-raised in the test thread
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert hbase_thrift_server.open_connections <= hbase_store.pool_size


def test_close_releases_the_connections_and_the_store_reopens_on_use(
    hbase_store: HBaseStore, hbase_thrift_server: HBaseTestServer
) -> None:
    hbase_store.put_many("job", [(b"\x00j", b"e")])

    hbase_store.close()

    assert _no_connections_left(hbase_thrift_server)
    assert hbase_store.get("job", b"\x00j") == b"e"


def _no_connections_left(server: HBaseTestServer) -> bool:
    # The server notices a client hang-up on its next read, a moment after close() returns.
    pause = threading.Event()
    for _ in range(250):
        if server.open_connections == 0:
            return True
        pause.wait(0.02)
    return False


def test_the_context_manager_serves_and_stops() -> None:
    with hbase_server(transport="framed", protocol="binary") as server:
        store = HBaseStore(host=server.host, port=server.port, transport="framed", prefix="cm")
        store.create_tables()
        store.close()
        port = server.port
    with socket.socket() as probe, pytest.raises(ConnectionRefusedError):
        probe.connect(("127.0.0.1", port))


def test_a_track_store_url_reaches_the_server_through_settings(
    hbase_store: HBaseStore, hbase_thrift_server: HBaseTestServer, tmp_path
) -> None:
    parsed = parse_track_store(
        f"hbase://127.0.0.1:{hbase_thrift_server.port}/test?transport=buffered&protocol=binary&salts=16",
        var_dir=tmp_path,
    )
    with override_settings(TRACK_STORES={"default": parsed.setting()}):
        configured = track_stores["default"]
        assert configured.engine == "hbase"
        configured.kv.put_many("round", [(b"\x02r", b"via settings")])

    assert hbase_store.get("round", b"\x02r") == b"via settings"


def test_a_transport_other_than_the_gateways_is_reported_not_hung_on(hbase_store: HBaseStore) -> None:
    framed = HBaseStore(host=hbase_store.host, port=hbase_store.port, prefix="test", transport="framed")

    with pytest.raises(
        TrackStoreError, match=r"transport=framed&protocol=binary.*same transport and protocol"
    ):
        framed.get("track", b"\x01k")
    framed.close()
