"""Scheduling's part of the requests' retention (issue 15): past the request's term, or once the
request is anonymised, its bookings lose the visit address and the cancellation reason (intake's
purger cannot reach them: intake does not import scheduling); the bookings, their slots, statuses
and dates stay for the reports."""

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from opora.core.models import AuditEvent, RetentionRule
from opora.core.retention import retention_run
from opora.intake.models import ServiceRequest
from opora.scheduling.models import Booking
from opora.scheduling.retention import purge_booking_texts
from opora.scheduling.tests.factories import future_working_day, make_request, make_slot

pytestmark = pytest.mark.django_db

ADDRESS = "с. Ретенционное, ул. Садовая, 7"
REASON = "Мама заболела, перенесём"
OLD = dt.timedelta(days=40)
TERM = 30


@pytest.fixture
def booking_of(service, consultant):
    day = future_working_day(service)
    hours = iter(range(9, 18))

    def make(*, age=dt.timedelta(0), address=ADDRESS, reason=REASON, **request) -> Booking:
        req = make_request(service, **request)
        if age:
            ServiceRequest.objects.filter(pk=req.pk).update(created_at=timezone.now() - age)
        return Booking.objects.create(
            slot=make_slot(service, consultant, day, dt.time(next(hours))),
            request=req,
            status=Booking.Status.CANCELLED,
            visit_address=address,
            cancel_reason=reason,
        )

    return make


def test_past_the_term_or_anonymised_the_booking_texts_go(service, booking_of):
    old = booking_of(age=OLD)
    anonymised = booking_of(anonymised_at=timezone.now(), reason="")
    fresh = booking_of()
    booking_of(age=OLD, address="", reason="")  # nothing to blank: not counted
    with connection.cursor() as cursor:  # what is stored is sealed
        cursor.execute(
            "SELECT visit_address, cancel_reason FROM scheduling_booking WHERE visit_address <> ''"
        )
        stored = [v for row in cursor.fetchall() for v in row if v]
    assert len(stored) == 5 and all(v.startswith("enc1:") for v in stored)
    cutoff = timezone.now() - dt.timedelta(days=TERM)

    assert purge_booking_texts(service, cutoff, 100, True) == 2  # a dry run changes nothing
    assert Booking.objects.get(pk=old.pk).visit_address == ADDRESS

    assert purge_booking_texts(service, cutoff, 1, False) == 1  # batched
    assert purge_booking_texts(service, cutoff, 100, False) == 1
    assert purge_booking_texts(service, cutoff, 100, False) == 0  # idempotent

    for booking in (old, anonymised):
        booking.refresh_from_db()
        assert booking.visit_address == booking.cancel_reason == ""
        assert booking.status == Booking.Status.CANCELLED and booking.slot_id
    fresh.refresh_from_db()
    assert (fresh.visit_address, fresh.cancel_reason) == (ADDRESS, REASON)


def test_the_retention_job_runs_it_beside_intakes_purger(service, booking_of, settings):
    settings.OPORA_RETENTION_DAYS = {}
    old = booking_of(age=OLD)
    RetentionRule.objects.create(service=service, kind="requests", days=TERM)

    results = {(r.service, r.kind): r.handled for r in retention_run()}

    # One request anonymised (intake) and its booking's texts blanked (scheduling).
    assert results[(service.code, "requests")] == 2
    old.refresh_from_db()
    assert old.visit_address == old.cancel_reason == ""
    assert ServiceRequest.objects.get(pk=old.request_id).anonymised_at is not None
    event = AuditEvent.objects.get(event_type="retention.applied")
    assert event.extra == {"kind": "requests", "days": TERM, "count": 2}
