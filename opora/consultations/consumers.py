"""The room's WebSocket: signalling between the two peers, admission, mode, chat, presence, end.

Signalling (`offer`, `answer`, `ice`) goes to the other peer only, straight to its channel, and never
touches the database. Chat lines are stored (with their `seq`) before they are relayed, and the whole
chat is sent on every (re)connect, so none is lost. The database work is in `presence`.
"""

from typing import Any

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.exceptions import ChannelFull
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.utils.translation import gettext as _

from opora.accounts import two_factor
from opora.accounts.models import User
from opora.accounts.policy import Action, can
from opora.consultations import presence, services
from opora.consultations.models import Consultation
from opora.core.errors import DomainError

SIGNALS = {"offer", "answer", "ice"}
CLOSE_REFUSED = 4403
CLOSE_BUSY = 4409
CLOSE_REPLACED = 4000


def _may_conduct(user: Any, session: Any) -> bool:
    """The consultant's seat: a role the access policy lets hold consultations, past the second
    factor. Which consultation is theirs (the booked consultant) is checked by the room."""
    return can(user, Action.CONSULTATION_CONDUCT) and two_factor.may_act(user, session)


def _consultant_of(user: object) -> User:
    """The signed-in consultant of a socket whose role is "consultant" (checked at connect)."""
    if not isinstance(user, User):
        raise DomainError(_("Only the booked consultant can open this room."), code="forbidden")
    return user


