"""A booking as an iCalendar (.ics) file the client can add to their calendar (RFC 5545).

It carries what the client must know — when, with whom, how to join and how to change it — and
nothing about the client: the file is downloaded and may be forwarded.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import icalendar
from django.utils import timezone
from django.utils.translation import gettext as _

from opora.core.links import public_host
from opora.scheduling import scripts

PRODID = "-//Opora//Online support service//RU"


def _uid(booking: Any) -> str:
    # Globally unique and stable for one booking: a re-download updates the same calendar entry.
    return f"booking-{booking.pk}@{public_host()}"


def booking_ics(booking: Any, *, join_url: str = "") -> bytes:
    """One VEVENT for `booking` (times in UTC, so every calendar shows them right).

    A cancelled booking gives a cancelled event with the same UID, so a calendar that imported
    the booking drops it; `join_url` (the consultation room's client link) goes into URL,
    LOCATION and the description when known.
    """
    slot = booking.slot
    service = slot.service
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("method", "PUBLISH")
    cal.add("calscale", "GREGORIAN")

    event = icalendar.Event()
    event.add("uid", _uid(booking))
    event.add("dtstamp", timezone.now().astimezone(dt.UTC))
    event.add("dtstart", slot.starts_at.astimezone(dt.UTC))
    event.add("dtend", slot.ends_at.astimezone(dt.UTC))
    event.add(
        "summary",
        _("Online consultation: %(service)s") % {"service": service.name},
    )
    lines = [
        _("Specialist: %(name)s") % {"name": slot.consultant.display_name},
    ]
    if join_url:
        lines.append(_("Link to join: %(url)s") % {"url": join_url})
        event.add("url", join_url)
        event.add("location", join_url)
    lines.extend(scripts._details(service))
    event.add("description", "\n".join(lines))
    cancelled = booking.status == "cancelled"
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    # A moved booking is a new booking (new UID); bump the sequence on cancel so it wins.
    event.add("sequence", 1 if cancelled else 0)
    event.add("transp", "OPAQUE")
    if not cancelled:
        alarm = icalendar.Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", _("The consultation starts in 30 minutes"))
        alarm.add("trigger", dt.timedelta(minutes=-30))
        event.add_component(alarm)
    cal.add_component(event)
    return cal.to_ical()
