"""A client acting through their private link may book, move and cancel only their own request,
and only where the service lets clients book themselves."""

import datetime as dt

import pytest

from opora.core.actors import ClientActor
from opora.core.errors import PermissionDenied
from opora.scheduling import services
from opora.scheduling.models import Booking
from opora.scheduling.tests.factories import future_working_day, make_request, make_slot

pytestmark = pytest.mark.django_db
T = dt.time


def test_client_books_moves_and_cancels_own_request(service, consultant):
    service.allows_self_booking = True
    service.save()
    day = future_working_day(service)
    request = make_request(service)
    me = ClientActor(request_id=request.pk)
    booking = services.booking_create(
        actor=me, request=request, slot=make_slot(service, consultant, day, T(15))
    )
    assert booking.status == Booking.Status.ACTIVE and booking.created_by is None
    moved = services.booking_reschedule(
        actor=me, booking=booking, slot=make_slot(service, consultant, day, T(16))
    )
    cancelled = services.booking_cancel(actor=me, booking=moved)
    assert cancelled.status == Booking.Status.CANCELLED


def test_client_cannot_touch_another_request(service, consultant):
    service.allows_self_booking = True
    service.save()
    mine, theirs = make_request(service), make_request(service)
    slot = make_slot(service, consultant, future_working_day(service), T(15))
    with pytest.raises(PermissionDenied):
        services.booking_create(actor=ClientActor(request_id=mine.pk), request=theirs, slot=slot)
    assert not Booking.objects.exists()


def test_client_cannot_book_where_the_service_does_not_allow_it(service, consultant):
    request = make_request(service)
    slot = make_slot(service, consultant, future_working_day(service), T(15))
    assert not service.allows_self_booking
    with pytest.raises(PermissionDenied):
        services.booking_create(
            actor=ClientActor(request_id=request.pk), request=request, slot=slot
        )
