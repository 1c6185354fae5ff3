"""The demo sample: deterministic, inside the log contract, and with tracks that agree with the events."""

import json
import math
from collections import Counter, defaultdict

import numpy as np
import pyarrow.parquet as pq
import pytest

from pipeline.contract import RowError, TimeBounds, rfc3339_to_ms
from pipeline.events import event_normalise
from pipeline.sample import sample_manifest_read, sample_write

# The sample's day is fixed (June 2025); the bound only has to be later than it.
BOUNDS = TimeBounds(start_ms=946_684_800_000, end_ms=4_102_444_800_000)


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    out = tmp_path_factory.mktemp("sample")
    manifest = sample_write(out)
    events = []
    for line in manifest.events_path.read_text().splitlines():
        row = json.loads(line)
        _, stored = event_normalise(row, default_dataset="demo", bounds=BOUNDS)
        events.append((row, stored.body))
    gps = pq.read_table(manifest.gps_path)
    return manifest, events, gps


def _fixes(gps):
    """entity -> (ts array, lat array, lon array), time-sorted."""
    entity = np.asarray(gps.column("entity").to_pylist(), dtype=object)
    ts = gps.column("ts").to_numpy()
    lat = gps.column("lat").to_numpy()
    lon = gps.column("lon").to_numpy()
    out = {}
    for name in set(entity.tolist()):
        mask = entity == name
        out[name] = (ts[mask], lat[mask], lon[mask])
    return out


def _metres(lat1, lon1, lat2, lon2):
    north = (lat2 - lat1) * 111_320.0
    east = (lon2 - lon1) * 111_320.0 * math.cos(math.radians(lat1))
    return math.hypot(north, east)


def test_same_seed_gives_byte_identical_files_and_another_seed_does_not(tmp_path):
    first = sample_write(tmp_path / "a", seed=3, couriers=8, orders=20)
    second = sample_write(tmp_path / "b", seed=3, couriers=8, orders=20)
    other = sample_write(tmp_path / "c", seed=4, couriers=8, orders=20)
    assert first.gps_path.read_bytes() == second.gps_path.read_bytes()
    assert first.events_path.read_bytes() == second.events_path.read_bytes()
    assert first.events_path.read_bytes() != other.events_path.read_bytes()
    assert first.gps_path.read_bytes() != other.gps_path.read_bytes()


def test_every_event_passes_the_log_contract_and_some_times_are_rfc3339(sample):
    _, events, _ = sample
    # event_normalise raising RowError would have failed the fixture; check the string times explicitly too.
    text_times = [row["ts"] for row, _ in events if isinstance(row["ts"], str)]
    assert len(text_times) >= 10
    assert any(t.endswith("Z") for t in text_times)
    assert any(t.endswith("+08:00") for t in text_times)
    for row, body in events:
        if isinstance(row["ts"], str):
            assert body["ts"] == rfc3339_to_ms(row["ts"])
    with pytest.raises(RowError):
        event_normalise({"type": "job_created", "ts": 1}, default_dataset="demo", bounds=BOUNDS)


def test_the_city_has_the_promised_cast(sample):
    manifest, events, gps = sample
    types = Counter(body["type"] for _, body in events)
    created = [b for _, b in events if b["type"] == "job_created"]
    orders = [b for b in created if b["kind"] == "delivery"]
    assert len(orders) == 150
    assert all({"promised_ts", "ready_ts", "zone"} <= set(b) for b in orders)
    assert any(b["kind"] == "ride" for b in created)
    entities = set(gps.column("entity").to_pylist())
    assert len({e for e in entities if e.startswith("courier:")}) == 40
    assert {e for e in entities if e.startswith("bike:b")}
    assert types["job_rejected"] >= 3
    assert types["job_cancelled"] >= 2
    states = Counter(b["state"] for _, b in events if b["type"] == "entity_state")
    assert states["online"] == 40
    assert states["offline"] >= 2
    assert states["busy"] > 100
    rounds = [b for _, b in events if b["type"] == "dispatch_round"]
    assert sum(len(r["postponed"]) for r in rounds) > 0
    assert all(r["ts"] % 30_000 == 0 for r in rounds)
    candidate = next(r for r in rounds if r["candidates"])["candidates"][0]
    assert {"score", "eta_s", "distance_m", "features", "entity_pos"} <= set(candidate)
    variants = Counter(b["variant"] for _, b in events if b["type"] == "experiment_assignment")
    assert set(variants) == {"control", "treatment"}
    assert sum(variants.values()) == 150
    assert set(gps.column_names) == {
        "entity",
        "ts",
        "lat",
        "lon",
        "speed_mps",
        "heading_deg",
        "accuracy_m",
        "city",
    }
    assert manifest.gps_points == gps.num_rows
    assert manifest.events == len(events)


