"""SortedKV behaviour of HBaseStore through the real happybase client against the in-process Thrift server."""

from __future__ import annotations

import pytest

from storage.kv.hbase import COLUMN, HBaseStore
from tests.servers import hbase_thrift
from tests.servers.hbase_thrift import HBaseTestServer

# The server's fixtures, made visible to this module.
hbase_thrift_server = hbase_thrift.hbase_thrift_server
hbase_store = hbase_thrift.hbase_store

WIRE_FORMATS = [("buffered", "binary"), ("buffered", "compact"), ("framed", "binary"), ("framed", "compact")]


@pytest.mark.parametrize("hbase_thrift_server", WIRE_FORMATS, indirect=True, ids="-".join)
def test_every_transport_and_protocol_round_trips_bytes(hbase_store: HBaseStore) -> None:
    items = [(b"\x03k\x00" + bytes([i]), bytes(range(256)) * i) for i in range(20)]

    assert hbase_store.put_many("track", items) == 20

    assert hbase_store.get_many("track", [k for k, _ in items]) == [v for _, v in items]
    assert list(hbase_store.scan("track", b"\x03", b"\x04")) == items


def test_get_many_keeps_request_order_and_reports_absent_keys(hbase_store: HBaseStore) -> None:
    hbase_store.put_many("round", [(b"\x01a", b"A"), (b"\x01b", b"B")])

    assert hbase_store.get_many("round", [b"\x01b", b"\x01zz", b"\x01a", b"\x01b"]) == [
        b"B",
        None,
        b"A",
        b"B",
    ]
    assert hbase_store.get("round", b"\x01a") == b"A"
    assert hbase_store.get("round", b"\x02a") is None
    assert hbase_store.get_many("round", []) == []


def test_put_replaces_the_value_and_keeps_one_version(
    hbase_store: HBaseStore, hbase_thrift_server: HBaseTestServer
) -> None:
    hbase_store.put_many("job", [(b"\x00job", b"first")])
    hbase_store.put_many("job", [(b"\x00job", b"second")])

    assert hbase_store.get("job", b"\x00job") == b"second"
    cells = hbase_thrift_server.handler.tables[b"test_job"].rows[b"\x00job"]
    assert list(cells) == [COLUMN]


def test_empty_values_are_stored(hbase_store: HBaseStore) -> None:
    hbase_store.put_many("entity_job", [(b"\x05marker", b"")])

    assert hbase_store.get("entity_job", b"\x05marker") == b""
    assert list(hbase_store.scan("entity_job", b"", None)) == [(b"\x05marker", b"")]


def test_scan_is_half_open_and_in_byte_order_with_0x00_and_0xff_bytes(hbase_store: HBaseStore) -> None:
    keys = [b"\xff\xff", b"a\x00", b"\x00", b"\xff", b"a", b"\x00\xff", b"\x00\x00", b"a\xff", b"b"]
    hbase_store.put_many("cell", [(k, k * 2) for k in keys])

    everything = list(hbase_store.scan("cell", b"", None))
    assert [k for k, _ in everything] == sorted(keys)
    assert all(v == k * 2 for k, v in everything)
    assert [k for k, _ in hbase_store.scan("cell", b"\x00\xff", b"a\xff")] == [b"\x00\xff", b"a", b"a\x00"]
    assert [k for k, _ in hbase_store.scan("cell", b"\xff", None)] == [b"\xff", b"\xff\xff"]
    assert list(hbase_store.scan("cell", b"a\x01", b"a\x02")) == []


def test_keys_only_scan_returns_empty_values(hbase_store: HBaseStore) -> None:
    hbase_store.put_many("track", [(b"\x01a", b"payload"), (b"\x01b", b"payload")])

    assert list(hbase_store.scan("track", b"", None, keys_only=True)) == [(b"\x01a", b""), (b"\x01b", b"")]


def test_prefix_scans_do_not_mix_ids_that_share_a_prefix(hbase_store: HBaseStore) -> None:
    keys = [b"\x02c1\x00t1", b"\x02c1\x00t2", b"\x02c10\x00t1", b"\x02c1\xff", b"\xff\xffz", b"\xff\xff"]
    hbase_store.put_many("entity_job", [(k, b"") for k in keys])

    assert [k for k, _ in hbase_store.scan_prefix("entity_job", b"\x02c1\x00")] == [
        b"\x02c1\x00t1",
        b"\x02c1\x00t2",
    ]
    # A prefix of 0xff bytes has no upper bound: the scan runs to the end of the table.
    assert [k for k, _ in hbase_store.scan_prefix("entity_job", b"\xff\xff")] == [b"\xff\xff", b"\xff\xffz"]


