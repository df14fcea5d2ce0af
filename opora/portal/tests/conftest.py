"""Fixtures for the portal: a Russian district service (regulation 002/004 profile) with slots."""

import datetime as dt

import pytest

from opora.core.models import Service
from opora.core.testing import make_consultant, make_organisation
from opora.scheduling.models import SchedulePeriod
from opora.scheduling.tests.factories import future_working_day, make_slot


@pytest.fixture
def district(db):
    """A Mordovia-like service: anonymous requests and self-booking allowed, no IIN check."""
    org = make_organisation(name="Управление соцзащиты (синтетическое)", country="RU")
    return Service.objects.create(
        code="district",
        name="Дистанционное консультирование семей",
        country="RU",
        time_zone="Europe/Moscow",
        holiday_calendar="RU",
        intake_organisation=org,
        provider_organisation=org,
        channels=["email", "phone", "portal", "telegram"],
        public_email="help@example.org",
        public_phone="+7 834 200 00 00",
        public_description="Консультации психолога и специалиста по социальной работе.",
        complaint_instructions="Жалобу можно направить на help@example.org.",
        allows_anonymous=True,
        allows_self_booking=True,
        recording_policy=Service.RecordingPolicy.CONSENT,
    )


@pytest.fixture
def district_consultant(district):
    return make_consultant(district, last_name="Психологова", first_name="Вера")


@pytest.fixture
def district_slots(district, district_consultant):
    day = future_working_day(district)
    slots = [make_slot(district, district_consultant, day, dt.time(h)) for h in (14, 15, 16)]
    # The approved schedule's period, as the published monthly schedule shows it.
    SchedulePeriod.objects.create(
        schedule=slots[0].schedule, date=day, start_time=dt.time(14), end_time=dt.time(17)
    )
    return slots
