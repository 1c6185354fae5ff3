"""A job's lifecycle: waybills across declines, times and durations against the promise, states."""

import random

from hypothesis import given
from hypothesis import strategies as st

from playback.reconstruction.lifecycle import LatLon, job_lifecycle
from playback.reconstruction.rounds import round_view
from tests.playback.reconstruction.events import JOB, T0, created, dispatch_round, event

C1, C2 = "courier:c1", "courier:c2"


def declined_then_delivered():
    """Declined by c1 under waybill w1, re-dispatched and delivered by c2 under w2, 2 min late."""
    return [
        created(),
        event("job_assigned", T0 + 30_000, entity=C1, round="round:1", waybill="waybill:1-1"),
        event(
            "job_rejected", T0 + 45_000, entity=C1, round="round:1", waybill="waybill:1-1", reason="declined"
        ),
        event("job_assigned", T0 + 60_000, entity=C2, round="round:2", waybill="waybill:1-2"),
        event("job_accepted", T0 + 70_000, entity=C2, round="round:2", waybill="waybill:1-2"),
        event("job_arrived_pickup", T0 + 400_000, entity=C2),
        event("job_picked_up", T0 + 700_000, entity=C2),
        event("job_delivered", T0 + 1_920_000, entity=C2),
    ]


def test_a_declined_order_returns_under_a_new_waybill():
    life = job_lifecycle(JOB, declined_then_delivered())
    assert [(w.waybill, w.entity, w.round, w.outcome, w.reason) for w in life.waybills] == [
        ("waybill:1-1", C1, "round:1", "rejected", "declined"),
        ("waybill:1-2", C2, "round:2", "delivered", None),
    ]
    first, second = life.waybills
    assert (first.assigned_ts, first.outcome_ts, first.accepted_ts) == (T0 + 30_000, T0 + 45_000, None)
    assert (second.assigned_ts, second.accepted_ts, second.outcome_ts) == (
        T0 + 60_000,
        T0 + 70_000,
        T0 + 1_920_000,
    )


def test_times_and_durations_are_those_of_the_attempt_that_carried_the_job():
    life = job_lifecycle(JOB, declined_then_delivered())
    assert life.entity == C2
    assert (life.assigned_ts, life.accepted_ts) == (T0 + 60_000, T0 + 70_000)
    assert (life.arrived_pickup_ts, life.picked_up_ts, life.delivered_ts) == (
        T0 + 400_000,
        T0 + 700_000,
        T0 + 1_920_000,
    )
    d = life.durations
    assert (d.wait_s, d.to_pickup_s, d.at_pickup_s, d.to_dropoff_s, d.total_s) == (
        70.0,
        330.0,
        300.0,
        1220.0,
        1920.0,
    )
    assert life.late_s == 120.0
    assert (life.kind, life.city, life.zone) == ("delivery", "riverside", "z1")
    assert (life.pickup, life.dropoff) == (LatLon(31.2, 121.4), LatLon(31.21, 121.41))
    assert (life.ready_ts, life.promised_ts) == (T0 + 300_000, T0 + 1_800_000)


def test_early_delivery_is_negative_lateness():
    events = [*declined_then_delivered()[:-1], event("job_delivered", T0 + 1_500_000, entity=C2)]
    assert job_lifecycle(JOB, events).late_s == -300.0


def test_missing_arrival_measures_the_trip_to_pickup_by_the_pickup():
    events = [e for e in declined_then_delivered() if e.type != "job_arrived_pickup"]
    d = job_lifecycle(JOB, events).durations
    assert (d.to_pickup_s, d.at_pickup_s) == (630.0, None)


def test_events_without_waybills_join_the_open_attempt_of_their_entity():
    events = [
        created(),
        event("job_assigned", T0 + 30_000, entity=C1),
        event("job_rejected", T0 + 40_000, entity=C1, reason="too far"),
        event("job_assigned", T0 + 60_000, entity=C2),
        event("job_accepted", T0 + 65_000, entity=C2),
        event("job_delivered", T0 + 900_000, entity=C2),
    ]
    life = job_lifecycle(JOB, events)
    assert [(w.waybill, w.entity, w.outcome, w.reason) for w in life.waybills] == [
        (None, C1, "rejected", "too far"),
        (None, C2, "delivered", None),
    ]


def test_a_round_assignment_the_log_does_not_show_opens_an_attempt():
    rnd = dispatch_round(T0 + 30_000, "round:1", candidates=[{"entity": C1, "score": 1.0}], assigned=C1)
    events = [created(), rnd, event("job_accepted", T0 + 50_000, entity=C1)]
    life = job_lifecycle(JOB, events, [round_view(rnd, JOB)])
    (attempt,) = life.waybills
    assert (attempt.entity, attempt.round, attempt.assigned_ts, attempt.outcome) == (
        C1,
        "round:1",
        T0 + 30_000,
        "accepted",
    )


def test_a_logged_assignment_is_not_counted_twice_with_its_round():
    rnd = dispatch_round(T0 + 30_000, "round:1", candidates=[{"entity": C1}], assigned=C1)
    events = [created(), event("job_assigned", T0 + 30_000, entity=C1, round="round:1", waybill="w1")]
    assert len(job_lifecycle(JOB, events, [round_view(rnd, JOB)]).waybills) == 1


def test_cancellation_closes_the_open_attempt():
    events = [
        created(),
        event("job_assigned", T0 + 30_000, entity=C1, waybill="w1"),
        event("job_cancelled", T0 + 100_000, reason="customer"),
    ]
    life = job_lifecycle(JOB, events)
    assert [(w.outcome, w.reason, w.outcome_ts) for w in life.waybills] == [
        ("cancelled", "customer", T0 + 100_000)
    ]
    assert life.cancelled_ts == T0 + 100_000
    assert life.durations.total_s == 100.0
    assert life.late_s is None


def test_steps_logged_at_the_same_millisecond_keep_their_lifecycle_order():
    ride = [
        event("job_delivered", T0 + 600_000, entity="bike:b1"),
        event("job_picked_up", T0 + 5_000, entity="bike:b1"),
        event("job_accepted", T0, entity="bike:b1"),
        event("job_assigned", T0, entity="bike:b1"),
        created(),
    ]
    life = job_lifecycle(JOB, ride)
    assert [w.outcome for w in life.waybills] == ["delivered"]
    assert life.durations.wait_s == 0.0
    assert [t.state for t in life.transitions] == [
        "waiting",
        "assigned",
        "accepted",
        "picked_up",
        "delivered",
    ]


def test_state_at_follows_the_transitions():
    life = job_lifecycle(JOB, declined_then_delivered())

    def at(ts):
        found = life.state_at(ts)
        return None if found is None else (found.state, found.entity)

    assert at(T0 - 1) is None
    assert at(T0) == ("waiting", None)
    assert at(T0 + 35_000) == ("assigned", C1)
    assert at(T0 + 50_000) == ("waiting", None)
    assert at(T0 + 500_000) == ("at_pickup", C2)
    assert at(T0 + 10**9) == ("delivered", C2)


def test_a_job_without_job_created_starts_at_its_first_event():
    life = job_lifecycle(JOB, declined_then_delivered()[1:])
    assert life.created_ts == T0 + 30_000
    assert (life.kind, life.pickup, life.promised_ts, life.late_s) == (None, None, None, None)


@given(st.randoms(use_true_random=False))
def test_the_order_events_arrive_in_does_not_matter(rng: random.Random):
    events = declined_then_delivered()
    shuffled = list(events)
    rng.shuffle(shuffled)
    assert job_lifecycle(JOB, shuffled) == job_lifecycle(JOB, events)
