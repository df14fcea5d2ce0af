"""Races settled by the database: exactly one booking per slot, the others get Conflict."""

import pytest
from django.db import connection

from opora.accounts.models import Role
from opora.core.testing import make_consultant, make_service_1411, make_user
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