def test_many_keys_cross_scanner_batches_with_one_scanner_per_page(
    hbase_store: HBaseStore, hbase_thrift_server: HBaseTestServer
) -> None:
    items = [(b"\x07" + i.to_bytes(4, "big"), i.to_bytes(4, "little")) for i in range(100)]
    hbase_store.put_many("track", items)
    hbase_thrift_server.calls.clear()

    assert list(hbase_store.scan("track", items[10][0], items[60][0])) == items[10:60]
    # 50 rows in pages of batch_size=7: eight pages, each one scanner opened, read once and closed.
    assert hbase_thrift_server.calls["scannerOpenWithScan"] == 8
    assert hbase_thrift_server.calls["scannerGetList"] == 8
    assert hbase_thrift_server.calls["scannerClose"] == 8
    assert hbase_thrift_server.open_scanners == 0


def test_a_short_range_costs_one_scanner_round_trip_set(
    hbase_store: HBaseStore, hbase_thrift_server: HBaseTestServer
) -> None:
    hbase_store.put_many("track", [(b"\x01a", b"1"), (b"\x01b", b"2")])
    hbase_thrift_server.calls.clear()

    assert len(list(hbase_store.scan("track", b"\x01", b"\x02"))) == 2
    assert sum(hbase_thrift_server.calls.values()) == 3  # open, one getList, close


def test_stopping_a_scan_early_leaves_no_scanner_open(
    hbase_store: HBaseStore, hbase_thrift_server: HBaseTestServer
) -> None:
    hbase_store.put_many("cell", [(bytes([1, i]), b"x") for i in range(50)])

    rows = hbase_store.scan("cell", b"", None)
    first = [next(rows) for _ in range(10)]

    # The consumer is paused mid-scan and may never come back: no scanner or connection is held meanwhile.
    assert [k for k, _ in first] == [bytes([1, i]) for i in range(10)]
    assert hbase_thrift_server.open_scanners == 0
    assert hbase_thrift_server.calls["scannerOpenWithScan"] == hbase_thrift_server.calls["scannerClose"] == 2
    assert hbase_store.get("cell", bytes([1, 49])) == b"x"


def test_writes_are_batched_by_batch_size(
    hbase_store: HBaseStore, hbase_thrift_server: HBaseTestServer
) -> None:
    hbase_thrift_server.calls.clear()

    assert hbase_store.put_many("track", ((bytes([3, i]), b"v") for i in range(30))) == 30

    assert hbase_thrift_server.calls["mutateRows"] == 5  # ceil(30 / 7)
    assert len(list(hbase_store.scan("track", b"", None))) == 30


def test_large_values_are_split_into_writes_of_about_a_megabyte(
    hbase_store: HBaseStore, hbase_thrift_server: HBaseTestServer
) -> None:
    blocks = [(bytes([4, i]), bytes([i]) * 400_000) for i in range(6)]
    hbase_thrift_server.calls.clear()

    assert hbase_store.put_many("track", blocks) == 6

    assert hbase_thrift_server.calls["mutateRows"] == 3  # two 400 kB blocks per call, under 1 MB
    assert hbase_store.get_many("track", [k for k, _ in blocks]) == [v for _, v in blocks]


def test_delete_many_removes_keys_from_reads_and_scans(hbase_store: HBaseStore) -> None:
    hbase_store.put_many("job", [(bytes([0, i]), b"e") for i in range(20)])

    assert hbase_store.delete_many("job", [bytes([0, i]) for i in range(0, 20, 2)] + [b"\x09absent"]) == 11

    assert hbase_store.get_many("job", [b"\x00\x00", b"\x00\x01"]) == [None, b"e"]
    assert [k for k, _ in hbase_store.scan("job", b"", None)] == [bytes([0, i]) for i in range(1, 20, 2)]


def test_tables_are_separate(hbase_store: HBaseStore) -> None:
    hbase_store.put_many("track", [(b"\x01same", b"track")])
    hbase_store.put_many("cell", [(b"\x01same", b"cell")])

    assert hbase_store.get("track", b"\x01same") == b"track"
    assert hbase_store.get("cell", b"\x01same") == b"cell"
    assert hbase_store.get("round", b"\x01same") is None


def test_scan_many_returns_one_list_per_range(hbase_store: HBaseStore) -> None:
    hbase_store.put_many("track", [(bytes([s, 1]), bytes([s])) for s in range(16)])

    result = hbase_store.scan_many("track", [(b"\x02", b"\x03"), (b"\x0f", None), (b"\x20", b"\x30")])

    assert result == [[(b"\x02\x01", b"\x02")], [(b"\x0f\x01", b"\x0f")], []]


def test_an_unknown_table_is_refused(hbase_store: HBaseStore) -> None:
    with pytest.raises(ValueError, match="unknown table 'tracks'"):
        hbase_store.put_many("tracks", [(b"k", b"v")])