def test_each_delivered_order_runs_its_lifecycle_in_order(sample):
    _, events, _ = sample
    by_job = defaultdict(list)
    for _, body in events:
        if "job" in body and body["type"] != "dispatch_round":
            by_job[body["job"]].append(body)
    delivered = [
        job for job, evs in by_job.items() if evs[-1]["type"] == "job_delivered" and job.startswith("order:")
    ]
    assert len(delivered) >= 130
    for job in delivered:
        evs = by_job[job]
        final = evs[-1]["waybill"]
        kinds = [e["type"] for e in evs if e.get("waybill") == final]
        assert kinds == [
            "job_assigned",
            "job_accepted",
            "job_arrived_pickup",
            "job_picked_up",
            "job_delivered",
        ], job
        assert evs[0]["type"] == "job_created"
        assert [e["ts"] for e in evs] == sorted(e["ts"] for e in evs)


def test_a_declined_order_comes_back_under_a_new_waybill_from_a_later_round(sample):
    manifest, events, _ = sample
    rejected = [b for _, b in events if b["type"] == "job_rejected"]
    for rejection in rejected:
        later = [
            b
            for _, b in events
            if b.get("job") == rejection["job"] and b["type"] == "job_assigned" and b["ts"] > rejection["ts"]
        ]
        if later:
            assert later[0]["waybill"] != rejection["waybill"]
            assert later[0]["round"] != rejection["round"]
            assert later[0]["entity"] != rejection["entity"]
    assert any(job == manifest.example_job for job, _ in manifest.incidents)


def test_couriers_are_at_the_restaurant_at_pickup_and_at_the_door_at_delivery(sample):
    _, events, gps = sample
    fixes = _fixes(gps)
    orders = {b["job"]: b for _, b in events if b["type"] == "job_created"}
    checked = 0
    for _, body in events:
        if body["type"] not in ("job_picked_up", "job_delivered"):
            continue
        place = orders[body["job"]]["pickup" if body["type"] == "job_picked_up" else "dropoff"]
        ts, lat, lon = fixes[body["entity"]]
        i = int(np.searchsorted(ts, body["ts"]))
        assert ts[i] - body["ts"] < 2_000, body
        assert _metres(place["lat"], place["lon"], lat[i], lon[i]) < 40, body
        checked += 1
    assert checked > 250


def test_the_dispatcher_saw_couriers_where_their_gps_put_them(sample):
    _, events, gps = sample
    fixes = _fixes(gps)
    orders = {b["job"]: b for _, b in events if b["type"] == "job_created"}
    worst = 0.0
    for _, body in events:
        if body["type"] != "dispatch_round":
            continue
        for cand in body["candidates"]:
            pos = cand["entity_pos"]
            ts, lat, lon = fixes[cand["entity"]]
            i = int(np.searchsorted(ts, pos["ts"]))
            assert ts[i] == pos["ts"]
            worst = max(worst, _metres(pos["lat"], pos["lon"], lat[i], lon[i]))
            pickup = orders[cand["job"]]["pickup"]
            # The fix may be a few seconds older than the round: a few tens of metres of travel.
            assert (
                abs(cand["distance_m"] - _metres(pos["lat"], pos["lon"], pickup["lat"], pickup["lon"])) < 40
            )
    assert worst < 60


def test_tracks_move_at_street_speeds_apart_from_the_one_planted_jump(sample):
    manifest, _, gps = sample
    fixes = _fixes(gps)
    jumps: list[tuple[str, int]] = []
    for name, (ts, lat, lon) in fixes.items():
        assert np.all(np.diff(ts) > 0), name
        dt = np.diff(ts) / 1000.0
        north = np.diff(lat) * 111_320.0
        east = np.diff(lon) * 111_320.0 * math.cos(math.radians(39.9))
        fast = np.flatnonzero(np.hypot(north, east) / dt > 15.0)
        jumps.extend((name, int(ts[k + 1])) for k in fast)
    # The jump shows as two fast steps (out and back) on one courier.
    assert len(jumps) == 2
    assert jumps[0][0] == jumps[1][0]
    assert any("GPS jumped" in text for _, text in manifest.incidents)


def test_manifest_reads_back_for_its_seed_only(sample):
    manifest, _, _ = sample
    out = manifest.gps_path.parent
    assert sample_manifest_read(out, seed=7) == manifest
    assert sample_manifest_read(out, seed=8) is None


def test_couriers_report_gps_only_while_online(sample):
    _, events, gps = sample
    fixes = _fixes(gps)
    online, offline = {}, {}
    for _, body in events:
        if body["type"] == "entity_state" and body["state"] == "online":
            online[body["entity"]] = body["ts"]
        if body["type"] == "entity_state" and body["state"] == "offline":
            offline[body["entity"]] = body["ts"]
    assert any(ts > min(online.values()) for ts in online.values())  # some join the shift late
    for courier, start in online.items():
        ts = fixes[courier][0]
        assert ts[0] == start
        if courier in offline:
            assert ts[-1] == offline[courier]
