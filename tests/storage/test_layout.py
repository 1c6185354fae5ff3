"""The layout record and its version, on every backend: new stores, migration of older ones, refusals."""

import orjson
import pytest

from storage.keys import Layout
from storage.kv.base import TrackStoreError, counter_value
from storage.tracks import TrackStore
from storage.tracks.layout import LAYOUT_VERSION
from tests.storage.test_tracks import T0, batch, job_event, walk

# The meta rows version 1 wrote, byte for byte: the layout without a version, counts as JSON, and on
# HBase the salt count once more in its own row.
V1_LAYOUT = b'{"salts":16,"track_bucket_ms":3600000,"cell_bucket_ms":120000,"cell_e7":100000}'
V1_COUNTS = {b"dataset:prod": b'{"points":300,"events":2}', b"dataset:sim-a-b-1": b'{"points":0,"events":1}'}
V1_SALTS = (b"layout:salts", b"16")


def meta_rows(kv):
    return dict(kv.scan("meta", b"", None))


def version_1_store(kv, *, hbase_salts_row):
    """A store as version 1 left it: its data, the layout record without a version, JSON counts."""
    store = TrackStore(kv)
    store.points_write(dataset="prod", batch=batch(walk("courier:c1", 300)))
    store.events_write(dataset="prod", events=[job_event("e1", "job_created", "order:o1", T0)])
    store.events_write(dataset="prod", events=[job_event("e2", "job_created", "order:o2", T0)])
    store.events_write(dataset="sim-a-b-1", events=[job_event("e1", "job_created", "order:o1", T0)])
    # Version 2's counter rows go; the layout row is overwritten in place, as an upgrade finds it.
    kv.delete_many("meta", [key for key in meta_rows(kv) if key != b"layout"])
    kv.put_many("meta", [(b"layout", V1_LAYOUT), *V1_COUNTS.items()])
    if hbase_salts_row:
        kv.put_many("meta", [V1_SALTS])


def test_a_new_store_records_the_current_layout_version(kv):
    TrackStore(kv, layout=Layout(salts=4))
    assert orjson.loads(meta_rows(kv)[b"layout"]) == {
        "version": LAYOUT_VERSION, "salts": 4, "track_bucket_ms": 3_600_000, "cell_bucket_ms": 120_000,
        "cell_e7": 100_000,
    }  # fmt: skip


@pytest.mark.parametrize("hbase_salts_row", [False, True], ids=["lmdb-v1", "hbase-v1"])
def test_a_version_1_store_is_migrated_on_open(kv, hbase_salts_row):
    version_1_store(kv, hbase_salts_row=hbase_salts_row)

    store = TrackStore(kv)

    assert [(d.name, d.points, d.events) for d in store.datasets()] == [("prod", 300, 2), ("sim-a-b-1", 0, 1)]
    rows = meta_rows(kv)
    assert orjson.loads(rows[b"layout"])["version"] == 2
    assert not [key for key in rows if key.startswith(b"dataset:") or key == b"layout:salts"]
    assert all(len(value) == 8 for key, value in rows.items() if key.startswith(b"count:"))
    # Data written by version 1 reads the same, and new writes count on top of the carried counts.
    assert len(store.entity_window(dataset="prod", entity="courier:c1", start=T0, end=T0 + 10**9)) == 300
    store.points_write(dataset="prod", batch=batch(walk("courier:c2", 50)))
    again = store.events_write(dataset="prod", events=[job_event("e1", "job_created", "order:o1", T0)])
    assert again.stored == 0
    assert [(d.name, d.points, d.events) for d in store.datasets()] == [("prod", 350, 2), ("sim-a-b-1", 0, 1)]
    assert TrackStore(kv).datasets() == store.datasets()  # opening a migrated store changes nothing


def test_version_1_hbase_tables_that_only_record_the_salt_count_are_migrated(kv):
    kv.put_many("meta", [(b"layout:salts", b"8")])

    store = TrackStore(kv)

    assert store.layout.salts == 8
    assert list(meta_rows(kv)) == [b"layout"]
    assert orjson.loads(meta_rows(kv)[b"layout"])["salts"] == 8
    with pytest.raises(TrackStoreError, match="created with salts=8 but TRACK_STORE says salts=16"):
        TrackStore(kv, layout=Layout(salts=16))


def test_a_migration_repeated_by_a_late_second_process_counts_nothing_twice(kv):
    version_1_store(kv, hbase_salts_row=True)
    TrackStore(kv).points_write(dataset="prod", batch=batch(walk("courier:c3", 20)))
    # A second process that read the version-1 rows before the first one deleted them finishes its own
    # migration now: it finds them again, as it saw them.
    kv.put_many("meta", [(b"layout", V1_LAYOUT), *V1_COUNTS.items(), V1_SALTS])

    store = TrackStore(kv)

    assert [(d.name, d.points, d.events) for d in store.datasets()] == [("prod", 320, 2), ("sim-a-b-1", 0, 1)]
    assert counter_value(meta_rows(kv)[b"count:prod:points"]) == 20


def test_a_version_1_store_with_two_different_salt_counts_is_not_migrated(kv):
    kv.put_many("meta", [(b"layout", V1_LAYOUT), (b"layout:salts", b"8")])
    with pytest.raises(TrackStoreError, match="two salt counts"):
        TrackStore(kv)


def test_a_newer_layout_version_is_refused(kv):
    record = {"version": LAYOUT_VERSION + 1, "salts": 16, "shards": 4}
    kv.put_many("meta", [(b"layout", orjson.dumps(record))])
    with pytest.raises(TrackStoreError, match=f"layout version {LAYOUT_VERSION + 1}, newer than version 2"):
        TrackStore(kv)


def test_an_unreadable_layout_record_is_refused(kv):
    kv.put_many("meta", [(b"layout", b"[16]")])
    with pytest.raises(TrackStoreError, match="not a JSON object"):
        TrackStore(kv)


def test_counts_of_datasets_whose_names_prefix_each_other_stay_apart(kv):
    store = TrackStore(kv)
    store.events_write(dataset="c1", events=[job_event("e1", "job_created", "order:o1", T0)])
    store.points_write(dataset="c10", batch=batch(walk("bike:b1", 5)))
    store.points_write(dataset="c1.x", batch=batch(walk("bike:b1", 7)))
    assert [(d.name, d.points, d.events) for d in store.datasets()] == [
        ("c1", 0, 1), ("c1.x", 7, 0), ("c10", 5, 0),
    ]  # fmt: skip
