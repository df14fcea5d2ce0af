"""The room socket's database work, each step one trip to Channels' database thread.

Channels runs every `database_sync_to_async` call on one thread, so each trip queues behind every
other socket's: a connect used to make four (the room, the attach, the room again, the chat), now it
makes two. Two and not one because of an ordering the consumer relies on: the state and the chat are
read only after the socket joined the room's group, so that an admit or a chat line written after
the read is still delivered to it as an event (`RoomConsumer.connect`). Signalling never comes here.
"""

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from opora.consultations import selectors, services
from opora.consultations.models import Consultation

CLOSED = (Consultation.Status.ENDED, Consultation.Status.NO_SHOW, Consultation.Status.FAILED)


@dataclass(frozen=True)
class Entry:
    """The outcome of `room_enter`: the consultation, or why the socket is refused."""

    consultation_id: int = 0
    refused: str = ""  # "forbidden" or "busy"
    message: str = ""
    replaced: str = ""  # the channel this socket takes over from (the same tab reconnecting)


@dataclass(frozen=True)
class RoomState:
    status: str
    mode: str
    peer_channel: str
    started_at: str | None
    history: list[dict] = field(default_factory=list)


def _open_for_consultant(consultation_id: int, user: Any) -> tuple[Consultation | None, str]:
    c = selectors.consultation_by_id(consultation_id)
    if c is None or not selectors.consultant_may_enter(user, c):
        return None, _("Only the booked consultant can open this room.")
    if c.status in CLOSED:
        return None, _("This consultation has ended.")
    return c, ""


def _open_for_client(token: str) -> tuple[Consultation | None, str]:
    c = selectors.consultation_by_token(token)
    problem = selectors.link_problem(c)
    if problem is not None or c is None:
        return None, _("This link does not open the room now. Reload the page to see why.")
    return c, ""


def room_enter(
    *,
    role: str,
    channel: str,
    token: str = "",
    consultation_id: int = 0,
    user: Any = None,
    sid: str = "",
) -> Entry:
    """May this socket enter (the client by its link, the consultant by login), and mark it as the
    room's `role` connection (`services.consultation_attach`: one client per link)."""
    if role == "client":
        consultation, message = _open_for_client(token)
    else:
        consultation, message = _open_for_consultant(consultation_id, user)
    if consultation is None:
        return Entry(refused="forbidden", message=message)
    accepted, replaced = services.consultation_attach(
        consultation_id=consultation.pk, role=role, channel=channel, sid=sid
    )
    if not accepted:
        return Entry(
            refused="busy",
            message=_(
                "Someone is already connected with this link. A link serves one person: "
                "close the other window, or phone the service."
            ),
        )
    return Entry(consultation_id=consultation.pk, replaced=replaced)


def room_state(*, consultation_id: int, role: str) -> RoomState:
    """What a socket shows once it has joined the room's group: status, mode, whether (and on
    which channel) the other side is connected, and the whole chat."""
    row = (
        Consultation.objects.filter(pk=consultation_id)
        .values("status", "mode", "started_at", "client_channel", "consultant_channel")
        .get()
    )
    return RoomState(
        status=row["status"],
        mode=row["mode"],
        peer_channel=row["consultant_channel"] if role == "client" else row["client_channel"],
        started_at=row["started_at"].isoformat() if row["started_at"] else None,
        history=selectors.chat_history(consultation_id),
    )


def room_leave(*, consultation_id: int, role: str, channel: str) -> None:
    services.consultation_detach(consultation_id=consultation_id, role=role, channel=channel)


def chat_post(*, consultation_id: int, sender: str, text: str, client_msg_id: str) -> dict:
    """Store a chat line (with its `seq`) and return it as both sides show it: one trip."""
    message = services.chat_message_create(
        consultation_id=consultation_id,
        sender=sender,
        text=text,
        client_msg_id=client_msg_id,
    )
    return selectors.chat_message_payload(message)
