"""Reads for the public portal. Nothing here returns a client's personal data: the portal shows a
request only to the holder of its private token, and then only its status and booking."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from opora.core.errors import NotFound
from opora.core.models import Service
from opora.intake.models import Channel, ConsentText, ServiceForm, ServiceRequest
from opora.portal.consent import default_consent_get_or_create
from opora.portal.models import MESSENGERS, ReplyChannel
from opora.scheduling.calendar import local_now, to_local
from opora.scheduling.models import Booking, Schedule, SchedulePeriod, Slot
from opora.scheduling.selectors import slot_nearest_free, slots_free_on_date

# How far the self-booking page looks ahead from the nearest free slot, in working days with
# free slots, and how many slots it lists at most: enough to choose, short enough to read.
FREE_DAYS_SHOWN = 5
FREE_SLOTS_SHOWN = 40
# A day without free slots is skipped; stop looking after this many calendar days.
FREE_SEARCH_DAYS = 62


def services_public() -> QuerySet[Service]:
    """Active services, for the portal's index."""
    return Service.objects.filter(is_active=True).order_by("name")


def service_public_get(*, code: str) -> Service:
    """An active service by its code, or NotFound."""
    service = Service.objects.filter(code=code, is_active=True).first()
    if service is None:
        raise NotFound(_("There is no such service."))
    return service


def request_by_token(*, token: str) -> ServiceRequest:
    """The request whose private link this is, or NotFound (the same for any unknown token)."""
    if not token or len(token) > 64:
        raise NotFound(_("The link is not valid."))
    request = ServiceRequest.objects.select_related("service").filter(public_token=token).first()
    if request is None:
        raise NotFound(_("The link is not valid."))
    return request


def service_forms(service: Any) -> list[ServiceForm]:
    """The forms of help the service gives: online ones always (the product's rooms), the others
    where the service takes that channel."""
    channels = set(service.channels or [])
    forms = [ServiceForm.VIDEO, ServiceForm.VOICE, ServiceForm.CHAT]
    if Channel.PHONE in channels or service.public_phone:
        forms.append(ServiceForm.PHONE)
    if Channel.EMAIL in channels or service.public_email:
        forms.append(ServiceForm.WRITTEN)
    if Channel.IN_PERSON in channels:
        forms.append(ServiceForm.IN_PERSON)
    return forms


def reply_channels(service: Any) -> list[ReplyChannel]:
    """How a named client may ask to be answered: e-mail, phone, and the service's messengers."""
    channels = set(service.channels or [])
    return [ReplyChannel.EMAIL, ReplyChannel.PHONE] + [m for m in MESSENGERS if m in channels]


def request_channels(service: Any) -> list[str]:
    """Labels of every way the service takes requests, for its page."""
    labels = dict(Channel.choices)
    return [str(labels[c]) for c in service.channels or [] if c in labels and c != Channel.API]


def consent_current(service: Any) -> ConsentText:
    """The newest consent text of the service, else the newest global one (created if none)."""
    consent = ConsentText.objects.filter(Q(service=service)).first()
    if consent is None:
        consent = ConsentText.objects.filter(service__isnull=True).first()
    if consent is None:
        consent = default_consent_get_or_create(ConsentText)
    return consent


@dataclass
class ScheduleRow:
    date: dt.date
    start: dt.time
    end: dt.time
    consultants: list[str] = field(default_factory=list)


@dataclass
class PublishedMonth:
    month: dt.date
    rows: list[ScheduleRow]


def _month_start(day: dt.date, ahead: int = 0) -> dt.date:
    index = day.year * 12 + day.month - 1 + ahead
    return dt.date(index // 12, index % 12 + 1, 1)


def schedule_published(*, service: Any, today: dt.date | None = None) -> list[PublishedMonth]:
    """The approved consultant schedules of this month and the next (regulation 003 §3.6: the
    monthly schedule is published on the site): days, times and the consultants' names.

    Days already past are left out; periods of one day and time are merged into one row.
    """
    today = today or local_now(service).date()
    months = [_month_start(today), _month_start(today, 1)]
    periods = (
        SchedulePeriod.objects.filter(
            schedule__service=service,
            schedule__status=Schedule.Status.APPROVED,
            schedule__month__in=months,
            date__gte=today,
        )
        .select_related("schedule__consultant")
        .order_by("date", "start_time", "end_time", "schedule__consultant__last_name")
    )
    out = {m: PublishedMonth(month=m, rows=[]) for m in months}
    for period in periods:
        rows = out[period.schedule.month].rows
        key = (period.date, period.start_time, period.end_time)
        if not rows or (rows[-1].date, rows[-1].start, rows[-1].end) != key:
            rows.append(ScheduleRow(*key))
        rows[-1].consultants.append(period.schedule.consultant.display_name)
    return [m for m in out.values() if m.rows]


@dataclass
class FreeDay:
    date: dt.date
    slots: list[Slot]


def free_slots_ahead(
    *, service: Any, date: dt.date | None = None, now: dt.datetime | None = None
) -> list[FreeDay]:
    """Free slots nearest first, grouped by local day, never earlier than the nearest free slot
    (regulation 001 §5). From `date` on when given (still not before the nearest free slot)."""
    nearest = slot_nearest_free(service=service, now=now)
    if nearest is None:
        return []
    day = to_local(service, nearest.starts_at).date()
    if date is not None and date > day:
        day = date
    days: list[FreeDay] = []
    shown = 0
    for _offset in range(FREE_SEARCH_DAYS):
        if len(days) >= FREE_DAYS_SHOWN or shown >= FREE_SLOTS_SHOWN:
            break
        slots = slots_free_on_date(service=service, date=day, now=now)
        if slots:
            slots = slots[: FREE_SLOTS_SHOWN - shown]
            days.append(FreeDay(date=day, slots=slots))
            shown += len(slots)
        day += dt.timedelta(days=1)
    return days


def booking_active(*, request: ServiceRequest) -> Booking | None:
    """The request's active booking with its slot, service and consultant, or None — also None
    once the request is over (done, no-show): its booking stays as the record, not to change."""
    if request.status in (ServiceRequest.Status.DONE, ServiceRequest.Status.NO_SHOW):
        return None
    return (
        Booking.objects.filter(request=request, status=Booking.Status.ACTIVE)
        .select_related("slot__service", "slot__consultant")
        .first()
    )


def booking_last(*, request: ServiceRequest) -> Booking | None:
    """The request's newest booking of any status (to say what happened to it)."""
    return (
        Booking.objects.filter(request=request)
        .select_related("slot__service", "slot__consultant")
        .order_by("-created_at", "-pk")
        .first()
    )


def join_url(*, booking: Booking) -> str:
    """The client's link to the consultation room, when the room exists ("" otherwise)."""
    from opora.consultations.models import Consultation
    from opora.consultations.selectors import client_join_url

    consultation = Consultation.objects.filter(booking=booking).first()
    return client_join_url(consultation) if consultation is not None else ""


def consultation_of(*, booking: Booking) -> Any:
    """The consultation (room) of `booking`, or None before it exists."""
    from opora.consultations.models import Consultation

    return Consultation.objects.filter(booking=booking).first()
