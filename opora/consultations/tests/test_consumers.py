"""The room's WebSocket with the in-memory channel layer: relay to the peer only, chat, one client."""

import pytest
from asgiref.sync import sync_to_async
from channels.routing import URLRouter

from opora.accounts.models import Role
from opora.consultations.models import ChatMessage
from opora.consultations.routing import websocket_urlpatterns
from opora.consultations.tests.communicator import WebsocketCommunicator
from opora.consultations.tests.factories import make_live_consultation
from opora.core.testing import run_async as run
from opora.demo.factories import make_user

pytestmark = pytest.mark.django_db(transaction=True)
app = URLRouter(websocket_urlpatterns)


@pytest.fixture(autouse=True)
def _close_connections_after_use():
    """The consumer's database calls run in executor threads: close their connections after each
    call so that none outlives the test (PostgreSQL refuses to drop a test database in use)."""
    from django.db import connections

    db_settings = connections.settings["default"]
    saved = db_settings.get("CONN_MAX_AGE", 0)
    db_settings["CONN_MAX_AGE"] = 0
    yield
    db_settings["CONN_MAX_AGE"] = saved


async def _join(path: str, user=None, session=None) -> tuple[WebsocketCommunicator, list[dict]]:
    comm = WebsocketCommunicator(app, path)
    if user is not None:
        comm.scope["user"] = user
    if session is not None:
        comm.scope["session"] = session
    connected, _ = await comm.connect()
    assert connected
    first = await comm.receive_json_from()
    if first["type"] == "refused":
        return comm, [first]
    history = await comm.receive_json_from()
    return comm, [first, history]


async def _consultant(c, user):
    return await _join(f"/ws/room/{c.pk}/", user)


async def _client(c, sid="tab1"):
    return await _join(f"/ws/room/c/{c.client_token}/?sid={sid}")


@pytest.fixture
def room(service, consultant):
    return make_live_consultation(service, consultant)


@run
async def test_signalling_goes_to_the_peer_only(room, consultant):
    doc, (state, _) = await _consultant(room, consultant)
    assert state["type"] == "state" and state["peer_present"] is False
    cli, (cstate, _) = await _client(room)
    assert cstate["peer_present"] is True and cstate["status"] == "waiting"
    assert await doc.receive_json_from() == {"type": "peer-joined", "role": "client"}

    await doc.send_json_to({"type": "offer", "sdp": "v=0"})  # not admitted yet: refused
    assert (await doc.receive_json_from())["code"] == "not_admitted"
    assert await cli.receive_nothing()

    await doc.send_json_to({"type": "admit"})
    assert await doc.receive_json_from() == {"type": "admitted"}
    assert await cli.receive_json_from() == {"type": "admitted"}

    await doc.send_json_to({"type": "offer", "sdp": "v=0 offer"})
    assert await cli.receive_json_from() == {"type": "offer", "sdp": "v=0 offer"}
    await cli.send_json_to({"type": "answer", "sdp": "v=0 answer"})
    assert await doc.receive_json_from() == {"type": "answer", "sdp": "v=0 answer"}
    await cli.send_json_to({"type": "ice", "candidate": {"candidate": "c1"}})
    assert await doc.receive_json_from() == {"type": "ice", "candidate": {"candidate": "c1"}}
    # Nothing is echoed to the sender.
    assert await cli.receive_nothing() and await doc.receive_nothing()

    await cli.send_json_to({"type": "mode", "mode": "voice"})
    assert await doc.receive_json_from() == {"type": "mode", "mode": "voice", "role": "client"}

    await cli.disconnect()
    assert await doc.receive_json_from() == {"type": "peer-left", "role": "client"}
    await doc.disconnect()


@run
async def test_chat_is_stored_before_relay_and_replayed_on_reconnect(room, consultant):
    doc, _ = await _consultant(room, consultant)
    cli, _ = await _client(room)
    await doc.receive_json_from()  # peer-joined
    await cli.send_json_to({"type": "chat", "text": "Здравствуйте", "client_msg_id": "a1"})
    to_doc = await doc.receive_json_from()
    to_cli = await cli.receive_json_from()  # the sender's confirmation carries the seq
    assert to_doc["seq"] == to_cli["seq"] == 1 and to_doc["text"] == "Здравствуйте"
    assert await sync_to_async(ChatMessage.objects.filter(consultation=room).count)() == 1
    await doc.send_json_to({"type": "chat", "text": "Добрый день"})
    assert (await cli.receive_json_from())["seq"] == 2
    assert (await doc.receive_json_from())["seq"] == 2  # the sender's own confirmation
    await cli.disconnect()
    assert (await doc.receive_json_from())["type"] == "peer-left"

    # The client comes back (a network drop) and re-sends the unconfirmed message: stored once.
    cli2, (_, history) = await _client(room)
    assert [m["text"] for m in history["messages"]] == ["Здравствуйте", "Добрый день"]
    await cli2.send_json_to({"type": "chat", "text": "Здравствуйте", "client_msg_id": "a1"})
    assert (await cli2.receive_json_from())["seq"] == 1
    assert await sync_to_async(ChatMessage.objects.filter(consultation=room).count)() == 2
    await cli2.disconnect()
    await doc.disconnect()


@run
async def test_a_second_client_on_the_same_link_is_refused(room):
    first, _ = await _client(room, sid="tab1")
    second, (refused,) = await _client(room, sid="tab2")
    assert refused["type"] == "refused" and refused["code"] == "busy" and refused["message"]
    assert (await second.receive_output())["type"] == "websocket.close"
    # The same tab reconnecting after a drop takes its place back; the stale socket is closed.
    again, (state, _) = await _client(room, sid="tab1")
    assert state["type"] == "state"
    assert (await first.receive_json_from())["type"] == "replaced"
    await again.disconnect()


@run
async def test_a_foreign_consultant_is_refused(room, service):
    other = await sync_to_async(make_user)(Role.CONSULTANT, service=service)
    comm, (refused,) = await _consultant(room, other)
    assert refused["type"] == "refused" and refused["code"] == "forbidden"
    await comm.disconnect()


@run
async def test_with_staff_2fa_the_password_alone_does_not_open_the_room(room, consultant, settings):
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    settings.OPORA_STAFF_2FA = True
    comm, (refused,) = await _join(f"/ws/room/{room.pk}/", consultant, session={})
    assert refused["type"] == "refused"
    await comm.disconnect()
    device = await sync_to_async(TOTPDevice.objects.create)(
        user=consultant, name="authenticator", confirmed=True
    )
    verified = {DEVICE_ID_SESSION_KEY: device.persistent_id}
    comm, (state, _history) = await _join(f"/ws/room/{room.pk}/", consultant, session=verified)
    assert state["type"] == "state"
    await comm.disconnect()


@run
async def test_the_end_closes_the_room_for_the_client(room, consultant):
    doc, _ = await _consultant(room, consultant)
    cli, _ = await _client(room)
    await doc.receive_json_from()
    await cli.send_json_to({"type": "end"})  # only the consultant ends
    assert (await cli.receive_json_from())["type"] == "error"
    await doc.send_json_to({"type": "end"})
    assert await cli.receive_json_from() == {"type": "ended"}
    await cli.disconnect()
    await doc.disconnect()
    late, (refused,) = await _client(room, sid="tab9")
    assert refused["type"] == "refused"
