import datetime as dt

import pytest

from opora.core.models import CalendarOverride
from opora.scheduling import calendar
from opora.scheduling.calendar import (
    add_working_days,
    is_working_day,
    local_now,
    make_aware_local,
    to_local,
    working_days_in_month,
)
from opora.scheduling.tests.factories import other_service

D = dt.date


@pytest.mark.django_db
class TestWorkingDays:
    def test_weekdays_work_weekends_rest(self, service):
        assert is_working_day(service, D(2026, 3, 3))  # Tuesday
        assert not is_working_day(service, D(2026, 3, 7))  # Saturday
        assert not is_working_day(service, D(2026, 3, 1))  # Sunday

    def test_kz_public_holidays_2026(self, service):
        assert not is_working_day(service, D(2026, 3, 23))  # Наурыз мейрамы
        assert not is_working_day(service, D(2026, 3, 24))  # Nauryz falls on a weekend: moved
        assert not is_working_day(service, D(2026, 3, 9))  # 8 March on Sunday: moved to Monday
        assert not is_working_day(service, D(2026, 12, 16))  # Independence Day
        assert is_working_day(service, D(2026, 3, 26))

    def test_kz_transferred_working_day_and_substituted_day_off(self, service):
        import holidays

        assert D(2025, 1, 5) in holidays.KZ(years=2025).weekend_workdays
        assert is_working_day(service, D(2025, 1, 5))  # Sunday worked instead of Friday 3 Jan
        assert not is_working_day(service, D(2025, 1, 3))

    def test_override_makes_day_off_and_working_day(self, service):
        CalendarOverride.objects.create(service=service, date=D(2026, 4, 14), is_working_day=False)
        CalendarOverride.objects.create(service=service, date=D(2026, 4, 18), is_working_day=True)
        assert not is_working_day(service, D(2026, 4, 14))  # a Tuesday off for this service
        assert is_working_day(service, D(2026, 4, 18))  # a Saturday worked

    def test_override_is_seen_immediately(self, service):
        day = D(2026, 4, 15)
        assert is_working_day(service, day)
        CalendarOverride.objects.create(service=service, date=day, is_working_day=False)
        assert not is_working_day(service, day)

    def test_override_of_another_service_does_not_apply(self, service):
        other = other_service(service)
        CalendarOverride.objects.create(service=other, date=D(2026, 4, 14), is_working_day=False)
        assert is_working_day(service, D(2026, 4, 14))

    def test_add_working_days_skips_weekends_and_holidays(self, service):
        # Friday 20 March 2026 + 1 working day: 21–25 are weekend and Nauryz, so Thursday 26.
        assert add_working_days(service, D(2026, 3, 20), 1) == D(2026, 3, 26)
        assert add_working_days(service, D(2026, 3, 26), 3) == D(2026, 3, 31)
        assert add_working_days(service, D(2026, 3, 26), -1) == D(2026, 3, 20)
        assert add_working_days(service, D(2026, 3, 26), 0) == D(2026, 3, 26)

    def test_working_days_in_month(self, service):
        days = working_days_in_month(service, D(2026, 3, 15))
        assert D(2026, 3, 9) not in days and D(2026, 3, 23) not in days
        assert days[0] == D(2026, 3, 2) and days[-1] == D(2026, 3, 31)
        assert len(days) == 22 - 4  # 22 weekdays, minus 9, 23, 24, 25 March

    def test_russian_calendar(self, service):
        service.holiday_calendar = "RU"
        service.time_zone = "Europe/Moscow"
        assert not is_working_day(service, D(2026, 1, 5))  # New Year holidays
        assert not is_working_day(service, D(2026, 6, 12))  # Russia Day


@pytest.mark.django_db
class TestLocalTime:
    def test_almaty_is_utc_plus_5_in_2025(self, service):
        moment = make_aware_local(service, D(2025, 6, 2), dt.time(14, 0))
        assert moment.utcoffset() == dt.timedelta(hours=5)
        assert moment.isoformat() == "2025-06-02T14:00:00+05:00"
        assert moment.astimezone(dt.UTC).hour == 9

    def test_to_local_and_local_now(self, service):
        utc = dt.datetime(2025, 6, 2, 12, 45, tzinfo=dt.UTC)
        assert to_local(service, utc).strftime("%H:%M %z") == "17:45 +0500"
        assert local_now(service, utc) == to_local(service, utc)
        assert local_now(service).utcoffset() == dt.timedelta(hours=5)

    def test_to_local_refuses_naive(self, service):
        with pytest.raises(ValueError):
            to_local(service, dt.datetime(2025, 6, 2, 12, 0))

    def test_local_day_bounds(self, service):
        start, end = calendar.local_day_bounds(service, D(2025, 6, 2))
        assert start.astimezone(dt.UTC) == dt.datetime(2025, 6, 1, 19, 0, tzinfo=dt.UTC)
        assert end - start == dt.timedelta(days=1)
