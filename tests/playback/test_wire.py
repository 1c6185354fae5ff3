"""The wire codec: chunks round-trip exactly, split runs only where a delta would overflow, align every
section, and the JSON frames carry what docs/protocol.md promises."""

import struct

import numpy as np
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from playback import selectors, wire
from playback.limits import PlaybackLimits
from playback.scopes import JobScope, ScopePoints
from tests.playback.scenario import DATASET, JOB, MIN, T0, scenario_write

BASE = 1_748_919_600_000


def encode(entity, ts, lat, lon, flags=None, *, base=BASE, request_id=7, resolution=0):
    return wire.chunk_encode_arrays(
        request_id=request_id,
        base_ts=base,
        resolution_ms=resolution,
        entity_index=np.asarray(entity, dtype=np.int32),
        ts=np.asarray(ts, dtype=np.int64),
        lat_e7=np.asarray(lat, dtype=np.int32),
        lon_e7=np.asarray(lon, dtype=np.int32),
        flags=None if flags is None else np.asarray(flags, dtype=np.uint8),
    )


fixes = st.lists(
    st.tuples(
        st.integers(0, 40),  # entity index
        st.integers(0, 2**31 - 1),  # ms after the base: arbitrary gaps
        st.integers(-900_000_000, 900_000_000),  # lat e7: arbitrary jumps
        st.integers(-1_800_000_000, 1_800_000_000),
        st.integers(0, 15),
    ),
    max_size=400,
    unique_by=lambda f: (f[0], f[1]),  # a fix is (entity, ts)
)


@settings(max_examples=200, deadline=None)
@given(fixes, st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1))
def test_every_fix_round_trips_exactly_in_entity_then_time_order(rows, request_id, resolution):
    entity, offset, lat, lon, flags = (np.array([r[k] for r in rows], dtype=np.int64) for k in range(5))
    data = encode(entity, BASE + offset, lat, lon, flags, request_id=request_id, resolution=resolution)
    got = wire.chunk_decode(data)
    assert (got.request_id, got.base_ts, got.resolution_ms, len(got)) == (
        request_id,
        BASE,
        resolution,
        len(rows),
    )
    want = sorted((e, BASE + t, la, lo, f) for e, t, la, lo, f in rows)
    back = list(
        zip(
            got.entity_index.tolist(),
            got.ts.tolist(),
            got.lat_e7.tolist(),
            got.lon_e7.tolist(),
            got.flags.tolist(),
            strict=True,
        )
    )
    assert back == want
    assert len(data) % 8 == 0


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 70_000), st.integers(-40_000, 40_000)), min_size=1, max_size=200))
def test_a_run_breaks_exactly_where_a_delta_would_overflow(steps):
    ts = BASE + np.concatenate(([0], np.cumsum([s[0] for s in steps])))
    lat = 312_000_000 + np.concatenate(([0], np.cumsum([s[1] for s in steps])))
    got = wire.chunk_decode(encode(np.zeros(ts.size), ts, lat, np.zeros(ts.size)))
    breaks = sum(1 for dt, dlat in steps if dt > 65_535 or abs(dlat) > 32_767)
    assert got.runs.shape[0] == 1 + breaks
    assert got.ts.tolist() == ts.tolist()
    assert got.lat_e7.tolist() == lat.tolist()


def test_the_byte_layout_is_the_documented_one():
    ts = [BASE, BASE + 1000, BASE + 2000, BASE + 5000]
    data = encode(
        [3, 3, 3, 5], ts, [10, 25, 5, 7], [100, 90, 90, -1], [0, 1, 0, 8], request_id=9, resolution=250
    )
    magic, rid, base, n_runs, n, res, reserved = struct.unpack_from("<4sIdIIII", data)
    assert (magic, rid, base, n_runs, n, res, reserved) == (b"DSP1", 9, float(BASE), 2, 4, 250, 0)
    runs = np.frombuffer(data, "<i4", 12, 32).reshape(2, 6).tolist()
    assert runs == [[3, 0, 3, 0, 10, 100], [5, 3, 1, 5000, 7, -1]]
    at = 32 + 48
    assert np.frombuffer(data, "<u2", 4, at).tolist() == [0, 1000, 1000, 0]
    assert np.frombuffer(data, "<i2", 4, at + 8).tolist() == [0, 15, -20, 0]
    assert np.frombuffer(data, "<i2", 4, at + 16).tolist() == [0, -10, 0, 0]
    assert np.frombuffer(data, "<u1", 4, at + 24).tolist() == [0, 1, 0, 8]
    assert data[at + 28 : at + 32] == bytes(4)
    assert len(data) == at + 32


