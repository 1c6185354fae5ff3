"""The SortedKV contract: every backend keeps byte order and range semantics exactly."""

import pytest

from storage.kv.base import prefix_end


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


def test_unknown_table_is_refused(kv):
    with pytest.raises((ValueError, KeyError)):
        kv.put_many("nope", [(b"a", b"b")])


@pytest.mark.parametrize(
    ("prefix", "end"),
    [(b"a", b"b"), (b"a\xff", b"b"), (b"\x00", b"\x01"), (b"\xff\xff", None), (b"", None)],
)
def test_prefix_end(prefix, end):
    assert prefix_end(prefix) == end
