"""Reads for the public portal. Nothing here returns a client's personal data: the portal shows a
request only to the holder of its private token, and then only its status and booking."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from opora.accounts.models import Role, User
from opora.core.errors import NotFound
from opora.core.models import Service
from opora.core.timezones import zone_label as core_zone_label
from opora.intake.models import Channel, ConsentText, ServiceForm, ServiceRequest
from opora.portal.consent import default_consent_get_or_create
from opora.portal.models import MESSENGERS, ReplyChannel
from opora.scheduling.calendar import local_now
from opora.scheduling.models import Booking, Schedule, SchedulePeriod
from opora.scheduling.selectors import (
    FreeTimes,
    free_times_by_day,
)

# The parent's picker shows this many days with free times at once ("more days" for the next).
PICKER_DAYS = 3
# The service page's disclosure lists this many days with free times.
CALENDAR_DAYS = 10


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


@dataclass
class PublishedMonth:
    month: dt.date
    rows: list[ScheduleRow]


def _month_start(day: dt.date, ahead: int = 0) -> dt.date:
    index = day.year * 12 + day.month - 1 + ahead
    return dt.date(index // 12, index % 12 + 1, 1)


def schedule_published(*, service: Any, today: dt.date | None = None) -> list[PublishedMonth]:
    """The approved consultant schedules of this month and the next (regulation 003 §3.6: the
    monthly schedule is published on the site): the days and hours when consultations are given.

    Days already past are left out; periods of one day and time are one row whoever works then
    (a parent books a time, not a person: 21 names a day made the page 60,000 px tall).
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
        .order_by("date", "start_time", "end_time")
        .values_list("schedule__month", "date", "start_time", "end_time")
        .distinct()
    )
    out = {m: PublishedMonth(month=m, rows=[]) for m in months}
    for month, date, start, end in periods:
        out[month].rows.append(ScheduleRow(date, start, end))
    return [m for m in out.values() if m.rows]


def zone_label(service: Any) -> str:
    """The service's time zone as people read it: «московское время (UTC+3)», "Astana time (UTC+5)"."""
    return core_zone_label(service)


def free_times(
    *, service: Any, start: dt.date | None = None, consultant: Any = None, days: int = PICKER_DAYS
) -> FreeTimes:
    """The parent's picker: days with free times (one per distinct start), nearest first."""
    return free_times_by_day(service=service, start=start, consultant=consultant, days=days)


def choosable_consultants(service: Any) -> list[User]:
    """Consultants a client may pick by name, where the service allows it (else none)."""
    if not service.allows_choosing_consultant:
        return []
    return list(
        User.objects.filter(services=service, role=Role.CONSULTANT, is_active=True)
        .order_by("last_name", "first_name", "pk")
        .distinct()
    )


def choosable_consultant_get(service: Any, pk: Any) -> User | None:
    """One of `choosable_consultants` by id, or None (bad or absent ids are "any")."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    return next((c for c in choosable_consultants(service) if c.pk == pk), None)


def consent_get(pk: int | None) -> ConsentText | None:
    """The consent text a draft was agreed to."""
    return ConsentText.objects.filter(pk=pk).first() if pk else None


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
