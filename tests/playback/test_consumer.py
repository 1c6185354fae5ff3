"""The playback socket through channels' WebsocketCommunicator: every op and every error code of
docs/protocol.md, the handshake refusal, credits, and a client that never reads."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import numpy as np
import orjson
import pytest
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import Group
from django.test import override_settings

from dashboard.routing import websocket_urlpatterns
from playback import consumers, selectors, wire
from playback.scopes import JobScope
from storage.kv.base import TrackStoreError
from tests.playback.scenario import DATASET, JOB, MIN, T0, scenario_write

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]
APP = URLRouter(websocket_urlpatterns)
OPEN_JOB = {"op": "open", "id": 1, "scope": {"kind": "job", "dataset": DATASET, "job": JOB}}


@pytest.fixture
def store(configured_track_store):
    scenario_write(configured_track_store)
    return configured_track_store


def make_user(django_user_model, name, *, groups=(), superuser=False):
    user = django_user_model.objects.create_user(username=name, password="pw", is_superuser=superuser)
    for group in groups:
        user.groups.add(Group.objects.get_or_create(name=group)[0])
    return user


@pytest.fixture
def ops_user(django_user_model):
    return make_user(django_user_model, "ops1", groups=("ops",))


class Client:
    """A communicator speaking the protocol: JSON out, JSON or decoded chunks back."""

    def __init__(self, user: Any) -> None:
        self.ws = WebsocketCommunicator(APP, "/ws/playback/")
        self.ws.scope["user"] = user

    async def __aenter__(self) -> Client:
        connected, _ = await self.ws.connect()
        assert connected
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.ws.disconnect()

    async def send(self, body: Any) -> None:
        await self.ws.send_to(text_data=body if isinstance(body, str) else orjson.dumps(body).decode())

    async def receive(self, timeout: float = 5.0) -> Any:
        message = await self.ws.receive_output(timeout)
        assert message["type"] == "websocket.send", message
        if message.get("bytes") is not None:
            return wire.chunk_decode(message["bytes"])
        return orjson.loads(message["text"])

    async def ask(self, body: Any) -> Any:
        await self.send(body)
        return await self.receive()

    async def receive_or_none(self, wait: float = 0.2) -> Any:
        return None if await self.ws.receive_nothing(timeout=wait) else await self.receive()

    async def nothing_more(self, wait: float = 0.3) -> bool:
        return bool(await self.ws.receive_nothing(timeout=wait))


async def refused(user: Any) -> int:
    ws = WebsocketCommunicator(APP, "/ws/playback/")
    ws.scope["user"] = user
    connected, _ = await ws.connect()
    assert connected  # accepted, then closed: a browser then sees the code
    message = await ws.receive_output(5)
    await ws.disconnect()
    assert message["type"] == "websocket.close"
    return int(message["code"])


async def test_users_outside_ops_and_analyst_are_refused_with_4403(django_user_model):
    from django.contrib.auth.models import AnonymousUser

    assert await refused(AnonymousUser()) == 4403
    nobody = await asyncio.to_thread(make_user, django_user_model, "nobody")
    assert await refused(nobody) == 4403
    inactive = await asyncio.to_thread(make_user, django_user_model, "gone", groups=("ops",))
    inactive.is_active = False
    assert await refused(inactive) == 4403


@pytest.mark.parametrize(("groups", "superuser"), [(("ops",), False), (("analyst",), False), ((), True)])
async def test_ops_analysts_and_superusers_get_a_manifest(store, django_user_model, groups, superuser):
    user = await asyncio.to_thread(make_user, django_user_model, "u", groups=groups, superuser=superuser)
    async with Client(user) as c:
        assert await c.nothing_more()  # the server says nothing until the client speaks
        manifest = await c.ask(OPEN_JOB)
    assert (manifest["op"], manifest["id"], manifest["protocol"]) == ("manifest", 1, 1)
    assert manifest["roads"] == f"/playback/roads/{DATASET}.json"
    assert manifest["city"]["timezone"] == "Asia/Shanghai"
    assert [e["id"] for e in manifest["entities"]][:3] == ["courier:c2", "courier:c1", "courier:c3"]


async def test_open_entity_scopes_and_their_errors(store, ops_user):
    async with Client(ops_user) as c:
        scope = {"kind": "entity", "dataset": DATASET, "entity": "courier:c1", "start": T0, "end": T0 + MIN}
        manifest = await c.ask({"op": "open", "id": 2, "scope": scope})
        assert (manifest["scope"], manifest["entities"][0]["role"]) == (scope, "subject")
        too_long = dict(scope, end=T0 + 86_400_001)
        error = await c.ask({"op": "open", "id": 3, "scope": too_long})
        assert (error["code"], error["id"], error["limit"]) == ("scope_too_large", 3, 86_400_000)
        box = {"kind": "box", "dataset": DATASET, "box": [31, 121, 32, 122], "start": T0, "end": T0 + MIN}
        assert (await c.ask({"op": "open", "id": 4, "scope": box}))["code"] == "unsupported_scope"
        unknown = await c.ask(
            {"op": "open", "id": 5, "scope": {"kind": "job", "dataset": DATASET, "job": "ride:o1"}}
        )
        assert (unknown["code"], unknown["message"]) == ("not_found", "job ride:o1 is unknown")
        assert unknown["suggestions"] == [
            {
                "scope": {"kind": "job", "dataset": DATASET, "job": JOB},
                "id": JOB,
                "label": f"{JOB} in {DATASET}",
                "reason": f"{JOB} in {DATASET}",
            }
        ]
        bad = await c.ask({"op": "open", "id": 6, "scope": {"kind": "job", "dataset": DATASET, "job": "o1"}})
        assert (bad["code"], "scope.job" in bad["message"]) == ("bad_request", True)


async def test_fetch_answers_one_chunk_with_exactly_the_stored_fixes(store, ops_user):
    async with Client(ops_user) as c:
        await c.ask(OPEN_JOB)
        start, end = T0 + 19 * MIN, T0 + 21 * MIN
        chunk = await c.ask({"op": "fetch", "id": 7, "start": start, "end": end, "resolution_ms": 0})
        assert (chunk.request_id, chunk.base_ts, chunk.resolution_ms) == (7, start, 0)
        assert await c.nothing_more()
    opened = selectors.scope_open(scope=JobScope(dataset=DATASET, job=JOB), entity_limit=60)
    want = selectors.scope_points(opened=opened, start=start, end=end)
    for name in ("entity_index", "ts", "lat_e7", "lon_e7", "flags"):
        assert np.array_equal(getattr(chunk, name), getattr(want, name)), name
    assert len(chunk) == 5 * 121


async def test_fetch_limits_and_restrictions(store, ops_user):
    async with Client(ops_user) as c:
        await c.ask(OPEN_JOB)
        long = await c.ask({"op": "fetch", "id": 8, "start": T0, "end": T0 + 3_600_001})
        assert (long["code"], long["limit"]) == ("window_too_long", 3_600_000)
        overview = await c.ask(
            {"op": "fetch", "id": 9, "start": T0, "end": T0 + 7_200_000, "resolution_ms": 60_000}
        )
        assert overview.resolution_ms == 60_000
        await c.send({"op": "ack", "id": 9})
        only = await c.ask(
            {"op": "fetch", "id": 10, "start": T0 + 9 * MIN, "end": T0 + 10 * MIN, "entities": [1]}
        )
        assert set(only.entity_index.tolist()) == {1}
        await c.send({"op": "ack", "id": 10})
        bad = await c.ask({"op": "fetch", "id": 11, "start": T0, "end": T0 + 1, "entities": [99]})
        assert bad["code"] == "bad_request"
        backwards = await c.ask({"op": "fetch", "id": 12, "start": T0 + 1, "end": T0})
        assert backwards["code"] == "bad_request"
        huge = {"op": "fetch", "id": 13, "start": 0, "end": T0, "resolution_ms": 60_000}
        assert ((await c.ask(huge))["code"], (await c.receive_or_none()) is None) == ("window_too_long", True)


async def test_a_window_with_more_fixes_than_a_chunk_may_carry_is_refused(store, ops_user):
    with override_settings(PLAYBACK_LIMITS={"chunk_points": 1000}):
        async with Client(ops_user) as c:
            manifest = await c.ask(OPEN_JOB)
            assert manifest["limits"]["chunk_points"] == 1000
            error = await c.ask({"op": "fetch", "id": 3, "start": T0, "end": T0 + 30 * MIN})
            assert (error["code"], error["id"], error["limit"]) == ("window_too_long", 3, 1000)
            # The refused fetch gave its credit back.
            for i in range(4):
                assert (
                    await c.ask({"op": "fetch", "id": 10 + i, "start": T0, "end": T0 + 9 * MIN})
                ).request_id == 10 + i


async def test_a_client_that_never_reads_holds_at_most_credits_chunks(store, ops_user):
    async with Client(ops_user) as c:
        await c.ask(OPEN_JOB)
        for i in range(10):
            await c.send({"op": "fetch", "id": 100 + i, "start": T0 + i * MIN, "end": T0 + (i + 1) * MIN})
        await asyncio.sleep(1.0)  # every answer the server would ever send is out by now
        frames = []
        while not await c.ws.receive_nothing(timeout=0.2):
            frames.append(await c.receive())
        chunks = [f for f in frames if isinstance(f, wire.DecodedChunk)]
        errors = [f for f in frames if isinstance(f, dict)]
        assert sorted(ch.request_id for ch in chunks) == [100, 101, 102, 103]
        assert {(e["code"], e["limit"]) for e in errors} == {("too_many_in_flight", 4)}
        assert sorted(e["id"] for e in errors) == list(range(104, 110))
        # An ack returns one credit, and only one.
        await c.send({"op": "ack", "id": 100})
        assert (await c.ask({"op": "fetch", "id": 200, "start": T0, "end": T0 + MIN})).request_id == 200
        assert (await c.ask({"op": "fetch", "id": 201, "start": T0, "end": T0 + MIN}))[
            "code"
        ] == "too_many_in_flight"
        # A fetch id already in flight is refused; an ack of an unknown id is ignored.
        await c.send({"op": "ack", "id": 999})
        assert (await c.ask({"op": "fetch", "id": 101, "start": T0, "end": T0 + MIN}))[
            "code"
        ] == "bad_request"


async def test_a_new_open_drops_the_old_scopes_answers(store, ops_user, monkeypatch):
    release = threading.Event()
    real = consumers._chunk_read

    def slow(**kwargs):
        release.wait(5)
        return real(**kwargs)

    monkeypatch.setattr(consumers, "_chunk_read", slow)
    async with Client(ops_user) as c:
        await c.ask(OPEN_JOB)
        await c.send({"op": "fetch", "id": 5, "start": T0, "end": T0 + MIN})
        entity = {"kind": "entity", "dataset": DATASET, "entity": "courier:c3", "start": T0, "end": T0 + MIN}
        manifest = await c.ask({"op": "open", "id": 6, "scope": entity})
        assert manifest["op"] == "manifest"
        release.set()
        assert await c.nothing_more(0.5)  # fetch 5 belonged to the old scope: never answered
        monkeypatch.setattr(consumers, "_chunk_read", real)
        chunk = await c.ask({"op": "fetch", "id": 5, "start": T0, "end": T0 + MIN})
        assert (chunk.request_id, set(chunk.entity_index.tolist())) == (5, {0})


async def test_controls_answer_state_and_a_seek_a_snapshot_first(store, ops_user):
    async with Client(ops_user) as c:
        await c.ask(OPEN_JOB)
        snapshot = await c.ask({"op": "control", "id": 9, "action": "seek", "ts": T0 + 16 * MIN})
        assert (snapshot["op"], snapshot["id"], snapshot["ts"]) == ("snapshot", 9, T0 + 16 * MIN)
        assert snapshot["open_jobs"] == [{"job": JOB, "state": "at_pickup", "entity": 1}]
        assert len(snapshot["positions"]) == 5
        state = await c.receive()
        assert state == {"op": "state", "id": 9, "ts": T0 + 16 * MIN, "playing": False, "speed": 1.0}
        playing = await c.ask({"op": "control", "id": 10, "action": "play", "speed": 10})
        assert (playing["playing"], playing["speed"]) == (True, 10.0)
        await asyncio.sleep(0.2)
        faster = await c.ask({"op": "control", "id": 11, "action": "speed", "speed": 60})
        assert faster["speed"] == 60.0
        assert faster["ts"] >= T0 + 16 * MIN + 1500  # 0.2 s at 10x moved the playhead 2 s
        paused = await c.ask({"op": "control", "id": 12, "action": "pause"})
        assert paused["playing"] is False
        again = await c.ask({"op": "control", "id": 13, "action": "pause"})
        assert again["ts"] == paused["ts"]
        early = await c.ask({"op": "control", "id": 14, "action": "seek", "ts": 0})
        assert early["ts"] == T0 + 8 * MIN  # clamped into the scope's range
        assert (await c.receive())["ts"] == T0 + 8 * MIN
        for bad in (
            {"action": "speed", "speed": 0.1},
            {"action": "speed"},
            {"action": "rewind"},
            {"action": "seek", "ts": "soon"},
        ):
            assert (await c.ask({"op": "control", "id": 15, **bad}))["code"] == "bad_request"


async def test_requests_before_open_join_and_malformed_frames(store, ops_user):
    async with Client(ops_user) as c:
        error = await c.ask({"op": "fetch", "id": 1, "start": T0, "end": T0 + 1})
        assert (error["code"], error["id"]) == ("no_scope", 1)
        assert (await c.ask({"op": "control", "id": 2, "action": "pause"}))["code"] == "no_scope"
        assert (await c.ask({"op": "join", "id": 3, "room": "r1"}))["code"] == "unsupported"
        assert (await c.ask("{not json"))["code"] == "bad_json"
        assert (await c.ask("[1, 2]"))["code"] == "bad_json"
        assert (await c.ask({"op": "teleport", "id": 4}))["code"] == "unknown_op"
        missing = await c.ask({"op": "fetch", "start": T0, "end": T0 + 1})
        assert (missing["code"], missing["id"]) == ("bad_request", None)
        assert (await c.ask({"id": 5}))["code"] == "bad_request"
        big = await c.ask({"op": "open", "id": 6, "pad": "x" * 9000})
        assert (big["code"], big["limit"]) == ("message_too_large", 8192)
        await c.ws.send_to(bytes_data=b"\x00\x01")
        assert (await c.receive())["code"] == "binary_not_accepted"
        # The socket is still usable after every error.
        assert (await c.ask(OPEN_JOB))["op"] == "manifest"


async def test_messages_beyond_the_rate_get_one_error_then_silence_then_service(store, ops_user):
    with override_settings(PLAYBACK_LIMITS={"messages_per_second": 5}):
        async with Client(ops_user) as c:
            for i in range(9):
                await c.send({"op": "control", "id": 1 + i, "action": "pause"})
            answers = []
            while not await c.ws.receive_nothing(timeout=0.2):
                answers.append(await c.receive())
            codes = [a["code"] for a in answers]
            assert codes.count("rate_limited") == 1
            assert codes.count("no_scope") in (5, 6)  # a token may come back while sending
            assert len(codes) <= 7
            limited = next(a for a in answers if a["code"] == "rate_limited")
            assert (limited["id"], limited["limit"]) == (None, 5)
            await asyncio.sleep(0.5)
            assert (await c.ask({"op": "control", "id": 50, "action": "pause"}))["code"] == "no_scope"


async def test_a_failing_fetch_is_answered_and_gives_its_credit_back(store, ops_user, monkeypatch):
    def bug(**kwargs):
        raise RuntimeError("a bug")

    with override_settings(PLAYBACK_LIMITS={"credits": 1}):
        async with Client(ops_user) as c:
            await c.ask(OPEN_JOB)
            monkeypatch.setattr(consumers, "_chunk_read", bug)
            error = await c.ask({"op": "fetch", "id": 2, "start": T0, "end": T0 + MIN})
            assert (error["code"], error["id"]) == ("store_unavailable", 2)
            monkeypatch.undo()
            assert (await c.ask({"op": "fetch", "id": 3, "start": T0, "end": T0 + MIN})).request_id == 3


async def test_an_unreadable_store_is_store_unavailable(store, ops_user, monkeypatch):
    def broken(**kwargs):
        raise TrackStoreError("the LMDB track store at /x is full")

    async with Client(ops_user) as c:
        await c.ask(OPEN_JOB)
        monkeypatch.setattr(selectors, "scope_points", broken)
        monkeypatch.setattr(selectors, "scope_snapshot", broken)
        error = await c.ask({"op": "fetch", "id": 2, "start": T0, "end": T0 + MIN})
        assert (error["code"], error["id"], error["message"]) == (
            "store_unavailable",
            2,
            "the LMDB track store at /x is full",
        )
        assert (await c.ask({"op": "control", "id": 3, "action": "seek", "ts": T0}))[
            "code"
        ] == "store_unavailable"
        monkeypatch.setattr(selectors, "scope_open", broken)
        assert (await c.ask(OPEN_JOB))["code"] == "store_unavailable"


async def test_the_real_asgi_stack_uses_the_page_session(store, ops_user, client):
    from dashboard.asgi import application

    await asyncio.to_thread(client.force_login, ops_user)
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    headers = [(b"cookie", cookie), (b"origin", b"http://localhost"), (b"host", b"localhost")]
    ws = WebsocketCommunicator(application, "/ws/playback/", headers=headers)
    connected, _ = await ws.connect()
    assert connected
    await ws.send_to(text_data=orjson.dumps(OPEN_JOB).decode())
    assert orjson.loads((await ws.receive_output(5))["text"])["op"] == "manifest"
    await ws.disconnect()
    stranger = WebsocketCommunicator(application, "/ws/playback/", headers=[(b"origin", b"http://localhost")])
    await stranger.connect()
    assert (await stranger.receive_output(5))["code"] == 4403
    await stranger.disconnect()