def test_an_empty_chunk_is_a_bare_header():
    data = encode([], [], [], [])
    assert len(data) == 32
    got = wire.chunk_decode(data)
    assert (len(got), got.runs.shape) == (0, (0, 6))


def test_a_one_hertz_hour_costs_seven_bytes_a_point_and_one_run():
    n = 3600
    rng = np.random.default_rng(1)
    lat = 312_000_000 + np.cumsum(rng.integers(-450, 450, n))
    data = encode(
        np.zeros(n), BASE + np.arange(n) * 1000, lat, 1_214_000_000 + np.cumsum(rng.integers(-450, 450, n))
    )
    assert len(data) == 32 + 24 + 3 * 7200 + 3600
    assert len(data) / n < 7.03


def test_what_a_chunk_cannot_carry_is_refused():
    with pytest.raises(wire.WireError, match="2\\^31"):
        encode([0], [BASE + 2**31], [0], [0])
    with pytest.raises(wire.WireError, match="u32"):
        encode([0], [BASE], [0], [0], request_id=2**32)
    with pytest.raises(wire.WireError, match="i32"):
        encode([-1], [BASE], [0], [0])


@pytest.mark.parametrize(
    ("mutate", "words"),
    [
        (lambda d: b"XXXX" + d[4:], "magic"),
        (lambda d: d[:40], "shorter"),
        (lambda d: d + bytes(8), "after the last column"),
        (lambda d: d[:8], "header"),
    ],
)
def test_the_decoder_refuses_what_is_not_a_chunk(mutate, words):
    data = encode([0, 0], [BASE, BASE + 1000], [0, 5], [0, 5])
    with pytest.raises(wire.WireError, match=words):
        wire.chunk_decode(mutate(data))


def test_chunk_encode_takes_a_fetch_answer():
    points = ScopePoints(
        start=BASE,
        end=BASE + 1000,
        resolution_ms=0,
        entity_index=np.array([0], np.int32),
        ts=np.array([BASE + 10]),
        lat_e7=np.array([1], np.int32),
        lon_e7=np.array([2], np.int32),
        flags=np.array([4], np.uint8),
    )
    got = wire.chunk_decode(wire.chunk_encode(request_id=3, points=points))
    assert (got.base_ts, got.ts.tolist(), got.flags.tolist()) == (BASE, [BASE + 10], [4])


