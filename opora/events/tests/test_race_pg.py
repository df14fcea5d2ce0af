"""100 registrations at once for 20 places: exactly 20 places and 80 on the waiting list."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection

from opora.accounts.models import Role
from opora.demo.factories import make_service_1411, make_user
from opora.events import services
from opora.events.models import Registration
from opora.events.tests.factories import make_event, phone

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_100_registrations_for_20_places():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")
    service = make_service_1411()
    lead = make_user(Role.CONSULTANT, service=service)
    event = make_event(service, lead, capacity=20)
    barrier = threading.Barrier(100)
    outcomes: Counter = Counter()
    errors: list[str] = []
    lock = threading.Lock()
    # The shared test server takes about 100 connections in all: at most 30 of the 100 threads
    # hold one at a time (the others queue here, not at the event's lock).
    connections = threading.BoundedSemaphore(30)

    def worker(i: int) -> None:
        try:
            barrier.wait(timeout=60)
            with connections:
                try:
                    result = services.registration_create(
                        actor=None, event=event, full_name=f"Участник {i}", phone=phone(i)
                    )
                finally:
                    connection.close()
            outcome = result.registration.status
        except Exception as exc:  # noqa: BLE001 - reported below
            outcome = "error"
            with lock:
                errors.append(f"{type(exc).__name__}: {exc}")
        with lock:
            outcomes[outcome] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(100)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert outcomes == {"confirmed": 20, "waiting": 80}
    rows = Registration.objects.filter(event=event)
    assert rows.filter(status="confirmed").count() == 20
    positions = list(rows.filter(status="waiting").values_list("waiting_position", flat=True))
    assert None not in positions
    assert sorted(p for p in positions if p is not None) == list(range(1, 81))
