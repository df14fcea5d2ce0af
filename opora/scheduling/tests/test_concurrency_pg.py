"""Races settled by the database: exactly one booking per slot, the others get Conflict."""

import pytest
from django.db import connection

from opora.accounts.models import Role
from opora.demo.factories import make_consultant, make_service_1411, make_user
from opora.scheduling.models import Booking
from opora.scheduling.tests.factories import future_working_day, make_request, make_slot
from opora.scheduling.tests.race import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def setup():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")
    service = make_service_1411()
    operator = make_user(Role.OPERATOR, service=service)
    consultant = make_consultant(service)
    return service, operator, consultant


def test_60_threads_one_slot(setup):
    import datetime as dt

    service, operator, consultant = setup
    slot = make_slot(service, consultant, future_working_day(service), dt.time(15))
    requests = [make_request(service) for _ in range(60)]
    outcomes, errors, booked = race(actor=operator, requests=requests, slots=[slot])
    assert errors == []
    assert outcomes == {"booked": 1, "conflict": 59}
    assert Booking.objects.filter(slot=slot, status="active").count() == 1
    assert Booking.objects.count() == 1


def test_20_threads_five_slots(setup):
    import datetime as dt

    service, operator, consultant = setup
    day = future_working_day(service)
    others = [make_consultant(service) for _ in range(4)]
    slots = [make_slot(service, c, day, dt.time(15)) for c in [consultant, *others]]
    requests = [make_request(service) for _ in range(20)]
    outcomes, errors, booked = race(actor=operator, requests=requests, slots=slots)
    assert errors == []
    assert outcomes == {"booked": 5, "conflict": 15}
    assert sorted(booked) == sorted(s.pk for s in slots)
    assert Booking.objects.filter(status="active").count() == 5


def _hold_slot_lock(slot_id: int):
    """A second PostgreSQL session that holds the slot's row lock (as a booking in progress
    does) until it is closed."""
    other = connection.get_new_connection(connection.get_connection_params())
    other.autocommit = False
    with other.cursor() as cursor:
        cursor.execute("SELECT id FROM scheduling_slot WHERE id = %s FOR UPDATE", [slot_id])
    return other


def test_a_cancel_that_meets_a_lock_says_someone_is_changing_the_booking(setup):
    import datetime as dt

    from django.utils import translation

    from opora.core.errors import Conflict
    from opora.scheduling import services

    service, operator, consultant = setup
    slot = make_slot(service, consultant, future_working_day(service), dt.time(15))
    booking = services.booking_create(actor=operator, request=make_request(service), slot=slot)
    other = _hold_slot_lock(slot.pk)
    try:
        said = {}
        for language in ("ru", "kk", "en"):
            with translation.override(language), pytest.raises(Conflict) as caught:
                services.booking_cancel(actor=operator, booking=booking)
            assert caught.value.code == "booking_busy"
            said[language] = str(caught.value.message)
    finally:
        other.rollback()
        other.close()
    assert said["ru"] == (
        "Эту запись прямо сейчас изменяет кто-то другой; попробуйте ещё раз через несколько секунд."
    )
    assert said["kk"] == (
        "Бұл жазылуды дәл қазір басқа біреу өзгертіп жатыр; бірнеше секундтан кейін қайталап көріңіз."
    )
    assert said["en"] == "Someone else is changing this booking right now; try again in a moment."
    assert "taken" not in said["en"]
    booking.refresh_from_db()
    assert booking.status == Booking.Status.ACTIVE  # nothing was changed by the refused cancel
    # Once the other session is done, the same cancel goes through.
    cancelled = services.booking_cancel(actor=operator, booking=booking)
    assert cancelled.status == Booking.Status.CANCELLED


def test_a_booking_that_meets_a_lock_still_says_the_time_is_taken(setup):
    import datetime as dt

    from opora.core.errors import Conflict
    from opora.scheduling import services

    service, operator, consultant = setup
    slot = make_slot(service, consultant, future_working_day(service), dt.time(15))
    other = _hold_slot_lock(slot.pk)
    try:
        with pytest.raises(Conflict) as caught:
            services.booking_create(actor=operator, request=make_request(service), slot=slot)
    finally:
        other.rollback()
        other.close()
    assert caught.value.code == "slot_taken"
