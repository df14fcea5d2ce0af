"""A double-tapped step 2 sent twice at the same moment: one request, one booking, and both
submits answer with the same private link (the database's unique draft key decides)."""

import datetime as dt
import threading

import pytest
from django.db import connection

from opora.demo.factories import make_consultant, make_district_service
from opora.intake.models import ServiceRequest
from opora.portal.selectors import consent_current
from opora.portal.services import PortalRequest, booking_draft_complete
from opora.scheduling.models import Booking
from opora.scheduling.tests.factories import future_working_day, make_slot

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_the_same_draft_submitted_at_once_makes_one_request():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")
    service = make_district_service()
    day = future_working_day(service)
    slots = [make_slot(service, make_consultant(service), day, dt.time(15)) for _ in range(4)]
    consent = consent_current(service)
    data = PortalRequest(full_name="Тестова Анна Петровна", email="anna@example.org")
    threads_count = 4
    barrier = threading.Barrier(threads_count)
    results: list[int] = []
    errors: list[str] = []
    lock = threading.Lock()

    def submit() -> None:
        try:
            barrier.wait(timeout=30)
            req = booking_draft_complete(
                service=service,
                key="same-draft-key-0123456789abcdef",
                data=data,
                consent=consent,
                check_id=None,
                starts_at=slots[0].starts_at,
            )
            with lock:
                results.append(req.pk)
        except Exception as exc:  # noqa: BLE001 - any failure is reported below
            with lock:
                errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(threads_count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert len(results) == threads_count and len(set(results)) == 1
    assert ServiceRequest.objects.count() == 1
    assert Booking.objects.filter(status=Booking.Status.ACTIVE).count() == 1