class RoomConsumer(AsyncJsonWebsocketConsumer):
    consultation_id: int = 0
    role: str = ""
    group: str = ""
    status: str = ""
    # The other side's channel, as last announced (connect, then its peer-joined / peer-left):
    # signalling is sent there directly rather than to the whole group.
    peer: str = ""
    # Set once this side starts closing: group events may still arrive before the disconnect, and
    # nothing may be sent on a socket after its close.
    closing: bool = False

    async def dispatch(self, message: dict) -> None:
        # Channels' own dispatch first hops to its one database thread to close stale connections,
        # for every message: each relayed signal then queued behind all the sockets' database work
        # (1,000 sockets: relay p99 44 s, docs/PERFORMANCE.md). Every database call here goes
        # through `database_sync_to_async`, which closes them on that thread before and after, so
        # the hop is skipped.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def close(self, code: int | bool | None = None, reason: str | None = None) -> None:
        self.closing = True
        await super().close(code=code, reason=reason)

    async def send_json(self, content: Any, close: bool = False) -> None:
        if self.closing:
            return  # the socket is closing (either side): what it would say is moot
        try:
            await super().send_json(content, close=close)
        except RuntimeError as exc:
            # The browser closed first and its disconnect is still queued behind this event;
            # uvicorn then refuses the send with a RuntimeError (the ASGI spec says OSError). Left
            # unhandled it ended the consumer without `disconnect`, so the room kept a dead
            # channel and refused the client's next tab as "busy".
            if "websocket.close" not in str(exc):
                raise
            self.closing = True
        except OSError:
            self.closing = True

    async def connect(self) -> None:
        kwargs = self.scope["url_route"]["kwargs"]
        self.role = "client" if "token" in kwargs else "consultant"
        sid = ""
        for part in self.scope.get("query_string", b"").decode().split("&"):
            if part.startswith("sid="):
                sid = part[4:64]
        user = self.scope.get("user")
        if self.role == "consultant" and not await database_sync_to_async(_may_conduct)(
            user, self.scope.get("session")
        ):
            user = None  # not a consultant, or signed in with the password only: not yet
        entry = await database_sync_to_async(presence.room_enter)(
            role=self.role,
            channel=self.channel_name,
            token=kwargs.get("token", ""),
            consultation_id=int(kwargs.get("consultation_id", 0)),
            user=user,
            sid=sid,
        )
        await self.accept()
        if entry.refused:
            await self.send_json(
                {"type": "refused", "code": entry.refused, "message": entry.message}
            )
            await self.close(code=CLOSE_BUSY if entry.refused == "busy" else CLOSE_REFUSED)
            return
        self.consultation_id = entry.consultation_id
        self.group = f"room.{entry.consultation_id}"
        if entry.replaced:
            await self.channel_layer.send(entry.replaced, {"type": "room.replaced"})
        # Join the group before reading the state: an admit or a chat line stored after the read
        # then still arrives as an event.
        await self.channel_layer.group_add(self.group, self.channel_name)
        state = await database_sync_to_async(presence.room_state)(
            consultation_id=entry.consultation_id, role=self.role
        )
        self.status = state.status
        self.peer = state.peer_channel
        await self.send_json(
            {
                "type": "state",
                "role": self.role,
                "status": state.status,
                "mode": state.mode,
                "peer_present": bool(state.peer_channel),
                "started_at": state.started_at,
            }
        )
        await self.send_json({"type": "history", "messages": state.history})
        await self._to_group({"type": "peer-joined", "role": self.role})

    async def disconnect(self, code: int) -> None:
        self.closing = True
        if not self.group:
            return
        await self.channel_layer.group_discard(self.group, self.channel_name)
        await database_sync_to_async(presence.room_leave)(
            consultation_id=self.consultation_id, role=self.role, channel=self.channel_name
        )
        await self._to_group({"type": "peer-left", "role": self.role})

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not self.group or not isinstance(content, dict):
            return
        kind = content.get("type")
        try:
            if kind in SIGNALS:
                await self._signal(kind, content)
            elif kind == "chat":
                await self._chat(content)
            elif kind == "mode":
                c = await database_sync_to_async(services.consultation_set_mode)(
                    consultation_id=self.consultation_id, mode=str(content.get("mode", ""))
                )
                await self._to_group({"type": "mode", "mode": c.mode, "role": self.role})
            elif kind == "admit" and self.role == "consultant":
                await database_sync_to_async(services.consultation_admit)(
                    consultation_id=self.consultation_id,
                    actor=_consultant_of(self.scope.get("user")),
                )
                await self._to_all({"type": "admitted"})
            elif kind == "end" and self.role == "consultant":
                await database_sync_to_async(services.consultation_end)(
                    consultation_id=self.consultation_id,
                    actor=_consultant_of(self.scope.get("user")),
                )
                await self._to_all({"type": "ended"})
            elif kind == "ping":
                await self.send_json({"type": "pong"})
            else:
                await self.send_json({"type": "error", "code": "unknown", "message": ""})
        except DomainError as exc:
            await self.send_json({"type": "error", "code": exc.code, "message": str(exc.message)})

    async def _signal(self, kind: str, content: dict) -> None:
        # Media flows only between admitted peers; the consultant offers, the client answers.
        if self.status != Consultation.Status.IN_PROGRESS:
            raise DomainError(_("The client has not been admitted yet."), code="not_admitted")
        if (kind == "offer" and self.role != "consultant") or (
            kind == "answer" and self.role != "client"
        ):
            raise DomainError(_("This side cannot send that."), code="not_allowed")
        payload = {"type": kind}
        for key in ("sdp", "candidate"):
            if key in content:
                payload[key] = content[key]
        if not self.peer:
            return  # nobody on the other side: nothing to relay to (as with the group)
        try:
            await self.channel_layer.send(
                self.peer, {"type": "room.event", "sender": self.channel_name, "payload": payload}
            )
        except ChannelFull:
            # The peer's queue is full (it stopped reading, or the layer is overloaded): as with
            # group_send the signal is dropped, and the sender is told so that it can restart ICE.
            raise DomainError(
                _("The other side is not receiving. Try again in a moment."), code="peer_full"
            ) from None

    async def _chat(self, content: dict) -> None:
        text = content.get("text")
        payload = await database_sync_to_async(presence.chat_post)(
            consultation_id=self.consultation_id,
            sender=self.role,
            text=text if isinstance(text, str) else "",
            client_msg_id=str(content.get("client_msg_id") or ""),
        )
        await self._to_all({"type": "chat", **payload})

    async def _to_group(self, payload: dict) -> None:
        """To everyone else in the room (the sender skips its own event)."""
        await self.channel_layer.group_send(
            self.group, {"type": "room.event", "sender": self.channel_name, "payload": payload}
        )

    async def _to_all(self, payload: dict) -> None:
        await self.channel_layer.group_send(
            self.group, {"type": "room.event", "sender": "", "payload": payload}
        )

    # --- channel layer events ---

    async def room_event(self, event: dict) -> None:
        sender = event["sender"]
        if self.closing or sender == self.channel_name:
            return
        payload = event["payload"]
        kind = payload["type"]
        if kind == "admitted":
            self.status = Consultation.Status.IN_PROGRESS
        elif kind == "ended":
            self.status = Consultation.Status.ENDED
        elif kind == "peer-joined":
            self.peer = sender
        elif kind == "peer-left" and sender == self.peer:
            self.peer = ""
        await self.send_json(payload)

    async def room_replaced(self, event: dict) -> None:
        # The same tab came back on a new connection; this old one must not speak any more.
        await self.channel_layer.group_discard(self.group, self.channel_name)
        self.group = ""
        await self.send_json({"type": "replaced"})
        await self.close(code=CLOSE_REPLACED)
