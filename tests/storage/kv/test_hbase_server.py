"""The HBase Thrift test server itself, driven by plain happybase: what it emulates and what it refuses."""

from __future__ import annotations

from collections.abc import Iterator

import happybase
import pytest
from thriftpy2.thrift import TApplicationException, TException

from tests.servers.hbase_thrift import HBaseTestServer, hbase_server


@pytest.fixture
def server() -> Iterator[HBaseTestServer]:
    with hbase_server() as running:
        yield running


@pytest.fixture
def connection(server: HBaseTestServer) -> Iterator[happybase.Connection]:
    conn = happybase.Connection(server.host, server.port, table_prefix="t")
    conn.create_table("rows", {"d": {"max_versions": 1}, "e": {}})
    yield conn
    conn.close()


def test_table_admin_round_trip(connection: happybase.Connection) -> None:
    assert connection.tables() == [b"rows"]
    assert sorted(connection.table("rows").families()) == [b"d", b"e"]
    assert connection.table("rows").families()[b"d"]["max_versions"] == 1
    assert len(connection.table("rows").regions()) == 1

    connection.disable_table("rows")
    assert connection.is_table_enabled("rows") is False
    connection.delete_table("rows")
    assert connection.tables() == []


@pytest.mark.parametrize(
    ("action", "complaint"),
    [
        (lambda c: c.table("missing").row(b"k"), "TableNotFoundException: t_missing"),
        (lambda c: c.create_table("rows", {"d": {}}), "table name already in use"),
        (lambda c: c.delete_table("rows"), "TableNotDisabledException"),
        (lambda c: c.table("rows").put(b"k", {b"zz:q": b"v"}), "NoSuchColumnFamilyException"),
        (lambda c: c.table("rows").put(b"", {b"d:q": b"v"}), "Row length is 0"),
    ],
)
def test_errors_come_back_as_the_idl_exceptions_with_hbase_names(connection, action, complaint) -> None:
    with pytest.raises(TException) as failure:
        action(connection)
    assert complaint in _message(failure.value)


def test_a_disabled_table_refuses_reads(connection: happybase.Connection) -> None:
    connection.disable_table("rows")
    with pytest.raises(TException) as failure:
        connection.table("rows").row(b"k")
    assert "TableNotEnabledException: t_rows" in _message(failure.value)


def test_rows_columns_and_families(connection: happybase.Connection) -> None:
    table = connection.table("rows")
    table.put(b"r1", {b"d:a": b"1", b"d:b": b"2", b"e:c": b"3"})

    assert table.row(b"r1") == {b"d:a": b"1", b"d:b": b"2", b"e:c": b"3"}
    assert table.row(b"r1", columns=[b"d:b"]) == {b"d:b": b"2"}
    assert table.row(b"r1", columns=[b"e"]) == {b"e:c": b"3"}
    table.delete(b"r1", columns=[b"d"])
    assert table.row(b"r1") == {b"e:c": b"3"}
    table.delete(b"r1")
    assert table.row(b"r1") == {}


def test_scans_by_range_prefix_and_with_sorted_columns(connection: happybase.Connection) -> None:
    table = connection.table("rows")
    with table.batch() as batch:
        for key in [b"a", b"ab", b"abc", b"b", b"b\x00", b"\xff"]:
            batch.put(key, {b"d:v": key, b"d:a": b"first"})

    assert [k for k, _ in table.scan(row_prefix=b"ab")] == [b"ab", b"abc"]
    assert [k for k, _ in table.scan(row_start=b"ab", row_stop=b"b\x00", batch_size=1)] == [
        b"ab",
        b"abc",
        b"b",
    ]
    assert [k for k, _ in table.scan(row_start=b"b", limit=2)] == [b"b", b"b\x00"]
    _, columns = next(iter(table.scan(row_start=b"\xff", sorted_columns=True)))
    assert list(columns) == [b"d:a", b"d:v"]


