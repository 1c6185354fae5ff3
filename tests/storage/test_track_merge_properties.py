"""Property: however fixes arrive (split, repeated, reordered, conflicting), reads show the first of each."""

import itertools
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storage.kv.lmdb import LMDBStore
from storage.track_codec import degrees_to_e7
from storage.tracks import PointBatch, TrackStore

T0 = 1_700_000_000_000
ENTITIES = ("courier:c1", "courier:c10", "bike:b1")


@st.composite
def deliveries(draw):
    """Rows (entity, ts, lat, lon) and how they are cut into batches and ordered."""
    n = draw(st.integers(1, 120))
    rows = []
    for _ in range(n):
        entity = draw(st.sampled_from(ENTITIES))
        # Times cluster so repeats of one (entity, ts) are common; spans cross hour buckets.
        ts = T0 + draw(st.integers(0, 40)) * 250_000 + draw(st.integers(0, 2)) * 1000
        lat = draw(st.sampled_from((39.9, 39.9000001, 40.2)))
        rows.append((entity, ts, lat, 116.4))
    cuts = sorted(draw(st.lists(st.integers(0, n), max_size=5)))
    reverse = draw(st.lists(st.booleans(), min_size=6, max_size=6))
    return rows, cuts, reverse


def as_batch(rows):
    return PointBatch(
        entity_names=ENTITIES,
        entity_codes=np.array([ENTITIES.index(r[0]) for r in rows], dtype=np.int32),
        ts=np.array([r[1] for r in rows], dtype=np.int64),
        lat=np.array([r[2] for r in rows]),
        lon=np.array([r[3] for r in rows]),
    )


@given(deliveries())
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_reads_equal_first_arrival_of_each_fix(data):
    rows, cuts, reverse = data
    bounds = [0, *cuts, len(rows)]
    store = TrackStore(LMDBStore(path=Path(tempfile.mkdtemp(prefix="merge-"))))
    first: dict[tuple[str, int], int] = {}
    stored = duplicates = conflicts = 0
    for i, (a, b) in enumerate(itertools.pairwise(bounds)):
        chunk = rows[a:b]
        if not chunk:
            continue
        if reverse[i % len(reverse)]:
            chunk = list(reversed(chunk))
        for entity, ts, lat, _ in chunk:
            key = (entity, ts)
            value = int(degrees_to_e7([lat])[0])
            if key not in first:
                first[key] = value
        result = store.points_write(dataset="d", batch=as_batch(chunk))
        stored += result.stored
        duplicates += result.duplicates
        conflicts += len(result.conflict_rows)
    assert stored == len(first)
    assert stored + duplicates + conflicts == len(rows)
    tracks = {}
    for entity in ENTITIES:
        track = store.entity_window(dataset="d", entity=entity, start=T0, end=T0 + 10**9)
        want = sorted((ts, v) for (e, ts), v in first.items() if e == entity)
        assert list(zip(track.ts.tolist(), track.lat_e7.tolist(), strict=True)) == want
        tracks[entity] = track
    store.compact_touched()
    for entity, track in tracks.items():
        again = store.entity_window(dataset="d", entity=entity, start=T0, end=T0 + 10**9)
        assert again.ts.tolist() == track.ts.tolist()
        assert again.lat_e7.tolist() == track.lat_e7.tolist()
