"""Scheduling's part of the requests' retention (registered in `SchedulingConfig.ready` under the
kind "requests", run by `core.retention` beside intake's purger, which cannot import scheduling):
past the request's term, or once the request is anonymised, its bookings keep their slot, status
and dates (what reports count) but not the address a visiting consultant went to nor the reason
given for a cancellation."""

from __future__ import annotations

from opora.intake.retention import purge_with_requests
from opora.scheduling.models import Booking

purge_booking_texts = purge_with_requests(Booking, ("visit_address", "cancel_reason"))