def test_the_newest_timestamp_wins(connection: happybase.Connection) -> None:
    table = connection.table("rows")
    table.put(b"k", {b"d:v": b"newer"}, timestamp=200)
    table.put(b"k", {b"d:v": b"older"}, timestamp=100)

    assert table.row(b"k") == {b"d:v": b"newer"}


def test_counters(connection: happybase.Connection) -> None:
    table = connection.table("rows")
    assert table.counter_inc(b"c", b"d:n") == 1
    assert table.counter_inc(b"c", b"d:n", 41) == 42
    assert table.counter_dec(b"c", b"d:n", 2) == 40
    assert table.counter_get(b"c", b"d:n") == 40
    assert table.row(b"c") == {b"d:n": b"\x00\x00\x00\x00\x00\x00\x00\x28"}  # Bytes.toBytes(40L)
    table.put(b"c", {b"d:s": b"text"})
    with pytest.raises(TException) as failure:
        table.counter_inc(b"c", b"d:s")
    assert "DoNotRetryIOException: Field is not a long, it's 4 bytes wide" in _message(failure.value)
    with pytest.raises(TException) as failure:
        table.counter_inc(b"c", b"x:n")
    assert "NoSuchColumnFamilyException" in _message(failure.value)
    with pytest.raises(TException) as failure:
        table.counter_inc(b"", b"d:n")
    assert "Row length is 0" in _message(failure.value)


def test_a_counter_wraps_like_a_java_long_and_outranks_a_newer_timestamp(
    connection: happybase.Connection,
) -> None:
    table = connection.table("rows")
    table.put(b"w", {b"d:n": (2**63 - 1).to_bytes(8, "big")}, timestamp=2**50)
    assert table.counter_inc(b"w", b"d:n") == -(2**63)
    # The increment's cell is stamped after the one it replaced, so it is the one that stays.
    assert table.counter_get(b"w", b"d:n") == -(2**63)


@pytest.mark.parametrize(
    ("scan_args", "refused"),
    [
        ({"filter": b"KeyOnlyFilter()"}, "TScan.filterString"),
        ({"timestamp": 5}, "TScan.timestamp"),
        ({"reverse": True}, "TScan.reversed"),
        ({"scan_batching": 2}, "TScan.batchSize"),
    ],
)
def test_unemulated_scan_features_are_refused(connection: happybase.Connection, scan_args, refused) -> None:
    with pytest.raises(TException) as failure:
        list(connection.table("rows").scan(**scan_args))
    assert f"does not emulate {refused}" in _message(failure.value)


def test_unemulated_calls_are_refused_by_name(connection: happybase.Connection) -> None:
    with pytest.raises(TApplicationException) as failure:
        connection.table("rows").row(b"k", timestamp=5)
    assert "does not emulate Hbase.getRowWithColumnsTs" in _message(failure.value)


def _message(exc: BaseException) -> str:
    # happybase decodes no Thrift strings, so exception messages arrive as bytes.
    raw = getattr(exc, "message", b"")
    return raw.decode() if isinstance(raw, bytes) else str(raw)


def test_scanners_are_closed_by_happybase_on_early_stop() -> None:
    with hbase_server(transport="framed", protocol="compact") as server:
        conn = happybase.Connection(server.host, server.port, transport="framed", protocol="compact")
        conn.create_table("t", {"d": {}})
        table = conn.table("t")
        table.put(b"a", {b"d:v": b"1"})
        table.put(b"b", {b"d:v": b"2"})
        rows = table.scan(batch_size=1)
        next(rows)
        assert server.open_scanners == 1
        rows.close()
        assert server.open_scanners == 0
        conn.close()


def test_dropped_connections_fail_with_the_classic_message(
    server: HBaseTestServer, connection: happybase.Connection
) -> None:
    server.drop_connections()
    with pytest.raises(TException, match="TSocket read 0 bytes"):
        connection.tables()
