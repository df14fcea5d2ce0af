"""The legal deadline of a complaint (regulation 000 §17: "в сроки, предусмотренные
законодательством") and the recording's 3 working days (§19), by the service's calendar."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from opora.complaints.models import ComplaintSettings
from opora.core.models import Service
from opora.scheduling.calendar import ServiceCalendar

# §19: «в срок, не превышающий 3-х рабочих дней после получения соответствующего запроса».
RECORDING_WORKING_DAYS = 3

# Defaults where a service has no `ComplaintSettings` row: Kazakhstan's Administrative Procedure
# Code gives 15 working days for an appeal; Russia's 59-FZ gives 30 (calendar) days.
COUNTRY_DEFAULTS: dict[str, tuple[int, bool]] = {"KZ": (15, True), "RU": (30, False)}
FALLBACK = (15, True)


@dataclass(frozen=True)
class Rules:
    answer_days: int
    working_days: bool
    allows_anonymous: bool


def settings_for(service: Service) -> Rules:
    """The service's complaint rules: its own row, else its country's defaults."""
    row = ComplaintSettings.objects.filter(service=service).first()
    if row is not None:
        return Rules(row.answer_days, row.working_days, row.allows_anonymous)
    days, working = COUNTRY_DEFAULTS.get((service.country or "").upper(), FALLBACK)
    return Rules(days, working, bool(service.allows_anonymous))


def local_date(service: Service, at: dt.datetime | None = None) -> dt.date:
    return timezone.localtime(at or timezone.now(), service.tz).date()


def due_on(service: Service, registered_on: dt.date) -> dt.date:
    """The last day to answer a complaint registered on `registered_on`."""
    rules = settings_for(service)
    if rules.working_days:
        return ServiceCalendar(service).add_working_days(registered_on, rules.answer_days)
    return registered_on + dt.timedelta(days=rules.answer_days)


def recording_due_on(service: Service, requested_on: dt.date) -> dt.date:
    return ServiceCalendar(service).add_working_days(requested_on, RECORDING_WORKING_DAYS)


def working_days_left(service: Service, today: dt.date, due: dt.date) -> int:
    """Working days from `today` (exclusive) to `due` (inclusive); negative when overdue."""
    calendar = ServiceCalendar(service)
    if due >= today:
        n, day = 0, today
        while day < due:
            day += dt.timedelta(days=1)
            n += calendar.is_working_day(day)
        return n
    n, day = 0, due
    while day < today:
        day += dt.timedelta(days=1)
        n += calendar.is_working_day(day)
    return -n
