"""The row locks of events, in one place (every `select_for_update` of the app is here).

A registration, a cancellation and a promotion from the waiting list all lock the event's row
first, then count: the places of one event are handed out one writer at a time.
"""

from __future__ import annotations

from django.db.models import QuerySet

from opora.events.models import Event, EventRecording, Registration


def event_qs_select_for_update() -> QuerySet[Event]:
    """Only the event's own row (`of=self`)."""
    return Event.objects.select_for_update(of=("self",))


def registration_qs_select_for_update() -> QuerySet[Registration]:
    return Registration.objects.select_for_update(of=("self",))


def event_recording_qs_select_for_update() -> QuerySet[EventRecording]:
    return EventRecording.objects.select_for_update(of=("self",))
