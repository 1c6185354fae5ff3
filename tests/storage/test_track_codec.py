"""The track block codec: exact round trips, compact blocks and clear errors on bad bytes."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from storage.track_codec import (
    FLAG_INDEX,
    TrackCodecError,
    block_decode,
    block_encode,
    block_header,
    blocks_decode,
    blocks_encode,
    degrees_to_e7,
    e7_to_degrees,
)

T0 = 1_700_000_000_000


@st.composite
def fixes(draw, max_size=300):
    n = draw(st.integers(1, max_size))
    gaps = draw(arrays(np.int64, n, elements=st.integers(0, 10_000_000)))
    ts = T0 + np.cumsum(gaps)
    lat = draw(arrays(np.int32, n, elements=st.integers(-900_000_000, 900_000_000)))
    lon = draw(arrays(np.int32, n, elements=st.integers(-1_800_000_000, 1_800_000_000)))
    return ts, lat, lon


@given(fixes(), st.booleans())
@settings(max_examples=150, deadline=None)
def test_round_trip_is_exact(data, index):
    ts, lat, lon = data
    out = block_decode(block_encode(ts, lat, lon, index=index))
    np.testing.assert_array_equal(out.ts, ts)
    np.testing.assert_array_equal(out.lat_e7, lat)
    np.testing.assert_array_equal(out.lon_e7, lon)
    assert out.speed_mps is None


@given(
    fixes(max_size=60),
    st.lists(st.one_of(st.floats(0, 600), st.just(float("nan"))), min_size=60, max_size=60),
)
@settings(max_examples=60, deadline=None)
def test_optional_columns_are_quantised_and_keep_missing(data, speeds):
    ts, lat, lon = data
    speed = np.array(speeds[: len(ts)])
    out = block_decode(block_encode(ts, lat, lon, speed_mps=speed))
    if np.isfinite(speed).any():
        assert out.speed_mps is not None
        np.testing.assert_array_equal(np.isnan(out.speed_mps), np.isnan(speed))
        finite = np.isfinite(speed)
        assert np.max(np.abs(out.speed_mps[finite] - speed[finite])) <= 0.005 + 1e-9
    else:
        assert out.speed_mps is None


def test_degrees_fixed_point_round_trip():
    lat = np.array([39.9123456, -89.9999999, 0.0, 90.0])
    assert np.array_equal(e7_to_degrees(degrees_to_e7(lat)), lat)


def test_runs_of_several_entities_survive():
    ts = np.array([T0, T0 + 1000, T0 + 500, T0, T0 + 10], dtype=np.int64)
    lat = np.array([1, 2, 3, 4, 5], dtype=np.int32) * 1000
    lon = np.array([-5, -4, -3, -2, -1], dtype=np.int32) * 1000
    block = block_encode(ts, lat, lon, run_names=("courier:c1", "courier:c10"), run_lengths=[2, 3])
    out = block_decode(block)
    assert out.run_names == ("courier:c1", "courier:c10")
    assert out.run_lengths is not None
    assert out.run_lengths.tolist() == [2, 3]
    np.testing.assert_array_equal(out.ts, ts)
    header = block_header(block)
    assert (header.n, header.n_runs, header.t_first, header.t_last) == (5, 2, T0, T0 + 1000)


def test_many_blocks_at_once_equal_one_at_a_time():
    rng = np.random.default_rng(4)
    ts = T0 + np.cumsum(rng.integers(1, 2000, 1000))
    lat = rng.integers(-100_000_000, 100_000_000, 1000).astype(np.int32)
    lon = rng.integers(-100_000_000, 100_000_000, 1000).astype(np.int32)
    bounds = np.array([0, 1, 300, 301, 999, 1000])
    many = blocks_encode(ts, lat, lon, bounds)
    single = [block_encode(ts[a:b], lat[a:b], lon[a:b]) for a, b in itertools.pairwise(bounds)]
    assert many == single


def test_one_hertz_tracks_take_under_four_bytes_per_point():
    rng = np.random.default_rng(1)
    n = 3600
    ts = T0 + np.arange(n, dtype=np.int64) * 1000
    walk = np.cumsum(rng.normal(0, 4.5e-5, (2, n)), axis=1)
    lat = degrees_to_e7(39.9 + walk[0] + rng.normal(0, 4e-5, n))
    lon = degrees_to_e7(116.4 + walk[1] + rng.normal(0, 5e-5, n))
    assert len(block_encode(ts, lat, lon)) / n < 4.0


def test_wide_jumps_use_wide_deltas():
    ts = np.array([T0, T0 + 1], dtype=np.int64)
    lon = np.array([-1_800_000_000, 1_800_000_000], dtype=np.int32)
    out = block_decode(block_encode(ts, np.zeros(2, np.int32), lon))
    np.testing.assert_array_equal(out.lon_e7, lon)


@pytest.mark.parametrize("bad", [b"", b"XX" + bytes(60), b"DS\x09" + bytes(60)])
def test_garbage_is_a_clear_error(bad):
    with pytest.raises(TrackCodecError):
        block_decode(bad)


def test_corrupt_payload_is_a_clear_error():
    block = block_encode(np.array([T0], dtype=np.int64), np.zeros(1, np.int32), np.zeros(1, np.int32))
    with pytest.raises(TrackCodecError):
        block_decode(block[:-3] + b"\x00\x00\x00")


def test_empty_block_is_refused():
    with pytest.raises(ValueError, match="at least one"):
        block_encode(np.empty(0, np.int64), np.empty(0, np.int32), np.empty(0, np.int32))


@given(st.lists(st.tuples(fixes(max_size=80), st.booleans()), min_size=1, max_size=8))
@settings(max_examples=80, deadline=None)
def test_batch_decoding_equals_one_block_at_a_time(parts):
    blocks = [block_encode(ts, lat, lon, index=index) for (ts, lat, lon), index in parts]
    batch = blocks_decode(blocks)
    singles = [block_decode(b) for b in blocks]
    np.testing.assert_array_equal(batch.ts, np.concatenate([s.ts for s in singles]))
    np.testing.assert_array_equal(batch.lat_e7, np.concatenate([s.lat_e7 for s in singles]))
    np.testing.assert_array_equal(batch.lon_e7, np.concatenate([s.lon_e7 for s in singles]))
    assert batch.starts.tolist() == np.cumsum([0] + [len(s) for s in singles])[:-1].tolist()


def test_index_blocks_are_uncompressed_and_patch_wide_deltas():
    ts = np.array([T0, T0 + 1000, T0 + 90_000, T0 + 91_000], dtype=np.int64)
    lat = np.array([0, 10, 70_000, -5], dtype=np.int32)
    lon = np.array([1, 2, 3, 4], dtype=np.int32)
    block = block_encode(ts, lat, lon, run_names=("courier:c1", "courier:c2"), run_lengths=[2, 2], index=True)
    assert block_header(block).flags & FLAG_INDEX
    out = block_decode(block)
    np.testing.assert_array_equal(out.ts, ts)
    np.testing.assert_array_equal(out.lat_e7, lat)


def test_blocks_decode_exactly_from_many_threads_at_once():
    # The socket's fetches decode on a thread pool; a shared zstd context corrupts concurrent reads.
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(5)
    blocks = []
    for _ in range(16):
        n = 3600
        ts = 1_700_000_000_000 + np.cumsum(rng.integers(900, 1100, n)).astype(np.int64)
        lat = (312_000_000 + np.cumsum(rng.integers(-60, 60, n))).astype(np.int32)
        lon = (1_214_000_000 + np.cumsum(rng.integers(-60, 60, n))).astype(np.int32)
        blocks.append((block_encode(ts, lat, lon), ts, lat))

    def decode_all(_: int) -> bool:
        return all(
            np.array_equal(block_decode(b).ts, ts) and np.array_equal(block_decode(b).lat_e7, lat)
            for b, ts, lat in blocks
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert all(pool.map(decode_all, range(64)))
