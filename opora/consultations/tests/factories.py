"""Test data for consultation rooms: a booking whose slot runs around a given moment. Synthetic."""

import datetime as dt

from django.utils import timezone

from opora.consultations.models import Consultation
from opora.consultations.services import consultation_for_booking
from opora.intake.models import ServiceRequest
from opora.scheduling.models import Booking, Schedule, Slot
from opora.scheduling.tests.factories import make_request


def make_live_consultation(
    service, consultant, *, starts_in: dt.timedelta = dt.timedelta(minutes=-5), minutes: int = 60
) -> Consultation:
    """A consultation whose slot starts `starts_in` from now (negative: already running)."""
    starts = timezone.now().replace(microsecond=0) + starts_in
    local = starts.astimezone(service.tz)
    schedule, _ = Schedule.objects.get_or_create(
        service=service,
        consultant=consultant,
        month=local.date().replace(day=1),
        defaults={"status": Schedule.Status.APPROVED},
    )
    slot = Slot.objects.create(
        service=service,
        consultant=consultant,
        schedule=schedule,
        starts_at=starts,
        ends_at=starts + dt.timedelta(minutes=minutes),
        is_booked=True,
    )
    request = make_request(service)
    # As booking_create leaves it: the request is booked while its booking is active.
    ServiceRequest.objects.filter(pk=request.pk).update(status=ServiceRequest.Status.BOOKED)
    request.status = ServiceRequest.Status.BOOKED
    booking = Booking.objects.create(slot=slot, request=request)
    return consultation_for_booking(booking=booking)
