"""Track-store behaviour every backend must show: identity, dedupe, late data, indexes and reads."""

import numpy as np
import pytest

from storage.keys import Layout
from storage.kv.base import TrackStoreError
from storage.kv.lmdb import LMDBStore
from storage.track_codec import block_header, degrees_to_e7
from storage.tracks import Box, PointBatch, StoredEvent, TrackStore
from storage.tracks.compaction import TouchedBuckets
from storage.tracks.points import points_write

T0 = 1_700_000_000_000


def batch(rows):
    """A PointBatch from (entity, ts, lat, lon) rows."""
    names = tuple(dict.fromkeys(r[0] for r in rows))
    index = {n: i for i, n in enumerate(names)}
    return PointBatch(
        entity_names=names,
        entity_codes=np.array([index[r[0]] for r in rows], dtype=np.int32),
        ts=np.array([r[1] for r in rows], dtype=np.int64),
        lat=np.array([r[2] for r in rows], dtype=np.float64),
        lon=np.array([r[3] for r in rows], dtype=np.float64),
    )


def walk(entity, n, *, start=T0, lat=39.9, lon=116.4, step_ms=1000, seed=0):
    rng = np.random.default_rng(seed)
    lats = lat + np.cumsum(rng.normal(0, 5e-5, n))
    lons = lon + np.cumsum(rng.normal(0, 5e-5, n))
    return [(entity, start + i * step_ms, float(lats[i]), float(lons[i])) for i in range(n)]


def test_ids_that_prefix_each_other_never_mix(track_store):
    rows = walk("courier:c1", 50) + walk("courier:c10", 50, seed=1) + walk("courier:c100", 50, seed=2)
    track_store.points_write(dataset="d", batch=batch(rows))
    for name in ("courier:c1", "courier:c10", "courier:c100"):
        got = track_store.entity_window(dataset="d", entity=name, start=T0, end=T0 + 10**9)
        want = [r for r in rows if r[0] == name]
        assert got.ts.tolist() == [r[1] for r in want]
        assert got.lat_e7.tolist() == degrees_to_e7([r[2] for r in want]).tolist()
    assert len(track_store.entity_window(dataset="d", entity="courier:c", start=T0, end=T0 + 10**9)) == 0


def test_datasets_are_isolated(track_store):
    track_store.points_write(dataset="prod", batch=batch(walk("bike:b1", 10)))
    track_store.points_write(dataset="sim-x-nearest-1", batch=batch(walk("bike:b1", 20, seed=3)))
    assert len(track_store.entity_window(dataset="prod", entity="bike:b1", start=T0, end=T0 + 10**9)) == 10
    assert (
        len(track_store.entity_window(dataset="sim-x-nearest-1", entity="bike:b1", start=0, end=T0 * 2)) == 20
    )
    names = {d.name: d.points for d in track_store.datasets()}
    assert names == {"prod": 10, "sim-x-nearest-1": 20}


def test_duplicates_and_conflicts_inside_one_batch(track_store):
    rows = [
        ("courier:c1", T0, 39.9, 116.4),
        ("courier:c1", T0, 39.9, 116.4),  # duplicate
        ("courier:c1", T0, 39.95, 116.4),  # conflict: the first stays
        ("courier:c1", T0 + 1000, 39.91, 116.41),
    ]
    result = track_store.points_write(dataset="d", batch=batch(rows))
    assert (result.stored, result.duplicates) == (2, 1)
    assert result.conflict_rows.tolist() == [2]
    assert result.stored_rows.tolist() == [0, 3]
    got = track_store.entity_window(dataset="d", entity="courier:c1", start=T0, end=T0 + 1000)
    assert got.lat.tolist() == [39.9, 39.91]


def test_rewriting_the_same_batch_stores_nothing(track_store, kv):
    rows = walk("courier:c1", 3000) + walk("courier:c2", 3000, seed=5)
    first = track_store.points_write(dataset="d", batch=batch(rows))
    before = {t: list(kv.scan(t, b"", None)) for t in ("track", "cell")}
    again = track_store.points_write(dataset="d", batch=batch(rows))
    assert (first.stored, again.stored, again.duplicates, len(again.conflict_rows)) == (6000, 0, 6000, 0)
    assert {t: list(kv.scan(t, b"", None)) for t in ("track", "cell")} == before


