"""One small incident written into a track store, the way ingest would: the playback tests replay it.

order:o1 is created at T0 + 10 min at PICKUP. round:1 (T0 + 10.5 min) offers it to c2 and c3, assigns
c2, and excludes c4 (600 m away), c5 (200 m away) and c9 (no track); c2 declines. round:2 (T0 + 11 min)
assigns c1 (using a fix 45 s old), who accepts, reaches the pickup at T0 + 15 min, picks up at T0 + 17
min and delivers at T0 + 40 min, 5 minutes late. c1's track jumps 400 m for 3 s at T0 + 20 min.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson

from storage.tracks import PointBatch, StoredEvent, TrackStore

T0 = 1_700_000_000_000
MIN = 60_000
DATASET = "demo"
JOB = "order:o1"
PICKUP = (31.2, 121.4)
DROPOFF = (31.22, 121.42)
M_PER_DEG = 111_195.0
ROADS = {
    "city": "riverside",
    "timezone": "Asia/Shanghai",
    "classes": ["primary"],
    "nodes": [[31.2, 121.4], [31.22, 121.42]],
    "edges": [[0, 1, "primary"]],
}


def north_of_pickup(metres: Any) -> Any:
    return PICKUP[0] + metres / M_PER_DEG


def fixes(entity: str, lat: np.ndarray, lon: np.ndarray, start: int = T0) -> PointBatch:
    n = lat.size
    return PointBatch(
        entity_names=(entity,),
        entity_codes=np.zeros(n, dtype=np.int32),
        ts=start + np.arange(n, dtype=np.int64) * 1000,
        lat=lat,
        lon=lon,
    )


def stored(body: dict[str, Any]) -> StoredEvent:
    return StoredEvent(id=body["id"], type=body["type"], ts=body["ts"], body=body)


def lifecycle(type_: str, minutes: float, n: int, **extra: Any) -> StoredEvent:
    return stored({"type": type_, "id": f"ev:{n}", "job": JOB, "ts": T0 + int(minutes * MIN), **extra})


def candidate(
    entity: str, score: float, eta_s: float, pos: tuple[float, float, int] | None
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "job": JOB,
        "entity": entity,
        "score": score,
        "eta_s": eta_s,
        "distance_m": 100.0,
        "features": {"load": 1},
    }
    if pos is not None:
        row["entity_pos"] = {"lat": pos[0], "lon": pos[1], "ts": pos[2]}
    return row


def scenario_write(store: TrackStore, *, roads: bool = True) -> None:
    n = 3600  # one hour at 1 Hz from T0
    seconds = np.arange(n)
    # c1 sits 500 m north until 11 min, walks to the pickup by 15 min, then on to the dropoff.
    c1_lat = np.full(n, north_of_pickup(500.0))
    walk = (seconds >= 660) & (seconds < 900)
    c1_lat[walk] = north_of_pickup(500.0 - (seconds[walk] - 660) * 500.0 / 240)
    c1_lat[seconds >= 900] = PICKUP[0]
    later = seconds >= 1020
    c1_lat[later] = PICKUP[0] + (seconds[later] - 1020) / (2400 - 1020) * (DROPOFF[0] - PICKUP[0])
    c1_lat[seconds >= 2400] = DROPOFF[0]
    c1_lat[1200:1203] += 400.0 / M_PER_DEG
    c1_lon = np.full(n, PICKUP[1]) + seconds * 1e-7  # a little drift: never a stale repeat
    store.points_write(dataset=DATASET, batch=fixes("courier:c1", c1_lat, c1_lon))
    for entity, metres in (
        ("courier:c2", 300.0),
        ("courier:c3", 800.0),
        ("courier:c4", 600.0),
        ("courier:c5", 200.0),
    ):
        lat = np.full(n, north_of_pickup(metres)) + seconds * 1e-8
        store.points_write(dataset=DATASET, batch=fixes(entity, lat, np.full(n, PICKUP[1])))
    events = [
        lifecycle(
            "job_created",
            10,
            1,
            city="riverside",
            kind="delivery",
            zone="z1",
            pickup={"lat": PICKUP[0], "lon": PICKUP[1]},
            dropoff={"lat": DROPOFF[0], "lon": DROPOFF[1]},
            promised_ts=T0 + 35 * MIN,
            ready_ts=T0 + 14 * MIN,
        ),
        stored(
            {
                "type": "dispatch_round",
                "id": "ev:r1",
                "round": "round:1",
                "ts": T0 + 630_000,
                "city": "riverside",
                "strategy": "nearest",
                "strategy_version": "v1",
                "latency_ms": 8.0,
                "jobs": [JOB, "order:o2"],
                "candidates": [
                    candidate("courier:c2", 0.9, 60.0, (north_of_pickup(300.0), PICKUP[1], T0 + 629_000)),
                    candidate("courier:c3", 0.5, 200.0, None),
                    {"job": "order:o2", "entity": "courier:c3"},
                ],
                "assignments": [{"job": JOB, "entity": "courier:c2"}],
                "postponed": ["order:o2"],
                "excluded": [
                    {"job": JOB, "entity": "courier:c4", "reason": "beyond_radius"},
                    {"job": JOB, "entity": "courier:c9", "reason": "at_capacity"},
                    {"job": JOB, "entity": "courier:c5", "reason": "shift_ending"},
                ],
            }
        ),
        lifecycle("job_assigned", 10.5, 2, entity="courier:c2", round="round:1", waybill="waybill:1-1"),
        lifecycle("job_rejected", 10.75, 3, entity="courier:c2", waybill="waybill:1-1", reason="declined"),
        stored(
            {
                "type": "dispatch_round",
                "id": "ev:r2",
                "round": "round:2",
                "ts": T0 + 11 * MIN,
                "city": "riverside",
                "strategy": "nearest",
                "jobs": [JOB],
                "candidates": [
                    candidate(
                        "courier:c1",
                        0.8,
                        180.0,
                        (north_of_pickup(500.0), PICKUP[1] + 615e-7, T0 + 11 * MIN - 45_000),
                    )
                ],
                "assignments": [{"job": JOB, "entity": "courier:c1"}],
                "excluded": [{"job": JOB, "entity": "courier:c2", "reason": "declined_before"}],
            }
        ),
        lifecycle("job_assigned", 11, 4, entity="courier:c1", round="round:2", waybill="waybill:1-2"),
        lifecycle("job_accepted", 11.25, 5, entity="courier:c1", waybill="waybill:1-2"),
        lifecycle("job_arrived_pickup", 15, 6, entity="courier:c1"),
        lifecycle("job_picked_up", 17, 7, entity="courier:c1"),
        lifecycle("job_delivered", 40, 8, entity="courier:c1"),
    ]
    for i, (minutes, state) in enumerate(((0, "online"), (0, "idle"), (11.25, "busy"), (40, "idle"))):
        body = {
            "type": "entity_state",
            "id": f"ev:s{i}",
            "entity": "courier:c1",
            "ts": T0 + int(minutes * MIN),
            "state": state,
            "capacity": 3,
        }
        events.append(stored(body))
    store.events_write(dataset=DATASET, events=events)
    if roads:
        store.city_put(dataset=DATASET, document=orjson.dumps(ROADS, option=orjson.OPT_SORT_KEYS))
