"""The head's decision on a technical failure is taken once, whatever the concurrency: two
accepts at the same moment make one new booking (the failure's row lock settles it)."""

import datetime as dt
import threading

import pytest
from django.db import connection

from opora.accounts.models import Role
from opora.consultations import services
from opora.consultations.models import TechnicalFailure
from opora.consultations.tests.factories import make_live_consultation
from opora.core.errors import DomainError
from opora.demo.factories import make_consultant, make_service_1411, make_user
from opora.scheduling.models import Booking
from opora.scheduling.tests.factories import future_working_day, make_slot

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_heads_accept_at_once_one_new_booking():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")
    service = make_service_1411()
    consultant = make_consultant(service)
    heads = [make_user(Role.HEAD, service=service) for _ in range(2)]
    day = future_working_day(service)
    slots = [make_slot(service, consultant, day, dt.time(h)) for h in (15, 16)]
    c = make_live_consultation(service, consultant)
    failure = services.technical_failure_report(actor=consultant, consultation=c, cause="platform")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    lock = threading.Lock()

    def accept(head, slot) -> None:
        result = "error"
        try:
            barrier.wait(timeout=30)
            services.technical_failure_accept(actor=head, failure=failure, slot=slot)
            result = "accepted"
        except DomainError as e:
            result = e.code or "domain"
        except Exception as e:  # noqa: BLE001 - reported in the assertion
            result = f"error {type(e).__name__}: {e}"
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [
        threading.Thread(target=accept, args=(h, s)) for h, s in zip(heads, slots, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes) == ["accepted", "decided"]
    failure.refresh_from_db()
    assert failure.state == TechnicalFailure.State.REBOOKED
    assert Booking.objects.filter(request_id=c.booking.request_id).count() == 2
    assert Booking.objects.filter(request_id=c.booking.request_id, status="active").count() == 1
