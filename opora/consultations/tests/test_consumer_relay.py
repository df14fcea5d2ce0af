"""The room's relay on both channel layers: the embedded in-memory one and channels-redis (when
OPORA_TEST_REDIS_URL names a Redis server, as `make test` does).

Signalling must not wait for Channels' single database thread, and must follow the peer when it
reconnects on a new channel.
"""

import asyncio
import os
import secrets
import threading

import pytest
from asgiref.sync import sync_to_async

from opora.consultations.tests.factories import make_live_consultation
from opora.consultations.tests.test_consumers import _client, _consultant, run

pytestmark = pytest.mark.django_db(transaction=True)
REDIS_URL = os.environ.get("OPORA_TEST_REDIS_URL", "")


@pytest.fixture(autouse=True)
def _close_connections_after_use():
    from django.db import connections

    db_settings = connections.settings["default"]
    saved = db_settings.get("CONN_MAX_AGE", 0)
    db_settings["CONN_MAX_AGE"] = 0
    yield
    db_settings["CONN_MAX_AGE"] = saved


@pytest.fixture(params=["memory", "redis"])
def layer(request, settings):
    """Every test here runs once per layer; Channels rebuilds its layer when the setting changes."""
    if request.param == "memory":
        settings.CHANNEL_LAYERS = {
            "default": {"BACKEND": "opora.consultations.layers.InMemoryChannelLayer"}
        }
        yield request.param
        return
    if not REDIS_URL:
        pytest.skip("no Redis server (OPORA_TEST_REDIS_URL)")
    prefix = f"opora-test-{secrets.token_hex(4)}"
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "opora.consultations.layers.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": prefix},
        }
    }
    yield request.param
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"{prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def room(service, consultant):
    return make_live_consultation(service, consultant)


async def _admitted(room, consultant, sid="tab1"):
    doc, _ = await _consultant(room, consultant)
    cli, _ = await _client(room, sid=sid)
    assert await doc.receive_json_from() == {"type": "peer-joined", "role": "client"}
    await doc.send_json_to({"type": "admit"})
    assert await doc.receive_json_from() == {"type": "admitted"}
    assert await cli.receive_json_from() == {"type": "admitted"}
    return doc, cli


@run
async def test_signalling_does_not_wait_for_the_database_thread(layer, room, consultant):
    doc, cli = await _admitted(room, consultant)

    # Occupy Channels' one database thread (as a slow query of another socket would).
    started, release = threading.Event(), threading.Event()

    def busy() -> None:
        started.set()
        release.wait(10)

    blocker = asyncio.ensure_future(sync_to_async(busy)())
    while not started.is_set():
        await asyncio.sleep(0.01)
    try:
        await cli.send_json_to({"type": "ice", "candidate": {"candidate": "c1"}})
        assert await doc.receive_json_from(timeout=2) == {
            "type": "ice",
            "candidate": {"candidate": "c1"},
        }
        await doc.send_json_to({"type": "offer", "sdp": "v=0 offer"})
        assert await cli.receive_json_from(timeout=2) == {"type": "offer", "sdp": "v=0 offer"}
    finally:
        release.set()
        await blocker
    await cli.disconnect()
    await doc.disconnect()


@run
async def test_signalling_follows_the_peer_to_its_new_connection(layer, room, consultant):
    doc, cli = await _admitted(room, consultant)

    # The same tab comes back on a new connection while the old one still looks open.
    cli2, (state, _) = await _client(room, sid="tab1")
    assert state["status"] == "in_progress" and state["peer_present"] is True
    assert (await cli.receive_json_from())["type"] == "replaced"
    assert (await cli.receive_output())["type"] == "websocket.close"
    assert await doc.receive_json_from() == {"type": "peer-joined", "role": "client"}
    await doc.send_json_to({"type": "ice", "candidate": {"candidate": "to-new"}})
    assert await cli2.receive_json_from() == {"type": "ice", "candidate": {"candidate": "to-new"}}
    assert await cli.receive_nothing()
    await cli2.send_json_to({"type": "answer", "sdp": "v=0 answer"})
    assert await doc.receive_json_from() == {"type": "answer", "sdp": "v=0 answer"}

    # The consultant reloads: the client's signals go to the consultant's new socket.
    await doc.disconnect()
    assert await cli2.receive_json_from() == {"type": "peer-left", "role": "consultant"}
    doc2, (dstate, _) = await _consultant(room, consultant)
    assert dstate["peer_present"] is True
    assert await cli2.receive_json_from() == {"type": "peer-joined", "role": "consultant"}
    await cli2.send_json_to({"type": "ice", "candidate": {"candidate": "to-doc2"}})
    assert await doc2.receive_json_from() == {
        "type": "ice",
        "candidate": {"candidate": "to-doc2"},
    }
    await cli2.disconnect()
    await doc2.disconnect()


@run
async def test_a_client_alone_in_the_room_relays_nothing(layer, room, consultant):
    doc, cli = await _admitted(room, consultant)
    await doc.disconnect()
    assert await cli.receive_json_from() == {"type": "peer-left", "role": "consultant"}
    await cli.send_json_to({"type": "ice", "candidate": {"candidate": "lost"}})
    assert await cli.receive_nothing()  # no error, no echo: the consultant will offer anew
    # The chat still works alone and is there for the consultant when they come back.
    await cli.send_json_to({"type": "chat", "text": "Я здесь", "client_msg_id": "m1"})
    assert (await cli.receive_json_from())["seq"] == 1
    doc2, (_, history) = await _consultant(room, consultant)
    assert [m["text"] for m in history["messages"]] == ["Я здесь"]
    await cli.disconnect()
    await doc2.disconnect()
