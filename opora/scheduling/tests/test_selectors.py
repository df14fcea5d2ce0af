import datetime as dt

import pytest

from opora.core.models import CalendarOverride
from opora.demo.factories import make_consultant
from opora.scheduling import selectors, services
from opora.scheduling.calendar import make_aware_local
from opora.scheduling.models import Booking, Slot
from opora.scheduling.tests.factories import make_request, make_slot

D, T = dt.date, dt.time
TUE, WED, THU = D(2026, 3, 3), D(2026, 3, 4), D(2026, 3, 5)


@pytest.fixture
def now(service):
    """Frozen "now": Tuesday 3 March 2026, 14:30 in Almaty."""
    return make_aware_local(service, TUE, T(14, 30))


def book(slot, service):
    """An active booking made directly: these tests run at a frozen time in the past."""
    return Booking.objects.create(slot=slot, request=make_request(service))


@pytest.mark.django_db
class TestNearestFree:
    def test_skips_past_booked_and_closed(self, service, consultant, now):
        make_slot(service, consultant, TUE, T(14))  # started before now
        booked = make_slot(service, consultant, TUE, T(15))
        book(booked, service)
        make_slot(service, consultant, TUE, T(16), is_open=False)
        free = make_slot(service, consultant, TUE, T(17))
        assert selectors.slot_nearest_free(service=service, now=now) == free

    def test_cancelled_and_rescheduled_bookings_do_not_hold_a_slot(self, service, consultant, now):
        slot = make_slot(service, consultant, TUE, T(15))
        Booking.objects.create(slot=slot, request=make_request(service), status="cancelled")
        Booking.objects.create(slot=slot, request=make_request(service), status="rescheduled")
        assert selectors.slot_nearest_free(service=service, now=now) == slot

    def test_orders_by_time_then_consultant(self, service, now):
        a, b = make_consultant(service), make_consultant(service)
        later = make_slot(service, a, WED, T(14))
        second = make_slot(service, b, TUE, T(16))
        first = make_slot(service, a, TUE, T(16))
        assert first.consultant_id < second.consultant_id
        assert selectors.slot_nearest_free(service=service, now=now) == first
        assert selectors.slot_nearest_free(service=service, consultant=b, now=now) == second
        after = make_aware_local(service, TUE, T(16))
        assert selectors.slot_nearest_free(service=service, after=after, now=now) == later

    def test_skips_days_off_and_hours_outside_consultation(self, service, consultant, now):
        CalendarOverride.objects.create(service=service, date=WED, is_working_day=False)
        for hour in (14, 15, 16, 17):
            make_slot(service, consultant, WED, T(hour))
        make_slot(service, consultant, THU, T(9))  # outside 14–18 (hours changed since)
        good = make_slot(service, consultant, THU, T(14))
        assert selectors.slot_nearest_free(service=service, now=now) == good

    def test_skips_a_whole_day_off_with_many_consultants(self, service, now):
        consultants = [make_consultant(service) for _ in range(12)]
        CalendarOverride.objects.create(service=service, date=WED, is_working_day=False)
        rows = []
        for c in consultants:
            for hour in (14, 15, 16, 17):
                starts = make_aware_local(service, WED, T(hour))
                rows.append((c, starts))
        schedule_slot = make_slot(service, consultants[0], WED, T(14))
        Slot.objects.bulk_create(
            Slot(
                service=service,
                consultant=c,
                schedule=schedule_slot.schedule,
                starts_at=s,
                ends_at=s + dt.timedelta(hours=1),
            )
            for c, s in rows[1:]
        )
        good = make_slot(service, consultants[5], THU, T(15))
        assert selectors.slot_nearest_free(service=service, now=now) == good

    def test_nothing_free(self, service, consultant, now):
        book(make_slot(service, consultant, WED, T(15)), service)
        assert selectors.slot_nearest_free(service=service, now=now) is None

    def test_query_uses_the_partial_index_on_postgresql(self, service, consultant, now):
        from django.db import connection

        if connection.vendor != "postgresql":
            pytest.skip("plan check for PostgreSQL")
        qs = (
            selectors._free_slots(service)
            .filter(starts_at__gt=now)
            .order_by("starts_at", "consultant_id")[:32]
        )
        with connection.cursor() as cursor:
            # Off too: on these empty, never analysed tables the planner would rather read every
            # active booking once (a bitmap over either partial index) than look each slot up.
            cursor.execute("SET enable_seqscan = off")
            cursor.execute("SET enable_bitmapscan = off")
            plan = qs.explain()
            cursor.execute("RESET enable_bitmapscan")
            cursor.execute("RESET enable_seqscan")
        # slot_free_by_time: the optional partial index when Slot has the `is_booked` flag.
        assert "slot_open_by_time" in plan or "slot_free_by_time" in plan
        assert "booking_one_active_per_slot" in plan


@pytest.mark.django_db
class TestFreeOnDate:
    def test_lists_free_slots_of_that_local_day(self, service, consultant, now):
        other = make_consultant(service)
        s1 = make_slot(service, consultant, WED, T(14))
        s2 = make_slot(service, other, WED, T(14))
        book(make_slot(service, consultant, WED, T(15)), service)
        s3 = make_slot(service, consultant, WED, T(16))
        make_slot(service, consultant, THU, T(14))
        assert selectors.slots_free_on_date(service=service, date=WED, now=now) == [s1, s2, s3]
        assert selectors.slots_free_on_date(
            service=service, date=WED, consultant=other, now=now
        ) == [s2]

    def test_never_earlier_than_the_nearest_free_slot(self, service, consultant, now):
        # Tuesday is fully booked: the nearest free slot is Thursday 15:00.
        book(make_slot(service, consultant, WED, T(14)), service)
        book(make_slot(service, consultant, THU, T(14)), service)
        nearest = make_slot(service, consultant, THU, T(15))
        later = make_slot(service, consultant, THU, T(16))
        assert selectors.slot_nearest_free(service=service, now=now) == nearest
        assert selectors.slots_free_on_date(service=service, date=WED, now=now) == []
        assert selectors.slots_free_on_date(service=service, date=TUE, now=now) == []
        assert selectors.slots_free_on_date(service=service, date=THU, now=now) == [
            nearest,
            later,
        ]

    def test_day_off_has_no_slots(self, service, consultant, now):
        make_slot(service, consultant, WED, T(14))
        slot = make_slot(service, consultant, THU, T(14))
        CalendarOverride.objects.create(service=service, date=THU, is_working_day=False)
        assert selectors.slots_free_on_date(service=service, date=THU, now=now) == []
        assert slot.pk


@pytest.mark.django_db
def test_booking_get_not_found():
    from opora.core.errors import NotFound

    with pytest.raises(NotFound):
        selectors.booking_get(booking_id=999999)


@pytest.mark.django_db
def test_free_after_booking_through_the_service(service, operator, consultant):
    from opora.scheduling.tests.factories import future_working_day

    day = future_working_day(service)
    first = make_slot(service, consultant, day, T(14))
    second = make_slot(service, consultant, day, T(15))
    assert selectors.slot_nearest_free(service=service) == first
    services.booking_create(actor=operator, request=make_request(service), slot=first)
    assert selectors.slot_nearest_free(service=service) == second
