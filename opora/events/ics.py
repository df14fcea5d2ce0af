"""An event as an iCalendar file for the participant's calendar: nothing about the participant
but their own join link."""

from __future__ import annotations

import datetime as dt

import icalendar
from django.utils import timezone

from opora.core.links import public_host
from opora.events.models import Event

PRODID = "-//Opora//Events//RU"


def event_ics(event: Event, join_url: str) -> bytes:
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("method", "PUBLISH")
    vevent = icalendar.Event()
    vevent.add("uid", f"event-{event.pk}@{public_host()}")
    vevent.add("dtstamp", timezone.now().astimezone(dt.UTC))
    vevent.add("dtstart", event.starts_at.astimezone(dt.UTC))
    vevent.add("dtend", event.ends_at.astimezone(dt.UTC))
    vevent.add("summary", event.title)
    vevent.add("description", f"{event.description}\n{join_url}".strip())
    vevent.add("url", join_url)
    vevent.add("location", join_url)
    vevent.add("status", "CANCELLED" if event.state == Event.State.CANCELLED else "CONFIRMED")
    cal.add_component(vevent)
    return cal.to_ical()