def test_late_and_out_of_order_data_merge_on_read(track_store, kv):
    rows = walk("courier:c7", 1800, seed=9)
    late, early = rows[600:1500], rows[:900]
    track_store.points_write(dataset="d", batch=batch(list(reversed(late))))
    result = track_store.points_write(dataset="d", batch=batch(early))
    assert (result.stored, result.duplicates) == (600, 300)
    moved = [(e, t, la + 0.01, lo) for e, t, la, lo in rows[1400:1600]]
    result = track_store.points_write(dataset="d", batch=batch(moved))
    assert (result.stored, len(result.conflict_rows)) == (100, 100)
    got = track_store.entity_window(dataset="d", entity="courier:c7", start=T0, end=T0 + 10**9)
    assert got.ts.tolist() == [r[1] for r in rows[:1600]]
    assert (
        got.lat_e7.tolist()
        == degrees_to_e7([r[2] for r in rows[:1500]] + [r[2] + 0.01 for r in rows[1500:1600]]).tolist()
    )
    parts_before = len(list(kv.scan("track", b"", None)))
    assert track_store.compact_touched() >= 1
    assert len(list(kv.scan("track", b"", None))) < parts_before
    again = track_store.entity_window(dataset="d", entity="courier:c7", start=T0, end=T0 + 10**9)
    assert again.ts.tolist() == got.ts.tolist()
    assert again.lat_e7.tolist() == got.lat_e7.tolist()


def test_window_edges_are_inclusive(track_store):
    track_store.points_write(dataset="d", batch=batch(walk("courier:c1", 100)))
    got = track_store.entity_window(dataset="d", entity="courier:c1", start=T0 + 10_000, end=T0 + 20_000)
    assert got.ts[0] == T0 + 10_000
    assert got.ts[-1] == T0 + 20_000
    assert len(got) == 11


def test_optional_columns_survive(track_store):
    b = batch(walk("courier:c1", 5))
    b = PointBatch(
        b.entity_names, b.entity_codes, b.ts, b.lat, b.lon, speed_mps=np.array([1.0, np.nan, 3.25, 4.0, 5.0])
    )
    track_store.points_write(dataset="d", batch=b)
    got = track_store.entity_window(dataset="d", entity="courier:c1", start=T0, end=T0 + 10_000)
    assert got.speed_mps is not None
    assert np.isnan(got.speed_mps[1])
    assert got.speed_mps[2] == pytest.approx(3.25)


