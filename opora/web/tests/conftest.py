"""Data for the staff-screen tests: a registry row that makes a caller eligible, and approved
slots on a future working weekday of the 1411 service (14:00–18:00 Asia/Almaty)."""

import datetime as dt

import pytest

from opora.demo.factories import make_registry_record
from opora.registry.iin import make_iin
from opora.registry.models import RegistryRecord
from opora.scheduling.calendar import is_working_day, local_now, make_aware_local
from opora.scheduling.models import Schedule, SchedulePeriod, Slot

PARENT_NAME = ("Ахметова", "Айгерим", "Сериковна")
PASSWORD = "pass-Word-123"


def _iin(birth: dt.date, sex: str, start: int) -> str:
    serial = start
    while (value := make_iin(birth, sex, serial)) is None:
        serial += 1
    return value


@pytest.fixture
def parent_iin() -> str:
    return _iin(dt.date(1988, 3, 14), "F", 1234)


@pytest.fixture
def child_iin() -> str:
    return _iin(dt.date(2016, 9, 2), "M", 4321)


@pytest.fixture
def registry_parent(db, parent_iin, child_iin) -> RegistryRecord:
    last, first, patronymic = PARENT_NAME
    return make_registry_record(
        source="cbd",
        iin=parent_iin,
        child_iin=child_iin,
        last_name=last,
        first_name=first,
        patronymic=patronymic,
        relation="мать",
        status="active",
    )


@pytest.fixture
def slot_day(service) -> dt.date:
    """A working weekday at least a week ahead (never today: slots must be in the future)."""
    day = local_now(service).date() + dt.timedelta(days=7)
    while not is_working_day(service, day):
        day += dt.timedelta(days=1)
    return day


def make_slots(service, consultant, day: dt.date, hours=(14, 15, 16, 17)) -> list[Slot]:
    month = day.replace(day=1)
    schedule, _ = Schedule.objects.get_or_create(
        service=service,
        consultant=consultant,
        month=month,
        defaults={"status": Schedule.Status.APPROVED},
    )
    SchedulePeriod.objects.get_or_create(
        schedule=schedule,
        date=day,
        start_time=dt.time(hours[0]),
        defaults={"end_time": dt.time(hours[-1] + 1)},
    )
    return [
        Slot.objects.create(
            service=service,
            consultant=consultant,
            schedule=schedule,
            starts_at=make_aware_local(service, day, dt.time(h)),
            ends_at=make_aware_local(service, day, dt.time(h + 1)),
        )
        for h in hours
    ]


@pytest.fixture
def slots(service, consultant, slot_day) -> list[Slot]:
    return make_slots(service, consultant, slot_day)


@pytest.fixture
def operator_client(client, operator):
    client.force_login(operator)
    return client
