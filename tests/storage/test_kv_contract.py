"""The SortedKV contract: every backend keeps byte order and range semantics exactly."""

import struct
from concurrent.futures import ThreadPoolExecutor

import pytest

from storage.kv.base import TrackStoreError, counter_value, prefix_end


def test_put_get_and_missing(kv):
    assert kv.put_many("track", [(b"a", b"1"), (b"b", b"2")]) == 2
    assert kv.get_many("track", [b"b", b"zz", b"a"]) == [b"2", None, b"1"]
    assert kv.get("track", b"a") == b"1"


def test_put_replaces(kv):
    kv.put_many("job", [(b"k", b"old")])
    kv.put_many("job", [(b"k", b"new")])
    assert kv.get("job", b"k") == b"new"


def test_tables_are_separate(kv):
    kv.put_many("track", [(b"k", b"t")])
    kv.put_many("cell", [(b"k", b"c")])
    assert kv.get("track", b"k") == b"t"
    assert kv.get("cell", b"k") == b"c"
    assert kv.get("round", b"k") is None


def test_scan_is_byte_ordered_and_half_open(kv):
    keys = [b"\x00", b"\x00\x00", b"\x01", b"\x7f", b"\x80", b"\xfe\xff", b"\xff", b"\xff\xff"]
    kv.put_many("track", [(k, k) for k in reversed(keys)])
    assert [k for k, _ in kv.scan("track", b"", None)] == keys
    assert [k for k, _ in kv.scan("track", b"\x01", b"\xff")] == [b"\x01", b"\x7f", b"\x80", b"\xfe\xff"]
    assert [v for _, v in kv.scan("track", b"\x80", b"\x80\x00")] == [b"\x80"]


def test_scan_prefix_does_not_leak_into_longer_ids(kv):
    kv.put_many("entity_job", [(b"c1/x", b""), (b"c10/x", b""), (b"c1\xff", b""), (b"c2", b"")])
    assert [k for k, _ in kv.scan_prefix("entity_job", b"c1/")] == [b"c1/x"]
    assert [k for k, _ in kv.scan_prefix("entity_job", b"c1")] == [b"c1/x", b"c10/x", b"c1\xff"]


def test_keys_only_scan(kv):
    kv.put_many("round", [(b"r1", b"big value"), (b"r2", b"x")])
    assert list(kv.scan("round", b"", None, keys_only=True)) == [(b"r1", b""), (b"r2", b"")]


def test_scan_many_returns_one_list_per_range(kv):
    kv.put_many("cell", [(bytes([i]), bytes([i])) for i in range(10)])
    got = kv.scan_many("cell", [(b"\x02", b"\x04"), (b"\x08", None), (b"\x20", b"\x30")])
    assert [[k for k, _ in r] for r in got] == [[b"\x02", b"\x03"], [b"\x08", b"\x09"], []]


def test_many_keys_cross_scanner_pages(kv):
    items = [(i.to_bytes(4, "big"), b"v" * (i % 7)) for i in range(2500)]
    kv.put_many("track", items)
    assert list(kv.scan("track", b"", None)) == items


def test_delete(kv):
    kv.put_many("round", [(b"a", b"1"), (b"b", b"2")])
    assert kv.delete_many("round", [b"a", b"absent"]) == 2
    assert kv.get_many("round", [b"a", b"b"]) == [None, b"2"]
    assert [k for k, _ in kv.scan("round", b"", None)] == [b"b"]


def test_increment_starts_from_zero_and_returns_the_new_value(kv):
    assert kv.increment("meta", b"count:a", 5) == 5
    assert kv.increment("meta", b"count:a", 1) == 6
    assert kv.increment("meta", b"count:a", -8) == -2
    assert kv.increment("meta", b"count:b", 0) == 0
    assert kv.increment("meta", b"count:c", 1 << 40) == 1 << 40


def test_a_counter_is_stored_as_eight_big_endian_bytes(kv):
    kv.increment("meta", b"count:a", 258)
    kv.put_many("meta", [(b"count:b", struct.pack(">q", 41))])
    assert kv.get("meta", b"count:a") == b"\x00\x00\x00\x00\x00\x00\x01\x02"
    assert kv.increment("meta", b"count:b", 1) == 42
    assert [(k, counter_value(v)) for k, v in kv.scan_prefix("meta", b"count:")] == [
        (b"count:a", 258),
        (b"count:b", 42),
    ]


def test_incrementing_a_value_that_is_not_a_counter_is_refused(kv):
    kv.put_many("meta", [(b"k", b"{}")])
    with pytest.raises(TrackStoreError):
        kv.increment("meta", b"k", 1)
    assert kv.get("meta", b"k") == b"{}"


def test_concurrent_increments_are_all_applied(kv):
    def add(amount):
        for _ in range(100):
            kv.increment("meta", b"count:shared", amount)

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(add, [1, 2, 3, 4]))
    assert counter_value(kv.get("meta", b"count:shared")) == 100 * (1 + 2 + 3 + 4)


def test_unknown_table_is_refused(kv):
    with pytest.raises((ValueError, KeyError)):
        kv.put_many("nope", [(b"a", b"b")])
    with pytest.raises((ValueError, KeyError)):
        kv.increment("nope", b"a", 1)


@pytest.mark.parametrize(
    ("prefix", "end"),
    [(b"a", b"b"), (b"a\xff", b"b"), (b"\x00", b"\x01"), (b"\xff\xff", None), (b"", None)],
)
def test_prefix_end(prefix, end):
    assert prefix_end(prefix) == end