def test_the_manifest_has_the_documented_fields(configured_track_store):
    scenario_write(configured_track_store)
    opened = selectors.scope_open(scope=JobScope(dataset=DATASET, job=JOB), entity_limit=60)
    text = wire.manifest_json(
        request_id=1, opened=opened, limits=PlaybackLimits(), roads_url="/playback/roads/demo.json"
    )
    m = orjson.loads(text)
    assert set(m) >= {
        "op",
        "id",
        "protocol",
        "scope",
        "range",
        "city",
        "bounds",
        "entities",
        "job",
        "events",
        "rounds",
        "states",
        "anomalies",
        "roads",
        "limits",
        "chunk_ms",
        "empty",
    }
    assert (m["op"], m["id"], m["protocol"], m["empty"], m["chunk_ms"]) == ("manifest", 1, 1, False, 300_000)
    assert m["scope"] == {"kind": "job", "dataset": DATASET, "job": JOB}
    assert m["city"] == {"name": "riverside", "timezone": "Asia/Shanghai"}
    assert m["roads"] == "/playback/roads/demo.json"
    assert m["range"] == {"start": T0 + 8 * MIN, "end": T0 + 42 * MIN}
    assert m["entities"][1] == {
        "index": 1,
        "id": "courier:c1",
        "role": "assigned",
        "points": 2041,
        "first_ts": T0 + 8 * MIN,
        "last_ts": T0 + 42 * MIN,
        "distance_m": None,
    }
    job = m["job"]
    assert set(job) >= {
        "id",
        "kind",
        "city",
        "zone",
        "pickup",
        "dropoff",
        "created_ts",
        "ready_ts",
        "promised_ts",
        "assigned_ts",
        "accepted_ts",
        "picked_up_ts",
        "delivered_ts",
        "cancelled_ts",
        "entity",
        "waybills",
        "durations",
        "late_s",
    }
    assert set(job["waybills"][0]) >= {
        "waybill",
        "entity",
        "round",
        "assigned_ts",
        "outcome",
        "outcome_ts",
        "reason",
    }
    assert set(job["durations"]) == {"wait_s", "to_pickup_s", "at_pickup_s", "to_dropoff_s", "total_s"}
    round_2 = m["rounds"][1]
    assert set(round_2) >= {
        "round",
        "ts",
        "strategy",
        "strategy_version",
        "latency_ms",
        "jobs_in_round",
        "candidates_logged",
        "decision",
        "assigned_to",
        "candidates",
        "excluded",
    }
    (chosen,) = round_2["candidates"]
    assert set(chosen) >= {
        "entity",
        "index",
        "score",
        "eta_s",
        "distance_m",
        "features",
        "chosen",
        "pos",
        "pos_age_s",
        "pos_error_m",
        "actual_s",
    }
    assert (chosen["index"], chosen["actual_s"], chosen["pos_age_s"]) == (1, 240.0, 45.0)
    assert round_2["excluded"] == [{"entity": "courier:c2", "index": 0, "reason": "declined_before"}]
    assert m["states"][0] == {"entity": 1, "ts": T0, "state": "idle"}
    assert {a["kind"] for a in m["anomalies"]} >= {"jump", "stale"}
    assert m["limits"]["credits"] == 4
    assert m["median_interval_ms"] == 1000


def test_a_dataset_without_roads_has_none_in_the_manifest(configured_track_store):
    scenario_write(configured_track_store, roads=False)
    opened = selectors.scope_open(scope=JobScope(dataset=DATASET, job=JOB), entity_limit=60)
    m = orjson.loads(wire.manifest_json(request_id=1, opened=opened, limits=PlaybackLimits(), roads_url="/x"))
    assert (m["roads"], m["city"]["timezone"]) == (None, "UTC")


def test_the_snapshot_carries_exact_stored_values(configured_track_store):
    scenario_write(configured_track_store)
    opened = selectors.scope_open(scope=JobScope(dataset=DATASET, job=JOB), entity_limit=60)
    snap = selectors.scope_snapshot(opened=opened, ts=T0 + 16 * MIN)
    s = orjson.loads(wire.snapshot_json(request_id=9, snapshot=snap))
    assert (s["op"], s["id"], s["ts"]) == ("snapshot", 9, T0 + 16 * MIN)
    stored = {p.index: p.position for p in snap.positions}
    for row in s["positions"]:
        assert round(row["lat"] * 1e7) == stored[row["entity"]].lat_e7
        assert round(row["lon"] * 1e7) == stored[row["entity"]].lon_e7
    assert s["open_jobs"] == [{"job": JOB, "state": "at_pickup", "entity": 1}]


def test_error_and_state_frames():
    e = orjson.loads(wire.error_json(request_id=None, code="bad_json", message="not JSON"))
    assert e == {"op": "error", "id": None, "code": "bad_json", "message": "not JSON"}
    e = orjson.loads(wire.error_json(request_id=7, code="window_too_long", message="…", limit=3_600_000))
    assert e["limit"] == 3_600_000
    assert orjson.loads(wire.state_json(request_id=3, ts=5, playing=True, speed=10.0)) == {
        "op": "state",
        "id": 3,
        "ts": 5,
        "playing": True,
        "speed": 10.0,
    }
