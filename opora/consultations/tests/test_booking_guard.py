"""A booking whose consultation was held, or whose request ended (done, no-show), is the record of
what happened: scheduling refuses to move or cancel it (Conflict, 409 in the API), whoever asks."""

import datetime as dt

import pytest
from django.utils import translation

from opora.consultations import services
from opora.consultations.models import Consultation, Protocol, Topic
from opora.consultations.tests.factories import make_live_consultation
from opora.core.actors import ClientActor
from opora.core.errors import Conflict
from opora.intake.models import ServiceRequest
from opora.scheduling import services as scheduling
from opora.scheduling.models import Booking
from opora.scheduling.tests.factories import future_working_day, make_slot

pytestmark = pytest.mark.django_db

PROTOCOL = {
    "reason": "Ребёнок не спит по ночам",
    "topic": Topic.FAMILY,
    "solution": "Режим дня",
    "kind": Protocol.Kind.PRIMARY,
}


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def later(service, consultant):
    return make_slot(service, consultant, future_working_day(service), dt.time(15))


def _held(service, consultant) -> Consultation:
    c = make_live_consultation(service, consultant)
    services.consultation_admit(consultation_id=c.pk, actor=consultant)
    services.consultation_end(consultation_id=c.pk, actor=consultant)
    return c


def _unchanged(c: Consultation, status: str) -> None:
    booking = Booking.objects.get(pk=c.booking_id)
    assert booking.status == Booking.Status.ACTIVE and booking.replaced_by_id is None
    assert ServiceRequest.objects.get(pk=booking.request_id).status == status
    assert booking.slot.is_booked


def test_a_held_consultation_is_neither_moved_nor_cancelled(service, consultant, operator, later):
    c = _held(service, consultant)
    with pytest.raises(Conflict) as moved:
        scheduling.booking_reschedule(actor=operator, booking=c.booking, slot=later)
    assert moved.value.code == "consultation_held"
    assert "The consultation has been held" in str(moved.value.message)
    with pytest.raises(Conflict) as cancelled:
        scheduling.booking_cancel(actor=operator, booking=c.booking)
    assert cancelled.value.code == "consultation_held"
    # The client on the portal meets the same rule.
    service.allows_self_booking = True
    service.save(update_fields=["allows_self_booking"])
    with pytest.raises(Conflict):
        scheduling.booking_cancel(
            actor=ClientActor(request_id=c.booking.request_id), booking=c.booking
        )
    _unchanged(c, ServiceRequest.Status.BOOKED)
    later.refresh_from_db()
    assert not later.is_booked


def test_a_closed_request_keeps_its_booking(service, consultant, operator, later):
    c = _held(service, consultant)
    services.protocol_save(actor=consultant, consultation=c, **PROTOCOL)
    for attempt in (
        lambda: scheduling.booking_reschedule(actor=operator, booking=c.booking, slot=later),
        lambda: scheduling.booking_cancel(actor=operator, booking=c.booking),
    ):
        with pytest.raises(Conflict) as err:
            attempt()
        assert err.value.code == "request_ended"
        assert "The request is “Done”" in str(err.value.message)
    _unchanged(c, ServiceRequest.Status.DONE)


def test_a_no_show_keeps_its_booking(service, consultant, operator, later):
    c = make_live_consultation(service, consultant)
    services.consultation_mark_no_show(actor=consultant, consultation=c)
    with pytest.raises(Conflict) as err:
        scheduling.booking_reschedule(actor=operator, booking=c.booking, slot=later)
    assert err.value.code == "request_ended"
    assert "“Client did not come”" in str(err.value.message)
    with pytest.raises(Conflict):
        scheduling.booking_cancel(actor=operator, booking=c.booking)
    _unchanged(c, ServiceRequest.Status.NO_SHOW)


def test_the_message_is_translated(service, consultant, operator, later):
    c = _held(service, consultant)
    with translation.override("ru"), pytest.raises(Conflict) as err:
        scheduling.booking_cancel(actor=operator, booking=c.booking)
    assert "Консультация проведена" in str(err.value.message)


def test_before_the_end_the_booking_still_moves_and_cancels(service, consultant, operator, later):
    """Waiting or in progress is not held; a technical failure still moves the booking."""
    c = make_live_consultation(service, consultant)
    services.consultation_admit(consultation_id=c.pk, actor=consultant)
    moved = scheduling.booking_reschedule(actor=operator, booking=c.booking, slot=later)
    assert moved.slot_id == later.pk
    scheduling.booking_cancel(actor=operator, booking=moved)
    assert ServiceRequest.objects.get(pk=moved.request_id).status == ServiceRequest.Status.CANCELLED


def test_a_failed_consultation_is_moved_when_the_head_accepts(service, consultant, later):
    from opora.accounts.models import Role
    from opora.demo.factories import make_user

    c = make_live_consultation(service, consultant)
    services.consultation_admit(consultation_id=c.pk, actor=consultant)
    failure = services.technical_failure_report(actor=consultant, consultation=c, cause="platform")
    head = make_user(Role.HEAD, service=service)
    failure = services.technical_failure_accept(actor=head, failure=failure, slot=later)
    assert failure.rebooked is not None and failure.rebooked.slot_id == later.pk
