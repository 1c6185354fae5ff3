"""The playback read API and the search lookup, through the configured track store."""

import numpy as np

from playback import selectors
from storage.tracks import Box, PointBatch, StoredEvent

T0 = 1_700_000_000_000


def points(entity, n, lat, lon):
    return PointBatch(
        entity_names=(entity,),
        entity_codes=np.zeros(n, dtype=np.int32),
        ts=T0 + np.arange(n, dtype=np.int64) * 1000,
        lat=np.full(n, lat) + np.arange(n) * 1e-6,
        lon=np.full(n, lon),
    )


def event(body):
    return StoredEvent(id=body["id"], type=body["type"], ts=body["ts"], body=body)


def load_flow(store):
    store.points_write(dataset="demo", batch=points("courier:c1", 3000, 39.90, 116.40))
    store.points_write(dataset="demo", batch=points("courier:c2", 3000, 39.91, 116.41))
    store.points_write(dataset="demo", batch=points("courier:c3", 3000, 39.99, 116.49))
    store.events_write(
        dataset="demo",
        events=[
            event({"type": "job_created", "id": "e1", "job": "order:o1", "ts": T0 + 600_000, "city": "bj"}),
            event(
                {
                    "type": "dispatch_round",
                    "id": "r1",
                    "round": "round:1",
                    "ts": T0 + 630_000,
                    "city": "bj",
                    "strategy": "nearest",
                    "jobs": ["order:o1"],
                    "postponed": [],
                    "candidates": [
                        {
                            "job": "order:o1",
                            "entity": "courier:c2",
                            "score": 0.4,
                            "eta_s": 300,
                            "distance_m": 900,
                            "features": {},
                            "entity_pos": {"lat": 39.91, "lon": 116.41, "ts": T0 + 629_000},
                        },
                        {
                            "job": "order:o1",
                            "entity": "courier:c1",
                            "score": 0.9,
                            "eta_s": 120,
                            "distance_m": 300,
                            "features": {"load": 1},
                        },
                    ],
                    "assignments": [{"job": "order:o1", "entity": "courier:c1"}],
                    "excluded": [{"job": "order:o1", "entity": "courier:c3", "reason": "too_far"}],
                }
            ),
            event(
                {
                    "type": "job_accepted",
                    "id": "e2",
                    "job": "order:o1",
                    "ts": T0 + 640_000,
                    "entity": "courier:c1",
                }
            ),
            event(
                {
                    "type": "job_delivered",
                    "id": "e3",
                    "job": "order:o1",
                    "ts": T0 + 1_800_000,
                    "entity": "courier:c1",
                }
            ),
        ],
    )


def test_box_tracks_and_thinning(configured_track_store):
    load_flow(configured_track_store)
    box = Box(39.85, 116.35, 39.95, 116.45)
    full = selectors.box_tracks(dataset="demo", box=box, start=T0, end=T0 + 59_000)
    assert sorted(full.entities) == ["courier:c1", "courier:c2"]
    assert len(full) == 120
    thin = selectors.box_tracks(dataset="demo", box=box, start=T0, end=T0 + 59_000, interval_ms=30_000)
    # Intervals are aligned to the epoch: T0 sits 20 s into one, so a minute touches three per entity.
    assert len(thin) == 6
    assert thin.ts[thin.entity_index == 0].tolist() == [T0, T0 + 10_000, T0 + 40_000]


def test_lookup_finds_jobs_entities_and_bare_ids(configured_track_store):
    load_flow(configured_track_store)
    job = selectors.lookup(dataset="demo", query="order:o1")
    assert job.kind == "job"
    assert job.job is not None
    assert job.job.rounds == ("round:1",)
    assert [e.type for e in job.job.events] == [
        "job_created",
        "dispatch_round",
        "job_accepted",
        "job_delivered",
    ]
    courier = selectors.lookup(dataset="demo", query="c1")
    assert courier.kind == "entity"
    assert courier.entity is not None
    assert (courier.entity.entity, courier.entity.points, courier.entity.jobs) == (
        "courier:c1",
        3000,
        ("order:o1",),
    )
    assert courier.entity.first_ts == T0
    assert selectors.lookup(dataset="demo", query="order:o404").kind == "none"
    assert selectors.lookup(dataset="other", query="order:o1").kind == "none"
    assert [(d.name, d.points, d.events) for d in selectors.datasets()] == [("demo", 9000, 4)]
