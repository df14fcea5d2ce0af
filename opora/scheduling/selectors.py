"""Reads of the scheduling domain: free slots, a consultant's day, schedules and bookings."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from opora.accounts.models import Role, User
from opora.core.errors import NotFound
from opora.scheduling.calendar import ServiceCalendar, local_day_bounds, to_local
from opora.scheduling.models import Booking, Schedule, Slot

# Candidates fetched per round trip while looking for the nearest free slot. Almost always the
# first row is the answer; the batch only matters when a day has become a day off.
_BATCH = 32


def _free_slots(service: Any, consultant: Any = None) -> QuerySet[Slot]:
    """Open slots of the service without an active booking.

    `is_booked` (kept in step by the booking services under the slot row lock) lets the search walk
    the partial index `slot_free_by_time` and skip booked stretches; NOT EXISTS on the partial
    unique index `booking_one_active_per_slot` stays the truth.
    """
    active = Booking.objects.filter(slot=OuterRef("pk"), status=Booking.Status.ACTIVE)
    qs = Slot.objects.filter(service=service, is_open=True, is_booked=False).filter(~Exists(active))
    if consultant is not None:
        qs = qs.filter(consultant=consultant)
    return qs


def _bookable_time(service: Any, calendar: ServiceCalendar, slot: Slot) -> bool:
    starts, ends = to_local(service, slot.starts_at), to_local(service, slot.ends_at)
    return (
        calendar.is_working_day(starts.date())
        and starts.time() >= service.consultation_opens
        and ends.date() == starts.date()
        and ends.time() <= service.consultation_closes
    )


def slot_nearest_free(
    *,
    service: Any,
    consultant: Any = None,
    after: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> Slot | None:
    """The first bookable free slot after max(now, after), by time then consultant, or None.

    Bookable: open, no active booking, on a working day of the service's calendar and inside its
    consultation hours (slots of a day that became a day off are skipped).
    """
    start = now or timezone.now()
    if after is not None and after > start:
        start = after
    calendar = ServiceCalendar(service)
    qs = (
        _free_slots(service, consultant)
        .select_related("consultant")
        .order_by("starts_at", "consultant_id")
    )
    page = qs.filter(starts_at__gt=start)
    while True:
        batch = list(page[:_BATCH])
        for slot in batch:
            if _bookable_time(service, calendar, slot):
                return slot
        if len(batch) < _BATCH:
            return None
        last = batch[-1]
        last_day = to_local(service, last.starts_at).date()
        if not calendar.is_working_day(last_day):
            # Jump over the rest of a day off at once.
            page = qs.filter(starts_at__gte=local_day_bounds(service, last_day)[1])
        else:
            # Keyset: continue right after the last (starts_at, consultant) seen.
            page = qs.filter(
                Q(starts_at__gt=last.starts_at)
                | Q(starts_at=last.starts_at, consultant_id__gt=last.consultant_id)
            )


def slots_free_on_date(
    *,
    service: Any,
    date: dt.date,
    consultant: Any = None,
    now: dt.datetime | None = None,
) -> list[Slot]:
    """Free bookable slots of the local `date`, never earlier than the nearest free slot.

    Regulation 001 §5: the operator tells whether the wanted date has free times, "but not earlier
    than the date of the nearest free slot" — so a date before it gives nothing.
    """
    nearest = slot_nearest_free(service=service, consultant=consultant, now=now)
    if nearest is None:
        return []
    day_start, day_end = local_day_bounds(service, date)
    if day_end <= nearest.starts_at:
        return []
    calendar = ServiceCalendar(service)
    if not calendar.is_working_day(date):
        return []
    qs = (
        _free_slots(service, consultant)
        .filter(starts_at__gte=max(day_start, nearest.starts_at), starts_at__lt=day_end)
        .select_related("consultant")
        .order_by("starts_at", "consultant_id")
    )
    return [s for s in qs if _bookable_time(service, calendar, s)]


def consultant_day(*, consultant: Any, date: dt.date) -> list[Booking]:
    """The consultant's active bookings on `date` (each service's local day), with the request."""
    # A consultant may serve services in different time zones: read a wide window, then keep the
    # bookings whose local date (in their own service's zone) is `date`.
    utc = dt.UTC
    window_start = dt.datetime.combine(date - dt.timedelta(days=1), dt.time.min, tzinfo=utc)
    window_end = dt.datetime.combine(date + dt.timedelta(days=2), dt.time.min, tzinfo=utc)
    bookings = (
        Booking.objects.filter(
            slot__consultant=consultant,
            status=Booking.Status.ACTIVE,
            slot__starts_at__gte=window_start,
            slot__starts_at__lt=window_end,
        )
        .select_related("slot__service", "slot__consultant", "request", "request__region")
        .order_by("slot__starts_at")
    )
    return [b for b in bookings if to_local(b.slot.service, b.slot.starts_at).date() == date]


def schedules_for_month(*, service: Any, month: dt.date) -> QuerySet[Schedule]:
    """The service's schedules for the month, with consultant and periods."""
    return (
        Schedule.objects.filter(service=service, month=month.replace(day=1))
        .select_related("consultant", "approved_by")
        .prefetch_related("periods")
        .order_by("consultant__last_name", "consultant__first_name", "pk")
    )


def schedule_due_date(*, service: Any, month: dt.date) -> dt.date:
    """The day by which the schedules of `month` are due: the due day of the month before."""
    previous = month.replace(day=1) - dt.timedelta(days=1)
    return previous.replace(day=service.schedule_due_day)


def schedule_overdue(*, service: Any, month: dt.date, today: dt.date) -> list[User]:
    """Consultants of the service whose schedule for `month` is overdue on `today`.

    Schedules for a month are due by `service.schedule_due_day` of the month before (regulation 000
    §13: by the 25th for the next month). After that day, every active consultant of the service
    without a submitted or approved schedule for `month` is listed; before it, nobody is.
    """
    month = month.replace(day=1)
    if today <= schedule_due_date(service=service, month=month):
        return []
    done = Schedule.objects.filter(
        service=service,
        month=month,
        consultant=OuterRef("pk"),
        status__in=[Schedule.Status.SUBMITTED, Schedule.Status.APPROVED],
    )
    return list(
        User.objects.filter(role=Role.CONSULTANT, is_active=True, services=service)
        .filter(~Exists(done))
        .order_by("last_name", "first_name", "pk")
    )


def booking_get(*, booking_id: int) -> Booking:
    """One booking with its slot, service, consultant and request, or NotFound."""
    try:
        return Booking.objects.select_related(
            "slot__service", "slot__consultant", "request", "replaced_by"
        ).get(pk=booking_id)
    except (Booking.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("The booking does not exist.")) from None


def bookings_for_request(*, request: Any) -> list[Booking]:
    """All bookings of a request, oldest first: the rescheduling history as a chain."""
    return list(
        Booking.objects.filter(request=request)
        .select_related("slot__service", "slot__consultant", "replaced_by")
        .order_by("created_at", "pk")
    )
