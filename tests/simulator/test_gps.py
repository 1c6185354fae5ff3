import numpy as np

from simulator.gps import gps_track_build, sample_times
from simulator.scenarios import GpsParams


def _track(params, hours=2.0, seed=1):
    ts = sample_times(
        start_ms=0, end_ms=int(hours * 3_600_000), period_ms=1000, moving=None, parked_period_ms=1000
    )
    kp_t = np.array([0.0, hours * 3_600_000])
    kp_x = np.array([0.0, hours * 3600 * 5.0])  # 5 m/s east
    kp_y = np.zeros(2)
    return ts, gps_track_build(
        ts=ts, kp_t=kp_t, kp_x=kp_x, kp_y=kp_y, params=params, rng=np.random.default_rng(seed)
    )


def test_jitter_is_about_five_metres_and_speed_heading_follow_the_track():
    ts, track = _track(GpsParams(jumps_per_hour=0, dropouts_per_hour=0, stale_per_hour=0))
    truth = track.ts / 1000.0 * 5.0
    error = np.hypot(track.x - truth, track.y)
    assert 3.0 <= float(np.median(error)) <= 8.0
    assert float(np.max(error)) < 60
    assert np.allclose(track.speed_mps[:-5], 5.0)
    assert np.allclose(track.heading_deg[:-5], 90.0)
    assert track.ts.size == ts.size


def test_jumps_dropouts_and_stale_fixes_appear():
    params = GpsParams(jumps_per_hour=6, dropouts_per_hour=6, stale_per_hour=6)
    _ts, track = _track(params)
    truth = track.ts / 1000.0 * 5.0
    error = np.hypot(track.x - truth, track.y)
    assert track.jumps
    assert all(100 <= m <= 500 for _, m in track.jumps)
    assert (error > 90).sum() >= 3 * len(track.jumps) * 0.5
    gaps = np.diff(track.ts)
    assert (gaps >= 10_000).any()  # a dropout of at least 10 s
    steps = np.hypot(np.diff(track.x), np.diff(track.y))
    assert (steps == 0).sum() >= 2  # stale fixes repeat a position while the courier moves


def test_parked_entities_report_rarely_and_moving_ones_every_second():
    ts = sample_times(
        start_ms=0,
        end_ms=3_600_000,
        period_ms=1000,
        moving=[(600_000.0, 660_000.0)],
        parked_period_ms=300_000,
    )
    inside = ts[(ts >= 600_000) & (ts <= 660_000)]
    assert inside.size == 61
    assert ts.size < 61 + 14
