"""The socket's memory, on a fake clock: the token bucket, credits and acks, scope generations, playhead."""

import pytest

from playback.limits import PlaybackLimits
from playback.protocol import ProtocolError, request_parse
from playback.scopes import CityInfo, JobScope, ScopeEntity, ScopeOpened
from playback.session import Session

T0 = 1_700_000_000_000


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def opened(start=T0, end=T0 + 600_000, entities=2):
    return ScopeOpened(
        scope=JobScope("demo", "order:o1"),
        start=start,
        end=end,
        city=CityInfo(None, "UTC", False),
        bounds=None,
        entities=tuple(ScopeEntity(i, f"courier:c{i}", "assigned", 10, T0, T0) for i in range(entities)),
        job=None,
        jobs=(),
        events=(),
        rounds=(),
        states=(),
        anomalies=(),
    )


def session(**limits):
    clock = Clock()
    return Session(limits=PlaybackLimits(**limits), clock=clock), clock


def test_the_bucket_allows_a_seconds_worth_then_one_warning_then_silence_until_it_refills():
    s, clock = session(messages_per_second=4)
    assert [s.admit() for _ in range(7)] == ["ok"] * 4 + ["limited", "drop", "drop"]
    clock.now += 0.25
    assert [s.admit(), s.admit()] == ["ok", "limited"]
    clock.now += 10
    assert [s.admit() for _ in range(5)] == ["ok"] * 4 + ["limited"]


def test_credits_return_only_on_ack_of_a_sent_chunk():
    s, _ = session(credits=2)
    with pytest.raises(ProtocolError) as caught:
        s.fetch_admit(1, None)
    assert caught.value.code == "no_scope"
    generation = s.scope_replace(opened())
    s.fetch_admit(1, None)
    s.fetch_admit(2, (1,))
    with pytest.raises(ProtocolError) as caught:
        s.fetch_admit(3, None)
    assert (caught.value.code, caught.value.limit) == ("too_many_in_flight", 2)
    with pytest.raises(ProtocolError, match="not sent yet"):
        s.ack(1)
    assert s.fetch_sent(1, generation)
    s.ack(1)
    s.ack(1)  # twice, or an unknown id: ignored
    s.fetch_admit(3, None)
    assert s.fetch_failed(2, generation)
    with pytest.raises(ProtocolError, match="already in flight"):
        s.fetch_admit(3, None)
    with pytest.raises(ProtocolError, match="indexes below 2"):
        s.fetch_admit(4, (2,))


def test_a_new_scope_drops_the_old_ones_fetches():
    s, _ = session(credits=1)
    old = s.scope_replace(opened())
    s.fetch_admit(1, None)
    new = s.scope_replace(opened())
    assert new == old + 1
    assert not s.fetch_sent(1, old)
    assert not s.fetch_failed(1, old)
    s.fetch_admit(1, None)  # the credit came back with the new scope


def test_the_playhead_runs_at_its_speed_inside_the_range():
    s, clock = session()
    s.scope_replace(opened())
    assert s.playhead_now() == T0
    s.control(1, "seek", ts=T0 + 10_000)
    s.control(2, "play", speed=10)
    clock.now += 2
    assert s.playhead_now() == T0 + 30_000
    s.control(3, "speed", speed=60)
    clock.now += 1
    assert s.playhead_now() == T0 + 90_000
    s.control(4, "pause")
    clock.now += 100
    assert s.playhead_now() == T0 + 90_000
    s.control(5, "play")
    assert s.playhead.speed == 60
    clock.now += 1000
    assert s.playhead_now() == T0 + 600_000  # held at the end of the range
    assert s.control(6, "seek", ts=T0 - 5).ts == T0


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ('{"op": "open", "id": 0, "scope": {}}', "bad_request"),
        ('{"op": "open", "id": 4294967296}', "bad_request"),
        (
            '{"op": "open", "id": 1, "scope": {"kind": "job", "dataset": "../x", "job": "order:1"}}',
            "bad_request",
        ),
        ('{"op": "open", "id": 1, "scope": {"kind": "area"}}', "bad_request"),
        ('{"op": "fetch", "id": 1, "start": 0, "end": 1, "resolution_ms": -1}', "bad_request"),
        ('{"op": "fetch", "id": 1, "start": true, "end": 1}', "bad_request"),
        ('{"op": "join", "id": 1}', "bad_request"),
        ('{"op": 3, "id": 1}', "bad_request"),
        ('"open"', "bad_json"),
    ],
)
def test_malformed_requests_name_their_problem(text, code):
    with pytest.raises(ProtocolError) as caught:
        request_parse(text, PlaybackLimits())
    assert caught.value.code == code