def test_box_query_matches_a_scan_of_every_point(track_store):
    rows = []
    for i in range(60):
        rows += walk(
            f"courier:c{i}",
            400,
            start=T0 + i * 37,
            lat=39.9 + (i % 6) * 0.004,
            lon=116.4 + (i // 6) * 0.004,
            seed=i,
        )
    track_store.points_write(dataset="d", batch=batch(rows))
    box = Box(39.905, 116.405, 39.925, 116.43)
    start, end = T0 + 90_000, T0 + 250_000
    ts = np.array([r[1] for r in rows])
    lat_e7 = degrees_to_e7([r[2] for r in rows])
    lon_e7 = degrees_to_e7([r[3] for r in rows])
    inside = (ts >= start) & (ts <= end) & (lat_e7 / 1e7 >= box.lat_min) & (lat_e7 / 1e7 <= box.lat_max)
    inside &= (lon_e7 / 1e7 >= box.lon_min) & (lon_e7 / 1e7 <= box.lon_max)
    want = sorted((rows[i][0], int(ts[i])) for i in np.flatnonzero(inside))
    got = track_store.box_window(dataset="d", box=box, start=start, end=end)
    assert len(want) > 1000
    assert sorted((got.entities[e], int(t)) for e, t in zip(got.entity_index, got.ts, strict=True)) == want
    thinned = track_store.box_window(dataset="d", box=box, start=start, end=end, interval_ms=10_000)
    pairs = {
        (thinned.entities[e], int(t) // 10_000) for e, t in zip(thinned.entity_index, thinned.ts, strict=True)
    }
    assert len(pairs) == len(thinned) == len({(e, t // 10_000) for e, t in want})


def test_entity_span_reads_headers(track_store):
    track_store.points_write(dataset="d", batch=batch(walk("bike:b9", 7200, seed=2)))
    span = track_store.entity_span(dataset="d", entity="bike:b9")
    assert (span.first_ts, span.last_ts, span.points) == (T0, T0 + 7199_000, 7200)
    assert track_store.entity_span(dataset="d", entity="bike:nope").points == 0


def round_event(rid, ts, jobs, offered, assigned):
    body = {
        "type": "dispatch_round",
        "id": f"ev:{rid}",
        "round": rid,
        "ts": ts,
        "city": "bj",
        "strategy": "nearest",
        "jobs": jobs,
        "candidates": [
            {"job": j, "entity": e, "score": 1.0, "eta_s": 60.0, "distance_m": 100.0, "features": {}}
            for j, e in offered
        ],
        "assignments": [{"job": j, "entity": e} for j, e in assigned],
    }
    return StoredEvent(id=body["id"], type="dispatch_round", ts=ts, body=body)


def job_event(eid, kind, job, ts, entity=None):
    body = {"type": kind, "id": eid, "job": job, "ts": ts}
    if entity:
        body["entity"] = entity
    return StoredEvent(id=eid, type=kind, ts=ts, body=body)


def test_job_flow_events_rounds_and_markers(track_store):
    events = [
        job_event("e1", "job_created", "order:o1", T0),
        round_event(
            "round:r1",
            T0 + 30_000,
            ["order:o1", "order:o2"],
            [("order:o1", "courier:c1"), ("order:o1", "courier:c2")],
            [("order:o1", "courier:c1")],
        ),
        job_event("e2", "job_assigned", "order:o1", T0 + 31_000, "courier:c1"),
        job_event("e3", "job_delivered", "order:o1", T0 + 900_000, "courier:c1"),
        job_event("e9", "job_created", "order:o10", T0),
    ]
    result = track_store.events_write(dataset="d", events=list(reversed(events)))
    assert (result.stored, result.duplicates) == (5, 0)
    flow = track_store.job_events(dataset="d", job="order:o1")
    assert [e.id for e in flow] == ["e1", "ev:round:r1", "e2", "e3"]
    assert flow[1].body["candidates"][1]["entity"] == "courier:c2"
    assert [e.id for e in track_store.job_events(dataset="d", job="order:o2")] == ["ev:round:r1"]
    links = track_store.entity_jobs(dataset="d", entity="courier:c2")
    assert [(link.job, link.ts) for link in links] == [("order:o1", T0 + 30_000)]
    assert {link.job for link in track_store.entity_jobs(dataset="d", entity="courier:c1")} == {"order:o1"}


def test_event_duplicates_and_conflicts(track_store):
    first = job_event("e1", "job_created", "order:o1", T0)
    track_store.events_write(dataset="d", events=[first])
    changed = job_event("e1", "job_created", "order:o1", T0 + 5)
    result = track_store.events_write(dataset="d", events=[first, changed, first])
    assert (result.stored, result.duplicates, result.conflict_rows) == (0, 2, (1,))
    assert [e.ts for e in track_store.job_events(dataset="d", job="order:o1")] == [T0]


def test_layout_is_recorded_and_enforced(kv):
    TrackStore(kv, layout=Layout(salts=8))
    assert TrackStore(kv).layout.salts == 8
    with pytest.raises(TrackStoreError, match="salts"):
        TrackStore(kv, layout=Layout(salts=16))


def test_bad_dataset_name_is_refused(track_store):
    with pytest.raises(ValueError, match="dataset name"):
        track_store.points_write(dataset="../x", batch=batch(walk("courier:c1", 2)))


def test_unusable_lmdb_directory_names_the_setting(tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    with pytest.raises(TrackStoreError, match="TRACK_STORE"):
        LMDBStore(path=blocker / "tracks")


def test_one_hertz_track_table_costs_under_four_bytes_per_point(track_store, kv):
    rows = []
    for i in range(20):
        rows += walk(f"courier:c{i}", 3600, seed=i)
    track_store.points_write(dataset="d", batch=batch(rows))
    track_bytes = sum(len(k) + len(v) for k, v in kv.scan("track", b"", None))
    cell_bytes = sum(len(k) + len(v) for k, v in kv.scan("cell", b"", None))
    assert track_bytes / len(rows) <= 4.0
    assert (track_bytes + cell_bytes) / len(rows) <= 12.0


def test_compacting_touched_parts_keeps_every_read_the_same(track_store, kv):
    rows = []
    for i in range(30):
        rows += walk(f"courier:c{i}", 600, lat=39.9 + (i % 5) * 0.003, lon=116.4 + (i // 5) * 0.003, seed=i)
    box = Box(39.89, 116.39, 39.93, 116.43)
    for third in range(3):  # entity-sorted input read in three batches: every cell gets three parts
        track_store.points_write(dataset="d", batch=batch(rows[third * 6000 : (third + 1) * 6000]))
    before = track_store.box_window(dataset="d", box=box, start=T0, end=T0 + 600_000).by_entity()
    cells_before = len(list(kv.scan("cell", b"", None, keys_only=True)))
    assert track_store.compact_touched() > 0
    after = track_store.box_window(dataset="d", box=box, start=T0, end=T0 + 600_000).by_entity()
    assert len(list(kv.scan("cell", b"", None, keys_only=True))) < cells_before
    assert after.blocks_read < before.blocks_read
    names_before = [before.entities[i] for i in before.entity_index]
    assert names_before == [after.entities[i] for i in after.entity_index]
    assert before.ts.tolist() == after.ts.tolist()
    assert before.lat_e7.tolist() == after.lat_e7.tolist()
    assert track_store.compact_touched() == 0


def test_lmdb_stores_share_one_environment_until_the_last_closes(tmp_path):
    first, second = LMDBStore(path=tmp_path / "s"), LMDBStore(path=tmp_path / "s")
    first.put_many("meta", [(b"k", b"v")])
    first.close()
    first.close()  # closing twice is harmless
    assert second.get("meta", b"k") == b"v"
    with pytest.raises(TrackStoreError, match="closed"):
        first.get("meta", b"k")
    second.close()
    reopened = LMDBStore(path=tmp_path / "s")
    assert reopened.get("meta", b"k") == b"v"
    reopened.close()


def test_two_writers_of_one_entity_at_once_leave_every_read_right(track_store, kv, tmp_path):
    rows = walk("courier:c1", 900, seed=4)
    track_store.points_write(dataset="d", batch=batch(rows[:600]))
    # The other writer read the store before this one wrote: its dedupe found nothing, so it wrote every
    # fix of its batch, the 300 both had included, as parts beside this writer's.
    scratch = LMDBStore(path=tmp_path / "other-writer")
    other = points_write(scratch, track_store.layout, dataset="d", batch=batch(rows[300:]))
    scratch.close()
    for table, items in other.rows.items():
        kv.put_many(table, items)
    assert other.result.stored == 600

    def reads():
        track = track_store.entity_window(dataset="d", entity="courier:c1", start=T0, end=T0 + 10**9)
        box = track_store.box_window(dataset="d", box=Box(39.8, 116.3, 40, 116.5), start=T0, end=T0 + 900_000)
        pairs = [(box.entities[e], int(t)) for e, t in zip(box.entity_index, box.ts, strict=True)]
        return track.ts.tolist(), track.lat_e7.tolist(), sorted(pairs), box.blocks_read

    ts, lat_e7, pairs, blocks = reads()
    assert ts == [r[1] for r in rows]
    assert lat_e7 == degrees_to_e7([r[2] for r in rows]).tolist()
    assert pairs == [("courier:c1", r[1]) for r in rows]
    # Compaction folds both writers' parts into one block per bucket and cell, each fix once.
    touched = TouchedBuckets()
    for table in ("track", "cell"):
        touched.touch(table, list(kv.scan(table, b"", None)))
    assert touched.compact(kv) > 0
    assert reads()[:3] == (ts, lat_e7, pairs)
    assert reads()[3] < blocks
    cell_points = sum(block_header(v).n for _, v in kv.scan("cell", b"", None))
    assert cell_points == len(rows)
