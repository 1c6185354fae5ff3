"""An entity's window (states, jobs touched), the snapshot at a time, and overview thinning."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from playback.reconstruction.entity import entity_window, jobs_touched
from playback.reconstruction.lifecycle import job_lifecycle
from playback.reconstruction.snapshot import Position, last_fix, open_jobs
from playback.reconstruction.thinning import first_per_interval
from storage.keys import ROLE_ASSIGNED, ROLE_EVENT, ROLE_EXCLUDED, ROLE_OFFERED
from storage.tracks import EntityTrack, JobLink, StoredEvent
from tests.playback.reconstruction.events import JOB, T0, created, event

C1 = "courier:c1"


def state(ts, value):
    body = {"type": "entity_state", "entity": C1, "ts": ts, "state": value, "capacity": 3, "id": f"s{ts}"}
    return StoredEvent(id=body["id"], type="entity_state", ts=ts, body=body)


def track(ts):
    ts = np.asarray(ts, dtype=np.int64)
    return EntityTrack(
        C1, ts, (ts % 1000).astype(np.int32) + 312_000_000, np.full(ts.size, 1_214_000_000, np.int32)
    )


def test_entity_window_has_the_state_in_force_at_its_start_and_the_jobs_it_touched():
    events = [
        state(T0 - 60_000, "online"),
        state(T0 - 30_000, "idle"),
        state(T0 + 10_000, "busy"),
        state(T0 + 99_000, "offline"),
    ]
    links = [
        JobLink(ts=T0 + 5_000, job="order:o2", role=ROLE_OFFERED),
        JobLink(ts=T0 + 9_000, job=JOB, role=ROLE_OFFERED),
        JobLink(ts=T0 + 9_000, job=JOB, role=ROLE_ASSIGNED),
        JobLink(ts=T0 + 50_000, job=JOB, role=ROLE_EVENT),
        JobLink(ts=T0 + 60_000, job="order:o3", role=ROLE_EXCLUDED),
        JobLink(ts=T0 + 200_000, job="order:o4", role=ROLE_ASSIGNED),
    ]
    window = entity_window(
        entity=C1, start=T0, end=T0 + 100_000, track=track([T0]), events=events, links=links
    )
    assert [(s.ts, s.state, s.capacity) for s in window.states] == [
        (T0 - 30_000, "idle", 3),
        (T0 + 10_000, "busy", 3),
        (T0 + 99_000, "offline", 3),
    ]
    assert [(j.job, j.first_ts, j.last_ts, sorted(j.roles), j.held) for j in window.jobs] == [
        ("order:o2", T0 + 5_000, T0 + 5_000, ["offered"], False),
        (JOB, T0 + 9_000, T0 + 50_000, ["assigned", "named", "offered"], True),
        ("order:o3", T0 + 60_000, T0 + 60_000, ["excluded"], False),
    ]


def test_jobs_touched_of_nothing_is_nothing():
    assert jobs_touched([]) == ()


def test_last_fix_is_at_or_before_the_time():
    t = track([T0, T0 + 1000, T0 + 5000])
    assert last_fix(t, T0 - 1) is None
    assert last_fix(t, T0) == Position(C1, T0, 312_000_000, 1_214_000_000)
    fix = last_fix(t, T0 + 4999)
    assert fix is not None
    assert (fix.ts, fix.lat_e7, fix.lat, fix.lon) == (T0 + 1000, 312_000_000, 31.2, 121.4)
    assert last_fix(t, T0 + 10**6) == Position(C1, T0 + 5000, 312_000_000, 1_214_000_000)


def test_open_jobs_are_created_and_not_finished():
    life = job_lifecycle(
        JOB,
        [
            created(),
            event("job_accepted", T0 + 60_000, entity=C1),
            event("job_delivered", T0 + 600_000, entity=C1),
        ],
    )
    assert open_jobs([life], T0 - 1) == []
    assert [(j.job, j.state, j.entity) for j in open_jobs([life], T0 + 1)] == [(JOB, "waiting", None)]
    assert [(j.state, j.entity) for j in open_jobs([life], T0 + 60_000)] == [("accepted", C1)]
    assert open_jobs([life], T0 + 60_000, held_by="courier:c9") == []
    assert open_jobs([life], T0 + 600_000) == []


@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 10**7)), max_size=300), st.integers(1, 10**6))
def test_thinning_keeps_exactly_the_first_fix_per_entity_and_interval(rows, interval):
    rows = sorted(set(rows))
    entity = np.array([r[0] for r in rows], dtype=np.int32)
    ts = np.array([r[1] for r in rows], dtype=np.int64)
    keep = first_per_interval(entity, ts, interval)
    seen: set[tuple[int, int]] = set()
    expected = []
    for e, t in rows:
        expected.append((e, t // interval) not in seen)
        seen.add((e, t // interval))
    assert keep.tolist() == expected
