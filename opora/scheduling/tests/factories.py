"""Test data for scheduling. Everything is synthetic."""

import datetime as dt
import itertools

from django.utils import timezone

from opora.intake.models import ServiceRequest
from opora.scheduling.calendar import ServiceCalendar, make_aware_local
from opora.scheduling.models import Schedule, Slot

_seq = itertools.count(1)


def make_request(service, **kw) -> ServiceRequest:
    n = next(_seq)
    defaults = {
        "full_name": f"Тестова Мария {n}",
        "iin": f"{900000000000 + n}",
        "phone": f"+7701000{n:04d}",
    }
    defaults.update(kw)
    return ServiceRequest.objects.create(service=service, **defaults)


def approved_schedule(service, consultant, month: dt.date) -> Schedule:
    schedule, _ = Schedule.objects.get_or_create(
        service=service,
        consultant=consultant,
        month=month.replace(day=1),
        defaults={"status": Schedule.Status.APPROVED},
    )
    return schedule


def make_slot(service, consultant, date: dt.date, time: dt.time, *, minutes=None, **kw) -> Slot:
    starts = make_aware_local(service, date, time)
    return Slot.objects.create(
        service=service,
        consultant=consultant,
        schedule=approved_schedule(service, consultant, date),
        starts_at=starts,
        ends_at=starts + dt.timedelta(minutes=minutes or service.slot_minutes),
        **kw,
    )


def future_working_day(service, *, days_ahead: int = 10, nth: int = 0) -> dt.date:
    """A working day of the service some days from today (booking rules compare with now)."""
    calendar = ServiceCalendar(service)
    day = timezone.localdate() + dt.timedelta(days=days_ahead)
    found = -1
    while True:
        if calendar.is_working_day(day):
            found += 1
            if found == nth:
                return day
        day += dt.timedelta(days=1)


def other_service(service, **kw):
    """A second service sharing the organisations of `service`."""
    from opora.core.models import Service

    defaults = {
        "code": f"other-{next(_seq)}",
        "name": "Другая служба",
        "country": "KZ",
        "holiday_calendar": "KZ",
        "intake_organisation": service.intake_organisation,
        "provider_organisation": service.provider_organisation,
    }
    defaults.update(kw)
    return Service.objects.create(**defaults)
