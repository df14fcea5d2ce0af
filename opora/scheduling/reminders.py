"""Reminders of a booked consultation: the day before and an hour before, each sent once.

The regulations ask that the client be told of the booking, reminded of it and told of changes
(regulation 000 §8, 002 §4.1). The booking and change notices are sent by the booking services;
the reminders are due by time, so a periodic task finds them here. They live in scheduling, which
owns the bookings, and go out through notifications (a lower app) like every other notice.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from opora.intake.models import ServiceRequest
from opora.notifications.models import Reminder
from opora.scheduling import scripts
from opora.scheduling.models import Booking
from opora.scheduling.services import booking_notify_client

logger = logging.getLogger(__name__)

DAY_BEFORE = scripts.REMINDER_DAY
HOUR_BEFORE = scripts.REMINDER_HOUR
# How long before the start each reminder becomes due.
LEADS = {DAY_BEFORE: dt.timedelta(hours=24), HOUR_BEFORE: dt.timedelta(hours=1)}


def _due_kind(booking: Any, now: dt.datetime) -> str | None:
    """Which reminder is due now, if any. A booking made after a reminder's time skips it: the
    confirmation the client has just received says the same."""
    starts = booking.slot.starts_at
    if starts <= now:
        return None
    for kind in (HOUR_BEFORE, DAY_BEFORE):
        due_at = starts - LEADS[kind]
        if now >= due_at:
            return kind if booking.created_at < due_at else None
    return None


def reminder_send(*, booking: Any, kind: str) -> bool:
    """Send the `kind` reminder of `booking` to its request's phone, e-mail and messengers, once,
    with the booking's short link (the room when it is open, the private page otherwise).

    The Reminder row's unique key (booking, kind) is inserted in the same transaction as the
    messages: a second run, or a concurrent one, finds it and sends nothing.
    """
    request = booking.request
    try:
        with transaction.atomic():
            Reminder.objects.create(
                subject_type=booking._meta.label_lower, subject_id=str(booking.pk), kind=kind
            )
            with translation.override(settings.LANGUAGE_CODE):
                booking_notify_client(
                    request=request, booking=booking, kind=kind, dedupe_prefix=kind
                )
    except IntegrityError:
        return False
    return True


def reminders_send_due(*, now: dt.datetime | None = None) -> int:
    """Send every reminder due at `now` (default: now); returns how many reminders were sent."""
    now = now or timezone.now()
    bookings = (
        Booking.objects.filter(
            status=Booking.Status.ACTIVE,
            # Not a request waiting for a new time after a technical failure (its booking stays
            # active until the head decides): "see you in an hour" would contradict that notice.
            request__status=ServiceRequest.Status.BOOKED,
            slot__starts_at__gt=now,
            slot__starts_at__lte=now + LEADS[DAY_BEFORE],
        )
        .select_related("slot__service", "slot__consultant", "request")
        .order_by("slot__starts_at", "pk")
    )
    sent = 0
    for booking in bookings:
        kind = _due_kind(booking, now)
        if kind is not None and reminder_send(booking=booking, kind=kind):
            sent += 1
    if sent:
        logger.info("reminders sent: %d", sent)
    return sent
