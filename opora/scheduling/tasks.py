"""Periodic work of the scheduling domain. Beat (or `opora scheduler`) fires these every minute;
each task decides per service, in the service's own time zone, whether anything is due."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from celery import shared_task

from opora.core.errors import DomainError
from opora.core.models import Service
from opora.scheduling.calendar import ServiceCalendar, local_now
from opora.scheduling.models import HandoffRun

logger = logging.getLogger(__name__)

# Regulation 000 §12: the day's requests go to the provider between 17:45 and 18:00.
HANDOFF_WINDOW_END = dt.time(18, 0)


def handoff_due_date(*, service: Any, now: dt.datetime | None = None) -> dt.date | None:
    """The local date whose hand-off should be sent at `now`, or None when nothing is due."""
    if not service.is_active or service.handoff_time is None or not service.handoff_email:
        return None
    local = local_now(service, now)
    window_end = HANDOFF_WINDOW_END if service.handoff_time < HANDOFF_WINDOW_END else dt.time.max
    if not (service.handoff_time <= local.time() < window_end):
        return None
    return local.date()


def _has_requests(service: Any, date: dt.date, now: dt.datetime | None) -> bool:
    """Requests waiting for the hand-off of `date` (registered before its cut-off, not yet sent)."""
    from opora.scheduling.services.handoff import handoff_cutoff, requests_pending_handoff

    cutoff = handoff_cutoff(service=service, date=date, now=now)
    return requests_pending_handoff(service=service).filter(created_at__lt=cutoff).exists()


@shared_task(name="opora.scheduling.tasks.send_due_handoffs")
def send_due_handoffs(now: dt.datetime | None = None) -> list[int]:
    """Send each service's hand-off once inside its window; return the ids of the runs sent.

    Idempotent: a day already sent is skipped (and handoff_send itself returns an existing run).
    On a day off the hand-off goes only when requests are waiting (e.g. letters of the night);
    otherwise they wait for the next working day's run, which takes everything not yet sent.
    """
    from opora.scheduling.services import handoff_send

    sent = []
    services = Service.objects.filter(is_active=True, handoff_time__isnull=False).exclude(
        handoff_email=""
    )
    for service in services:
        date = handoff_due_date(service=service, now=now)
        if date is None:
            continue
        if HandoffRun.objects.filter(service=service, date=date, sent_at__isnull=False).exists():
            continue
        if not ServiceCalendar(service).is_working_day(date) and not _has_requests(
            service, date, now
        ):
            continue
        try:
            run = handoff_send(service=service, date=date, now=now)
        except DomainError as exc:
            logger.warning("hand-off of service %s not sent: %s", service.pk, exc.code)
            continue
        sent.append(run.pk)
    return sent


@shared_task(name="opora.scheduling.tasks.send_due_reminders")
def send_due_reminders() -> int:
    """Every 5 minutes: the day-before and hour-before reminders that are due, each sent once."""
    from opora.scheduling.reminders import reminders_send_due

    return reminders_send_due()
