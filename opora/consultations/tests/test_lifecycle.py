"""The request's lifecycle driven by the consultation: booked → held → done (protocol saved),
no-show, technical failure back to new (one request, counted once); each change audited in the
same transaction as the consultation's own change."""

import datetime as dt

import pytest
from django.utils import timezone

from opora.consultations import services
from opora.consultations.models import Consultation, Protocol, TechnicalFailure, Topic
from opora.consultations.tests.factories import make_live_consultation
from opora.core.errors import DomainError
from opora.core.models import AuditEvent
from opora.intake.models import ServiceRequest
from opora.intake.selectors import services_count
from opora.scheduling.tests.factories import future_working_day, make_slot

pytestmark = pytest.mark.django_db

PROTOCOL = {
    "reason": "Ребёнок не спит по ночам",
    "topic": Topic.FAMILY,
    "solution": "Режим дня",
    "kind": Protocol.Kind.PRIMARY,
}


def _status(consultation: Consultation) -> str:
    return ServiceRequest.objects.get(pk=consultation.booking.request_id).status


def _count(service):
    now = timezone.now()
    return services_count(
        service=service, start=now - dt.timedelta(days=1), end=now + dt.timedelta(days=1)
    )


def test_ended_is_held_and_the_protocol_closes_the_request(service, consultant):
    c = make_live_consultation(service, consultant)
    assert _status(c) == ServiceRequest.Status.BOOKED
    services.consultation_admit(consultation_id=c.pk, actor=consultant)
    services.consultation_end(consultation_id=c.pk, actor=consultant)
    # Held: the consultation says so; the request stays booked until the protocol is written.
    assert _status(c) == ServiceRequest.Status.BOOKED
    services.protocol_save(actor=consultant, consultation=c, **PROTOCOL)
    assert _status(c) == ServiceRequest.Status.DONE
    event = AuditEvent.objects.get(event_type="intake.request_done")
    assert event.extra == {"from": "booked", "to": "done", "consultation_id": c.pk}
    # Correcting the protocol later changes nothing and is not recorded twice.
    services.protocol_save(actor=consultant, consultation=c, solution="Режим дня и прогулки")
    assert AuditEvent.objects.filter(event_type="intake.request_done").count() == 1
    assert _count(service).services == 1


def test_a_failing_close_rolls_the_protocol_back(service, consultant):
    """One transaction: a request that cannot be closed leaves no protocol behind."""
    c = make_live_consultation(service, consultant)
    services.consultation_admit(consultation_id=c.pk, actor=consultant)
    services.consultation_end(consultation_id=c.pk, actor=consultant)
    ServiceRequest.objects.filter(pk=c.booking.request_id).update(status="cancelled")
    with pytest.raises(DomainError) as err:
        services.protocol_save(actor=consultant, consultation=c, **PROTOCOL)
    assert err.value.code == "invalid_status"
    assert not Protocol.objects.exists()


def test_no_show_ends_the_request_and_is_no_service(service, consultant):
    c = make_live_consultation(service, consultant)
    services.consultation_mark_no_show(actor=consultant, consultation=c)
    assert _status(c) == ServiceRequest.Status.NO_SHOW
    assert AuditEvent.objects.filter(
        event_type="intake.request_no_show", extra__consultation_id=c.pk
    ).exists()
    counted = _count(service)
    assert (counted.requests, counted.services, counted.not_services) == (1, 0, 1)


def test_technical_failure_sends_the_request_back_to_new_until_the_head_decides(
    service, consultant
):
    c = make_live_consultation(service, consultant)
    make_slot(service, consultant, future_working_day(service), dt.time(16))
    failure = services.technical_failure_report(
        actor=consultant, consultation=c, cause=TechnicalFailure.Cause.EQUIPMENT
    )
    assert failure.rebooked is None
    assert _status(c) == ServiceRequest.Status.NEW
    assert AuditEvent.objects.filter(event_type="intake.request_reopened").exists()
    # Still one request: counted once, and it waits for the new time.
    assert _count(service).requests == 1


def test_technical_failure_rebooked_keeps_the_request_booked_and_counted_once(service, consultant):
    from opora.accounts.models import Role
    from opora.demo.factories import make_user

    head = make_user(Role.HEAD, service=service)
    c = make_live_consultation(service, consultant)
    later = make_slot(service, consultant, future_working_day(service), dt.time(16))
    failure = services.technical_failure_report(
        actor=consultant, consultation=c, cause=TechnicalFailure.Cause.PLATFORM
    )
    failure = services.technical_failure_accept(actor=head, failure=failure, slot=later)
    assert failure.rebooked is not None
    assert _status(c) == ServiceRequest.Status.BOOKED
    again = services.consultation_for_booking(booking=failure.rebooked)
    services.consultation_admit(consultation_id=again.pk, actor=consultant)
    services.consultation_end(consultation_id=again.pk, actor=consultant)
    services.protocol_save(actor=consultant, consultation=again, **PROTOCOL)
    assert _status(c) == ServiceRequest.Status.DONE
    counted = _count(service)
    assert (counted.requests, counted.services) == (1, 1)


def test_the_data_migration_closes_requests_held_before_the_lifecycle(service, consultant):
    import importlib

    from django.apps import apps

    migration = importlib.import_module(
        "opora.consultations.migrations.0004_close_requests_held_before_the_lifecycle"
    )
    written = make_live_consultation(service, consultant)
    Consultation.objects.filter(pk=written.pk).update(status="ended", ended_at=timezone.now())
    Protocol.objects.create(consultation=written, written_by=consultant, **PROTOCOL)
    missed = make_live_consultation(service, consultant, starts_in=dt.timedelta(hours=-3))
    Consultation.objects.filter(pk=missed.pk).update(status="no_show")
    waiting = make_live_consultation(service, consultant, starts_in=dt.timedelta(hours=3))
    migration.close_held_requests(apps, None)
    assert [_status(c) for c in (written, missed, waiting)] == ["done", "no_show", "booked"]
