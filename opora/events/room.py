"""The group room's writes: chat, raised hands, and the lead's moderation through Janus.

Janus enforces who may be heard: a participant's audio is muted in Janus (`moderate`) as soon as
they publish it, and unmuted only when the lead lets them speak; Opora alone knows the room's
secret that moderation needs. Removing a participant kicks their feed in Janus.
"""

from __future__ import annotations

from typing import TypedDict

from django.db import transaction
from django.utils.translation import gettext as _

from opora.accounts.models import User
from opora.core.errors import DomainError, NotFound, PermissionDenied
from opora.core.inputs import check_text
from opora.events import janus
from opora.events.access import may_lead
from opora.events.models import Event, Registration, RoomMessage
from opora.events.recording import may_take_floor

MODERATION = ("unmute", "mute", "remove")


def who_of(*, registration: Registration | None = None, user: User | None = None) -> str:
    """The room's name of a participant (registration) or of a member of staff (user)."""
    if registration is not None:
        return f"r{registration.pk}"
    if user is not None:
        return f"u{user.pk}"
    raise ValueError("a registration or a user")


@transaction.atomic
def room_message_post(
    *,
    event: Event,
    registration: Registration | None = None,
    user: User | None = None,
    kind: str = RoomMessage.Kind.CHAT,
    text: str = "",
    claimed_feed: int | None = None,
    mid: str = "",
) -> RoomMessage:
    """A chat line or a raised hand. A raised hand is bound to the poster's own Janus feed, which
    the server derives from their link or session (`janus.participant_feed`): a page that names
    another feed (`claimed_feed`) is refused, so no one raises or gets unmuted for another."""
    check_text("text", text, max_length=1000)
    check_text("mid", mid, max_length=8)
    if kind not in RoomMessage.Kind.values:
        raise DomainError(_("Unknown kind of message."), code="kind")
    if kind == RoomMessage.Kind.CHAT and not text.strip():
        raise DomainError(_("Write a message first."), code="empty")
    feed = None
    if kind == RoomMessage.Kind.HAND and registration is not None:
        refusal = may_take_floor(registration)
        if refusal is not None:
            raise DomainError(refusal, code="not_consented")
    if kind == RoomMessage.Kind.HAND:
        if mid and not mid.isdigit():
            raise DomainError(_("Unknown stream of the room."), code="mid")
        feed = janus.participant_feed(event, who_of(registration=registration, user=user))
        if claimed_feed is not None and claimed_feed != feed:
            raise PermissionDenied(_("You may raise only your own hand."))
    author = registration.display_name if registration else (user.display_name if user else "")
    message = RoomMessage.objects.create(
        event=event,
        registration=registration,
        user=user,
        author=author,
        kind=kind,
        text=text.strip(),
        feed=feed,
        mid=mid if kind == RoomMessage.Kind.HAND else "",
    )
    if message.feed is not None and janus.available():
        # Heard only when the lead allows: Janus drops this feed's audio until then.
        janus.moderate(event, feed=message.feed, mid=message.mid or "0", mute=True)
    return message


class RoomMessageRow(TypedDict):
    """A message of the room's feed as the page polls it."""

    pk: int
    author: str
    kind: str
    text: str
    feed: int | None


def room_messages_since(*, event: Event, after: int = 0) -> list[RoomMessageRow]:
    return list(
        RoomMessage.objects.filter(event=event, pk__gt=after)
        .order_by("pk")
        .values("pk", "author", "kind", "text", "feed")[:200]
    )


def room_moderate(*, actor: User, event: Event, message_id: int, action: str) -> RoomMessage:
    """The lead (or a presenter, or the head) lets a raised hand speak, mutes it or removes it."""
    if not may_lead(actor, event, presenters=True):
        raise DomainError(_("Only the event's lead moderates the room."), code="not_lead")
    if action not in MODERATION:
        raise DomainError(_("Unknown action."), code="action")
    message = RoomMessage.objects.filter(
        event=event, pk=message_id, kind=RoomMessage.Kind.HAND, feed__isnull=False
    ).first()
    if message is None:
        raise NotFound(_("No such raised hand."))
    assert message.feed is not None  # noqa: S101 (filtered above)
    if action == "remove":
        janus.kick(event, feed=message.feed)
    else:
        janus.moderate(event, feed=message.feed, mid=message.mid or "0", mute=action == "mute")
    return message
