"""The room's WebSocket: signalling between the two peers, admission, mode, chat, presence, end.

Signalling (`offer`, `answer`, `ice`) goes to the other peer only. Chat lines are stored (with their
`seq`) before they are relayed, and the whole chat is sent on every (re)connect, so none is lost.
"""

from typing import Any

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.utils.translation import gettext as _

from opora.consultations import selectors, services
from opora.consultations.models import Consultation
from opora.core.errors import DomainError

SIGNALS = {"offer", "answer", "ice"}
CLOSE_REFUSED = 4403
CLOSE_BUSY = 4409
CLOSE_REPLACED = 4000


def _open_for_consultant(consultation_id: int, user: Any) -> tuple[Consultation | None, str]:
    c = selectors.consultation_by_id(consultation_id)
    if c is None or not selectors.consultant_may_enter(user, c):
        return None, _("Only the booked consultant can open this room.")
    if c.status in (
        Consultation.Status.ENDED,
        Consultation.Status.NO_SHOW,
        Consultation.Status.FAILED,
    ):
        return None, _("This consultation has ended.")
    return c, ""


def _open_for_client(token: str) -> tuple[Consultation | None, str]:
    c = selectors.consultation_by_token(token)
    problem = selectors.link_problem(c)
    if problem is not None or c is None:
        return None, _("This link does not open the room now. Reload the page to see why.")
    return c, ""


class RoomConsumer(AsyncJsonWebsocketConsumer):
    consultation_id: int = 0
    role: str = ""
    group: str = ""
    status: str = ""
    # Set once this side starts closing: group events may still arrive before the disconnect, and
    # nothing may be sent on a socket after its close.
    closing: bool = False

    async def close(self, code: int | bool | None = None, reason: str | None = None) -> None:
        self.closing = True
        await super().close(code=code, reason=reason)

    async def connect(self) -> None:
        kwargs = self.scope["url_route"]["kwargs"]
        if "token" in kwargs:
            self.role = "client"
            consultation, message = await database_sync_to_async(_open_for_client)(kwargs["token"])
        else:
            self.role = "consultant"
            consultation, message = await database_sync_to_async(_open_for_consultant)(
                int(kwargs["consultation_id"]), self.scope.get("user")
            )
        await self.accept()
        if consultation is None:
            await self.send_json({"type": "refused", "code": "forbidden", "message": message})
            await self.close(code=CLOSE_REFUSED)
            return
        sid = ""
        for part in self.scope.get("query_string", b"").decode().split("&"):
            if part.startswith("sid="):
                sid = part[4:64]
        accepted, replaced = await database_sync_to_async(services.consultation_attach)(
            consultation_id=consultation.pk, role=self.role, channel=self.channel_name, sid=sid
        )
        if not accepted:
            await self.send_json(
                {
                    "type": "refused",
                    "code": "busy",
                    "message": _(
                        "Someone is already connected with this link. A link serves one person: "
                        "close the other window, or phone the service."
                    ),
                }
            )
            await self.close(code=CLOSE_BUSY)
            return
        self.consultation_id = consultation.pk
        self.group = f"room.{consultation.pk}"
        if replaced:
            await self.channel_layer.send(replaced, {"type": "room.replaced"})
        await self.channel_layer.group_add(self.group, self.channel_name)
        fresh = await database_sync_to_async(selectors.consultation_by_id)(consultation.pk)
        self.status = fresh.status
        other = fresh.consultant_channel if self.role == "client" else fresh.client_channel
        await self.send_json(
            {
                "type": "state",
                "role": self.role,
                "status": fresh.status,
                "mode": fresh.mode,
                "peer_present": bool(other),
                "started_at": fresh.started_at.isoformat() if fresh.started_at else None,
            }
        )
        history = await database_sync_to_async(selectors.chat_history)(consultation.pk)
        await self.send_json({"type": "history", "messages": history})
        await self._to_peer({"type": "peer-joined", "role": self.role})

    async def disconnect(self, code: int) -> None:
        self.closing = True
        if not self.group:
            return
        await self.channel_layer.group_discard(self.group, self.channel_name)
        await database_sync_to_async(services.consultation_detach)(
            consultation_id=self.consultation_id, role=self.role, channel=self.channel_name
        )
        await self._to_peer({"type": "peer-left", "role": self.role})

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
                await self._to_peer({"type": "mode", "mode": c.mode, "role": self.role})
            elif kind == "admit" and self.role == "consultant":
                await database_sync_to_async(services.consultation_admit)(
                    consultation_id=self.consultation_id, actor=self.scope.get("user")
                )
                await self._to_all({"type": "admitted"})
            elif kind == "end" and self.role == "consultant":
                await database_sync_to_async(services.consultation_end)(
                    consultation_id=self.consultation_id, actor=self.scope.get("user")
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
        await self._to_peer(payload)

    async def _chat(self, content: dict) -> None:
        text = content.get("text")
        message = await database_sync_to_async(services.chat_message_create)(
            consultation_id=self.consultation_id,
            sender=self.role,
            text=text if isinstance(text, str) else "",
            client_msg_id=str(content.get("client_msg_id") or ""),
        )
        payload = await sync_to_async(selectors.chat_message_payload)(message)
        await self._to_all({"type": "chat", **payload})

    async def _to_peer(self, payload: dict) -> None:
        await self.channel_layer.group_send(
            self.group, {"type": "room.event", "sender": self.channel_name, "payload": payload}
        )

    async def _to_all(self, payload: dict) -> None:
        await self.channel_layer.group_send(
            self.group, {"type": "room.event", "sender": "", "payload": payload}
        )

    # --- channel layer events ---

    async def room_event(self, event: dict) -> None:
        if self.closing or event["sender"] == self.channel_name:
            return
        payload = event["payload"]
        if payload["type"] == "admitted":
            self.status = Consultation.Status.IN_PROGRESS
        elif payload["type"] == "ended":
            self.status = Consultation.Status.ENDED
        await self.send_json(payload)

    async def room_replaced(self, event: dict) -> None:
        # The same tab came back on a new connection; this old one must not speak any more.
        await self.channel_layer.group_discard(self.group, self.channel_name)
        self.group = ""
        await self.send_json({"type": "replaced"})
        await self.close(code=CLOSE_REPLACED)
