"""The working-day calendar of a service and its local time.

A day is a working day when the country's calendar (the `holidays` library: public holidays,
substituted days off and transferred working Saturdays) says so, unless the service has a
`CalendarOverride` for that date. Every business rule that says "working days" or "local day"
goes through this module.
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from typing import Any

import holidays
from django.utils import timezone

from opora.core.models import CalendarOverride


@functools.lru_cache(maxsize=64)
def _country_holidays(country: str, year: int) -> holidays.HolidayBase:
    # expand=False: the object is never mutated after construction, so it is safe to share
    # between threads. The library's own data only changes with a package upgrade.
    code, _, subdiv = country.partition("-")
    return holidays.country_holidays(code, subdiv=subdiv or None, years=year, expand=False)


def _calendar_code(service: Any) -> str:
    return (service.holiday_calendar or service.country or "").upper()


class ServiceCalendar:
    """One service's working days. Overrides are read once per year per instance.

    Make a new instance per operation (the module functions do): an override saved a moment ago is
    then always seen, and a loop over many days still costs one query per year.
    """

    def __init__(self, service: Any) -> None:
        self.service = service
        self.country = _calendar_code(service)
        self._overrides: dict[int, dict[dt.date, bool]] = {}

    def _overrides_for(self, year: int) -> dict[dt.date, bool]:
        if year not in self._overrides:
            self._overrides[year] = dict(
                CalendarOverride.objects.filter(
                    service_id=self.service.pk, date__year=year
                ).values_list("date", "is_working_day")
            )
        return self._overrides[year]

    def is_country_working_day(self, date: dt.date) -> bool:
        if not self.country:
            return date.weekday() < 5
        return _country_holidays(self.country, date.year).is_working_day(date)

    def is_working_day(self, date: dt.date) -> bool:
        override = self._overrides_for(date.year).get(date)
        if override is not None:
            return override
        return self.is_country_working_day(date)

    def add_working_days(self, date: dt.date, n: int) -> dt.date:
        """The n-th working day after `date` (before it when n < 0); n == 0 returns `date`."""
        step = 1 if n >= 0 else -1
        remaining = abs(n)
        day = date
        while remaining:
            day += dt.timedelta(days=step)
            if self.is_working_day(day):
                remaining -= 1
        return day

    def working_days_in_month(self, month: dt.date) -> list[dt.date]:
        first = month.replace(day=1)
        days = []
        day = first
        while day.month == first.month:
            if self.is_working_day(day):
                days.append(day)
            day += dt.timedelta(days=1)
        return days


def is_working_day(service: Any, date: dt.date) -> bool:
    """Whether `date` is a working day of the service (country calendar plus overrides)."""
    return ServiceCalendar(service).is_working_day(date)


def add_working_days(service: Any, date: dt.date, n: int) -> dt.date:
    """The date n working days after `date` (e.g. a "within 3 working days" deadline)."""
    return ServiceCalendar(service).add_working_days(date, n)


def working_days_in_month(service: Any, month: dt.date) -> list[dt.date]:
    """The working days of the month that contains `month`, in order."""
    return ServiceCalendar(service).working_days_in_month(month)


def service_tz(service: Any) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(service.time_zone)


def local_now(service: Any, now: dt.datetime | None = None) -> dt.datetime:
    """The current (or given) moment in the service's time zone."""
    return to_local(service, now or timezone.now())


def to_local(service: Any, value: dt.datetime) -> dt.datetime:
    """An aware datetime converted to the service's time zone."""
    if timezone.is_naive(value):
        raise ValueError("to_local() needs an aware datetime")
    return value.astimezone(service_tz(service))


def make_aware_local(service: Any, date: dt.date, time: dt.time) -> dt.datetime:
    """The aware moment at local `time` on `date` in the service's time zone."""
    return dt.datetime.combine(date, time, tzinfo=service_tz(service))


def local_day_bounds(service: Any, date: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of the local calendar day as aware datetimes."""
    start = make_aware_local(service, date, dt.time(0, 0))
    end = make_aware_local(service, date + dt.timedelta(days=1), dt.time(0, 0))
    return start, end
