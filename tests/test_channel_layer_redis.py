"""The Redis channel layer that lets several Daphne workers share playback rooms, against a real Redis."""

import asyncio
import os
import uuid

import pytest
import pytest_asyncio
from channels_redis.core import RedisChannelLayer

from tests.services import require_service, service_address

REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"

pytestmark = pytest.mark.redis


@pytest_asyncio.fixture
async def layer():
    require_service("Redis", *service_address(REDIS_URL, default_port=6379))
    # A prefix of its own per test, so parallel or repeated runs on one Redis never see each other's messages.
    channel_layer = RedisChannelLayer(hosts=[REDIS_URL], prefix=f"dispatchscope-test-{uuid.uuid4().hex[:12]}")
    yield channel_layer
    await channel_layer.flush()
    await channel_layer.close_pools()


async def _receive(channel_layer, channel, timeout=5.0):
    return await asyncio.wait_for(channel_layer.receive(channel), timeout)


async def _nothing_arrives(channel_layer, channel, wait=0.5):
    try:
        message = await asyncio.wait_for(channel_layer.receive(channel), wait)
    except TimeoutError:
        return True
    pytest.fail(f"{channel} unexpectedly received {message!r}")


@pytest.mark.asyncio
async def test_a_message_sent_to_a_channel_is_received_there(layer):
    channel = await layer.new_channel()
    await layer.send(channel, {"type": "playback.seek", "ts": 1_748_919_600_000})
    assert await _receive(layer, channel) == {"type": "playback.seek", "ts": 1_748_919_600_000}


@pytest.mark.asyncio
async def test_group_send_reaches_every_member(layer):
    first, second = await layer.new_channel(), await layer.new_channel()
    await layer.group_add("room-order-o1001", first)
    await layer.group_add("room-order-o1001", second)
    await layer.group_send("room-order-o1001", {"type": "playback.control", "action": "play"})
    assert await _receive(layer, first) == {"type": "playback.control", "action": "play"}
    assert await _receive(layer, second) == {"type": "playback.control", "action": "play"}


@pytest.mark.asyncio
async def test_a_discarded_member_no_longer_hears_the_group(layer):
    stays, leaves = await layer.new_channel(), await layer.new_channel()
    await layer.group_add("room-courier-c7", stays)
    await layer.group_add("room-courier-c7", leaves)
    await layer.group_discard("room-courier-c7", leaves)
    await layer.group_send("room-courier-c7", {"type": "playback.control", "action": "pause"})
    assert await _receive(layer, stays) == {"type": "playback.control", "action": "pause"}
    assert await _nothing_arrives(layer, leaves)


@pytest.mark.asyncio
async def test_two_layers_on_one_redis_share_a_room(layer):
    # Two Daphne workers each hold their own layer object; Redis is what joins them.
    other_worker = RedisChannelLayer(hosts=[REDIS_URL], prefix=layer.prefix)
    try:
        listener = await other_worker.new_channel()
        await other_worker.group_add("room-shared", listener)
        await layer.group_send("room-shared", {"type": "playback.control", "action": "seek", "ts": 42})
        assert await _receive(other_worker, listener) == {
            "type": "playback.control",
            "action": "seek",
            "ts": 42,
        }
    finally:
        await other_worker.close_pools()
