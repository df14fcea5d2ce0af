"""Concurrent writers on PostgreSQL, with sealers running at the same time, make one chain: writers
never wait for one another, the sealers take turns on the chain head's row lock, so the numbers
are gapless, each event follows the one before it, and the chain verifies."""

import datetime as dt
import threading

import pytest
from django.db import connection, transaction

from opora.core.audit import AuditEventType, audit_record
from opora.core.audit_chain import audit_chain_verify, audit_seal, audit_seal_now
from opora.core.models import AuditChainHead, AuditEvent
from opora.demo.factories import make_service_1411, make_user

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 12
EACH = 15
SEALERS = 2


def test_concurrent_writers_make_one_gapless_chain():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")
    service = make_service_1411(code="chain-race")
    users = [make_user("operator", username=f"race-{i}") for i in range(THREADS)]
    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def writer(user) -> None:
        try:
            start.wait()
            for i in range(EACH):
                # Half the events as the last write of a longer transaction, half on their own;
                # one of every five transactions rolls back (its number is not used).
                if i % 2:
                    audit_record(
                        actor=user,
                        event_type=AuditEventType.REQUEST_VIEWED,
                        subject=service,
                        extra={"i": i},
                    )
                    continue
                try:
                    with transaction.atomic():
                        audit_record(
                            actor=user,
                            event_type=AuditEventType.ADMIN_CHANGED,
                            subject=service,
                            extra={"i": i},
                        )
                        if i % 5 == 0:
                            raise RuntimeError("rolled back")
                except RuntimeError:
                    pass
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    writing = threading.Event()
    writing.set()

    def sealer() -> None:
        try:
            while writing.is_set():
                audit_seal(grace=dt.timedelta(0), batch_size=7)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    sealers = [threading.Thread(target=sealer) for _ in range(SEALERS)]
    for t in sealers:
        t.start()
    threads = [threading.Thread(target=writer, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    writing.clear()
    for t in sealers:
        t.join()
    audit_seal_now()

    assert errors == []
    rolled_back = len([i for i in range(EACH) if i % 2 == 0 and i % 5 == 0])
    expected = THREADS * (EACH - rolled_back)
    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, expected + 1))
    assert AuditChainHead.objects.get().seq == expected
    report = audit_chain_verify(batch_size=17)  # several batches
    assert report.ok, report.broken
    assert report.checked == expected
