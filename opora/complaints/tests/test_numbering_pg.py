"""Complaint numbers under concurrency: twenty complaints filed at once get twenty different
numbers, 0001–0020, with no gap (the counter row is locked; the unique constraint backs it)."""

import threading

import pytest
from django.db import connection

from opora.complaints import deadlines, services
from opora.complaints.models import Complaint
from opora.core.actors import SystemActor
from opora.demo.factories import make_service_1411

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_twenty_at_once_get_twenty_numbers():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")
    service = make_service_1411()
    n = 20
    barrier = threading.Barrier(n)
    errors: list[str] = []
    lock = threading.Lock()

    def worker(i: int) -> None:
        try:
            barrier.wait(timeout=60)
            services.complaint_register(
                actor=SystemActor(name="test"),
                service=service,
                channel=Complaint.Channel.PORTAL,
                text=f"Жалоба {i}",
                complainant_name="Тестова Мария",
                phone=f"+7701555{i:04d}",
                consent=True,
            )
        except Exception as exc:  # noqa: BLE001 - any failure is reported
            with lock:
                errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    year = deadlines.local_date(service).year
    numbers = sorted(Complaint.objects.values_list("number", flat=True))
    assert numbers == [f"Ж-{year}-{i:04d}" for i in range(1, n + 1)]
