"""Fixtures for the portal: a Russian district service (regulation 002/004 profile) with slots."""

import datetime as dt

import pytest

from opora.demo.factories import make_consultant, make_district_service
from opora.scheduling.models import SchedulePeriod
from opora.scheduling.tests.factories import future_working_day, make_slot


@pytest.fixture
def district(db):
    """A Mordovia-like service: anonymous requests and self-booking allowed, no IIN check."""
    return make_district_service()


@pytest.fixture
def district_consultant(district):
    return make_consultant(district, last_name="Психологова", first_name="Вера")


@pytest.fixture
def district_slots(district, district_consultant):
    day = future_working_day(district)
    slots = [make_slot(district, district_consultant, day, dt.time(h)) for h in (14, 15, 16)]
    # The approved schedule's period, as the published monthly schedule shows it.
    SchedulePeriod.objects.create(
        schedule=slots[0].schedule,  # type: ignore[misc]  # make_slot always gives a schedule
        date=day,
        start_time=dt.time(14),
        end_time=dt.time(17),
    )
    return slots
