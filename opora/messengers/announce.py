"""Announcements of a service's events to its messenger subscribers (issue 14).

The events app (a lower layer) offers the hook (`events.hooks`); this module is registered there
in `MessengersConfig.ready`. Every subscriber — a conversation with an active account of the
event's service that did not send /events_off — gets one queued `OutgoingChatMessage`, stored once
per conversation and event: its idempotency key is unique in the database.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from opora.core.links import public_url
from opora.events.models import Event
from opora.messengers.models import Conversation
from opora.messengers.services import outbound_enqueue


def announcement_key(event: Event, conversation: Conversation) -> str:
    return f"event-announcement:{event.pk}:{conversation.pk}"


def subscribers(event: Event) -> list[Conversation]:
    return list(
        Conversation.objects.filter(
            account__service_id=event.service_id,
            account__is_active=True,
            announcements_enabled=True,
        )
        .select_related("account")
        .order_by("pk")
    )


def event_announce(event: Event) -> int:
    """Queue the announcement to every subscriber; returns how many subscribers it went to."""
    url = public_url(reverse("events:register", args=[event.pk]))
    count = 0
    for conversation in subscribers(event):
        with translation.override(conversation.language or None):
            when = date_format(
                timezone.localtime(event.starts_at, event.service.tz), "DATETIME_FORMAT"
            )
            text = _(
                "«%(title)s», %(when)s.\n%(description)s\n\nRegistration: %(url)s\n\n"
                "To stop announcements of events, send /events_off."
            ) % {"title": event.title, "when": when, "description": event.description, "url": url}
            outbound_enqueue(
                conversation=conversation,
                text=text,
                key=announcement_key(event, conversation),
            )
        count += 1
    return count
