"""One room, one consultation at a time: in-person bookings racing for a room (PostgreSQL)."""

import datetime as dt
import threading
from collections import Counter

import pytest
from django.db import connection

from opora.accounts.models import Role
from opora.core.errors import Conflict
from opora.demo.factories import make_consultant, make_service_1411, make_user
from opora.scheduling import services
from opora.scheduling.models import Booking, ConsultationForm
from opora.scheduling.tests.factories import future_working_day, make_request, make_slot

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def setup():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")
    service = make_service_1411()
    operator = make_user(Role.OPERATOR, service=service)
    coordinator = make_user(Role.COORDINATOR, service=service)
    room = services.place_create(actor=coordinator, service=service, name="Кабинет 1")
    return service, operator, room


def _race(*, actor, pairs) -> tuple[Counter, list[str]]:
    """Each thread books its own request on its own slot, all at once."""
    barrier = threading.Barrier(len(pairs))
    lock = threading.Lock()
    outcomes: Counter = Counter()
    errors: list[str] = []

    def worker(request, slot) -> None:
        result = "error"
        try:
            barrier.wait(timeout=60)
            services.booking_create(actor=actor, request=request, slot=slot)
            result = "booked"
        except Conflict as exc:
            result = exc.code
        except Exception as exc:  # noqa: BLE001 - reported
            with lock:
                errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            connection.close()
        with lock:
            outcomes[result] += 1

    threads = [threading.Thread(target=worker, args=pair) for pair in pairs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return outcomes, errors


@pytest.mark.parametrize("stagger", [0, 10])
def test_eight_consultants_one_room(setup, stagger):
    """Eight consultants' in-person slots in one room, starting together (`stagger` 0) or
    overlapping at different starts (every 10 minutes): exactly one booking gets the room."""
    service, operator, room = setup
    day = future_working_day(service)
    pairs = []
    for i in range(8):
        consultant = make_consultant(service)
        start = (dt.datetime.combine(day, dt.time(14)) + dt.timedelta(minutes=stagger * i)).time()
        slot = make_slot(
            service,
            consultant,
            day,
            start,
            minutes=90,
            form=ConsultationForm.IN_PERSON,
            place=room,
        )
        pairs.append((make_request(service), slot))
    outcomes, errors = _race(actor=operator, pairs=pairs)
    assert errors == []
    assert outcomes["booked"] == 1
    assert outcomes["booked"] + outcomes["room_taken"] + outcomes["slot_taken"] == 8
    assert Booking.objects.filter(place=room, status="active").count() == 1
