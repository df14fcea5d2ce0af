"""Reads of consultations: who may enter a room, whether a join link works now, the chat, ICE servers."""

import base64
import datetime as dt
import hashlib
import hmac
import time
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from opora.consultations.models import ChatMessage, Consultation
from opora.scheduling.models import Booking

# The client may open the room this long before the slot starts (regulation 002 §4.2: the
# consultant prepares 30 minutes ahead; the client needs a few minutes for the device check).
JOIN_EARLY = dt.timedelta(minutes=15)
TURN_TTL_SECONDS = 12 * 3600


class LinkProblem:
    NOT_FOUND = "not_found"
    EARLY = "early"
    EXPIRED = "expired"
    CLOSED = "closed"


def consultation_by_token(token: str) -> Consultation | None:
    """The consultation whose client link carries `token`, or None."""
    if not token or len(token) > 64:
        return None
    return (
        Consultation.objects.select_related(
            "booking__slot__service", "booking__slot__consultant", "booking__request"
        )
        .filter(client_token=token)
        .first()
    )


def consultation_by_id(consultation_id: int) -> Consultation | None:
    return (
        Consultation.objects.select_related(
            "booking__slot__service", "booking__slot__consultant", "booking__request"
        )
        .filter(pk=consultation_id)
        .first()
    )


def link_problem(
    consultation: Consultation | None, *, now: dt.datetime | None = None
) -> str | None:
    """Why the client's link does not open the room at `now` (a `LinkProblem`), or None if it does."""
    if consultation is None:
        return LinkProblem.NOT_FOUND
    now = now or timezone.now()
    slot = consultation.booking.slot
    if consultation.booking.status != Booking.Status.ACTIVE or consultation.status in (
        Consultation.Status.ENDED,
        Consultation.Status.NO_SHOW,
    ):
        return LinkProblem.CLOSED
    if now >= slot.ends_at:
        return LinkProblem.EXPIRED
    if now < slot.starts_at - JOIN_EARLY:
        return LinkProblem.EARLY
    return None


def consultant_may_enter(user: Any, consultation: Consultation) -> bool:
    """Only the booked consultant enters the consultant's side of the room."""
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and consultation.booking.slot.consultant_id == user.pk
    )


def chat_history(consultation_id: int) -> list[dict]:
    """The whole chat in order, as the room's JavaScript shows it."""
    return [
        chat_message_payload(m)
        for m in ChatMessage.objects.filter(consultation_id=consultation_id).order_by("seq")
    ]


def chat_message_payload(message: ChatMessage) -> dict:
    return {
        "seq": message.seq,
        "sender": message.sender,
        "text": message.text,
        "client_msg_id": message.client_msg_id,
        "at": message.created_at.isoformat(),
    }


def client_join_url(consultation: Consultation) -> str:
    path = reverse("consultations:client_entry", args=[consultation.client_token])
    return settings.OPORA_PUBLIC_URL.rstrip("/") + path


def room_url(consultation: Consultation) -> str:
    path = reverse("consultations:consultant_room", args=[consultation.pk])
    return settings.OPORA_PUBLIC_URL.rstrip("/") + path


def turn_credentials(
    *,
    secret: str,
    urls: list[str],
    user_id: str,
    ttl: int = TURN_TTL_SECONDS,
    now: float | None = None,
) -> dict:
    """A TURN server entry with time-limited credentials (coturn `use-auth-secret`, the TURN REST
    scheme): username `<expiry unix time>:<id>`, credential base64(HMAC-SHA1(secret, username))."""
    expiry = int(now if now is not None else time.time()) + ttl
    username = f"{expiry}:{user_id}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return {
        "urls": list(urls),
        "username": username,
        "credential": base64.b64encode(digest).decode(),
    }


def ice_servers(*, user_id: str) -> list[dict]:
    """The RTCPeerConnection `iceServers`: `OPORA_ICE_SERVERS` (STUN) plus TURN when configured."""
    servers = [dict(s) for s in settings.OPORA_ICE_SERVERS]
    secret, urls = settings.OPORA_TURN_SECRET, settings.OPORA_TURN_URLS
    if secret and urls:
        servers.append(
            turn_credentials(
                secret=secret, urls=urls, user_id=user_id, ttl=settings.OPORA_TURN_TTL_SECONDS
            )
        )
    return servers
