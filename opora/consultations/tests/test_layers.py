"""The rooms' channel layers (opora/consultations/layers.py): Channels' semantics kept, its costs not."""

import asyncio
import os
import secrets

import pytest

from opora.consultations.layers import InMemoryChannelLayer, RedisChannelLayer
from opora.core.testing import run_async as run

REDIS_URL = os.environ.get("OPORA_TEST_REDIS_URL", "")


@run
async def test_group_send_reaches_every_member_and_skips_a_full_one():
    async def scenario():
        layer = InMemoryChannelLayer(capacity=1)
        a, b, c = [await layer.new_channel() for _ in range(3)]
        for ch in (a, b, c):
            await layer.group_add("room.1", ch)
        await layer.send(b, {"type": "filler"})  # b is full now
        await layer.group_send("room.1", {"type": "room.event", "n": 1})
        got_a = await layer.receive(a)
        got_b = await layer.receive(b)
        got_c = await layer.receive(c)
        await layer.group_send("room.1", {"type": "room.event", "n": 2})
        return got_a, got_b, got_c, await layer.receive(b)

    got_a, got_b, got_c, later_b = await scenario()
    assert got_a == got_c == {"type": "room.event", "n": 1}
    assert got_b == {"type": "filler"}  # it missed n=1, as with Channels' layer
    assert later_b == {"type": "room.event", "n": 2}


@run
async def test_each_member_gets_its_own_copy():
    async def scenario():
        layer = InMemoryChannelLayer()
        a, b = await layer.new_channel(), await layer.new_channel()
        await layer.group_add("room.1", a)
        await layer.group_add("room.1", b)
        await layer.group_send("room.1", {"type": "x", "payload": {"k": [1]}})
        first = await layer.receive(a)
        first["payload"]["k"].append(2)
        return await layer.receive(b)

    assert await scenario() == {"type": "x", "payload": {"k": [1]}}


@run
async def test_expired_messages_are_still_dropped_and_their_channel_leaves_its_groups():
    async def scenario():
        layer = InMemoryChannelLayer(expiry=0)
        dead, live = await layer.new_channel(), await layer.new_channel()
        await layer.group_add("room.1", dead)
        await layer.group_add("room.1", live)
        await layer.send(dead, {"type": "never.read"})
        await asyncio.sleep(0.01)
        await layer.group_send("room.2", {"type": "any"})  # the sweep runs on the layer's calls
        return list(layer.groups["room.1"]), live, dead in layer.channels

    members, live, dead_has_queue = await scenario()
    assert members == [live] and not dead_has_queue


@pytest.mark.skipif(not REDIS_URL, reason="no Redis server (OPORA_TEST_REDIS_URL)")
@run
async def test_redis_layer_waits_for_a_connection_instead_of_failing():
    """More operations in flight than the pool has connections: channels-redis' stock pool raises
    "Too many connections"; this one queues them."""
    from redis.exceptions import MaxConnectionsError

    prefix = f"opora-test-{secrets.token_hex(4)}"

    async def burst(layer) -> list:
        channels = [await layer.new_channel() for _ in range(60)]
        results = await asyncio.gather(
            *(layer.group_add(f"room.{i}", ch) for i, ch in enumerate(channels)),
            return_exceptions=True,
        )
        await layer.flush()
        return results

    from channels_redis.core import RedisChannelLayer as Stock

    stock = Stock(hosts=[{"address": REDIS_URL, "max_connections": 5}], prefix=prefix)
    stock_results = await burst(stock)
    assert any(isinstance(r, MaxConnectionsError) for r in stock_results)

    ours = RedisChannelLayer(hosts=[REDIS_URL], prefix=prefix, pool_size=5)
    assert all(r is None for r in await burst(ours))
