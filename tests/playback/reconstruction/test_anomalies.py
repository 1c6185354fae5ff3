"""GPS anomaly flags: each kind on a track built to show it, none on a clean one, thresholds as documented."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from playback.reconstruction import anomalies as a
from playback.reconstruction.anomalies import fix_flags, gap_threshold_ms, stale_positions, track_anomalies
from playback.reconstruction.rounds import round_review, round_view
from tests.playback.reconstruction.events import JOB, T0, dispatch_round

M_PER_DEG = 111_195.0


def walk(n, *, step_m=4.0, hz=1.0, seed=0, jitter_m=2.0):
    """A courier walking north at `step_m` per fix with GPS jitter, as e7 columns."""
    rng = np.random.default_rng(seed)
    ts = T0 + (np.arange(n) * (1000 / hz)).astype(np.int64)
    north = np.arange(n) * step_m + rng.normal(0, jitter_m, n)
    east = rng.normal(0, jitter_m, n)
    lat = 31.2 + north / M_PER_DEG
    lon = 121.4 + east / (M_PER_DEG * np.cos(np.radians(31.2)))
    return ts, np.rint(lat * 1e7).astype(np.int32), np.rint(lon * 1e7).astype(np.int32)


def bits(flags, bit):
    return np.flatnonzero(flags & bit).tolist()


def test_a_clean_moving_track_has_no_flags():
    assert not fix_flags(*walk(3600)).any()


def test_a_jump_out_and_back_flags_both_steps():
    ts, lat, lon = walk(600)
    lat[300:305] += int(400 / M_PER_DEG * 1e7)
    flags = fix_flags(ts, lat, lon)
    assert bits(flags, a.FLAG_JUMP) == [300, 305]
    jump, back = [x for x in track_anomalies("courier:c1", ts, lat, lon, flags) if x.kind == "jump"]
    assert (jump.ts, jump.end_ts, back.ts) == (int(ts[300]), int(ts[300]), int(ts[305]))
    assert 390 < jump.value < 410
    assert jump.detail.endswith("km/h)")
    assert " in 1 s " in jump.detail


def test_a_fast_step_shorter_than_the_minimum_is_jitter():
    ts = np.array([T0, T0 + 100], dtype=np.int64)
    lat = np.array([312_000_000, 312_000_000 + int(20 / M_PER_DEG * 1e7)], dtype=np.int32)  # 20 m in 0.1 s
    assert not fix_flags(ts, lat, np.zeros(2, dtype=np.int32) + 1_214_000_000).any()


def test_a_dropout_flags_the_fix_after_it_and_scales_with_the_median_interval():
    ts, lat, lon = walk(200)
    keep = np.r_[0:100, 131:200]  # 31 s without a fix
    flags = fix_flags(ts[keep], lat[keep], lon[keep])
    assert bits(flags, a.FLAG_GAP) == [100]
    short = np.r_[0:100, 129:200]  # 29 s: not a dropout at 1 Hz
    assert not bits(fix_flags(ts[short], lat[short], lon[short]), a.FLAG_GAP)
    sparse_ts = T0 + np.arange(100, dtype=np.int64) * 5000
    assert gap_threshold_ms(sparse_ts) == 150_000
    (gap,) = [x for x in track_anomalies("c", ts[keep], lat[keep], lon[keep]) if x.kind == "gap"]
    assert (gap.ts, gap.end_ts, gap.detail) == (int(ts[99]), int(ts[131]), "no fix for 32 s")


def test_a_repeated_position_is_stale_once_it_lasted_ten_seconds():
    ts, lat, lon = walk(100)
    lat[40:56], lon[40:56] = lat[40], lon[40]  # fixes 41..55 repeat fix 40
    flags = fix_flags(ts, lat, lon)
    assert bits(flags, a.FLAG_STALE) == list(range(50, 56))
    (stale,) = [x for x in track_anomalies("c", ts, lat, lon, flags) if x.kind == "stale"]
    assert stale.detail == "position repeated unchanged for 15 s"


def test_a_single_repeat_after_ten_seconds_is_stale():
    ts = np.array([T0, T0 + 12_000], dtype=np.int64)
    same = np.array([312_000_000, 312_000_000], dtype=np.int32)
    assert bits(fix_flags(ts, same, same), a.FLAG_STALE) == [1]


def test_standing_still_for_two_minutes_is_a_stall():
    ts, lat, lon = walk(600, seed=3)
    _still_ts, still_lat, still_lon = walk(600, step_m=0.0, jitter_m=2.5, seed=4)
    lat = np.concatenate((lat, still_lat + (lat[-1] - still_lat[0])))
    lon = np.concatenate((lon, still_lon + (lon[-1] - still_lon[0])))
    ts = T0 + np.arange(1200, dtype=np.int64) * 1000
    stalled = bits(fix_flags(ts, lat, lon), a.FLAG_STALL)
    # Flagged from two minutes into the stop (give or take the jitter at its edge) to the end.
    assert stalled == list(range(stalled[0], 1200))
    assert 705 <= stalled[0] <= 730
    (stall,) = [x for x in track_anomalies("c", ts, lat, lon) if x.kind == "stall"]
    assert stall.end_ts == int(ts[-1])
    assert stall.detail.startswith("no movement beyond 15 m for ")


def test_a_stall_needs_two_minutes_of_history():
    ts, lat, lon = walk(119, step_m=0.0, jitter_m=1.0)
    assert not bits(fix_flags(ts, lat, lon), a.FLAG_STALL)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-1000, 1000), min_size=1, max_size=200), st.data())
def test_range_extent_matches_a_scan(values, data):
    arr = np.array(values, dtype=np.int64)
    n = arr.size
    lo = np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=50)), dtype=np.int64)
    hi = np.array([data.draw(st.integers(int(x), n - 1)) for x in lo], dtype=np.int64)
    mins, maxs = a._range_extent(arr, lo, hi)
    assert mins.tolist() == [int(arr[x : y + 1].min()) for x, y in zip(lo, hi, strict=True)]
    assert maxs.tolist() == [int(arr[x : y + 1].max()) for x, y in zip(lo, hi, strict=True)]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 90_000), min_size=1, max_size=300), st.integers(0, 2**32 - 1))
def test_flags_only_use_the_documented_bits_and_the_first_fix_has_none(gaps, seed):
    rng = np.random.default_rng(seed)
    ts = T0 + np.concatenate(([0], np.cumsum(gaps))).astype(np.int64)
    lat = (312_000_000 + np.cumsum(rng.integers(-5000, 5000, ts.size))).astype(np.int32)
    lon = (1_214_000_000 + np.cumsum(rng.integers(-5000, 5000, ts.size))).astype(np.int32)
    flags = fix_flags(ts, lat, lon)
    assert flags.dtype == np.uint8
    assert flags.size == ts.size
    assert not (flags & ~np.uint8(15)).any()
    assert flags[0] == 0
    gap = ts[1:] - ts[:-1] > gap_threshold_ms(ts)
    assert ((flags[1:] & a.FLAG_GAP) > 0).tolist() == gap.tolist()


def test_a_round_using_an_old_fix_is_a_stale_position():
    rnd = dispatch_round(
        T0 + 60_000,
        "round:7",
        candidates=[
            {"entity": "courier:c1", "entity_pos": {"lat": 31.2, "lon": 121.4, "ts": T0 + 15_000}},
            {"entity": "courier:c2", "entity_pos": {"lat": 31.2, "lon": 121.4, "ts": T0 + 40_000}},
        ],
    )
    (found,) = stale_positions([round_review(round_view(rnd, JOB), tracks={})])
    assert (found.entity, found.kind, found.ts, found.detail) == (
        "courier:c1",
        "stale",
        T0 + 60_000,
        "round:7 used a fix 45 s old",
    )
