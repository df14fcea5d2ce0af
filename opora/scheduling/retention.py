"""Scheduling's part of the requests' retention (registered in `SchedulingConfig.ready` under the
kind "requests", run by `core.retention` beside intake's purger, which cannot import scheduling):
past the request's term, or once the request is anonymised, its bookings keep their slot, status
and dates (what reports count) but not the address a visiting consultant went to nor the reason
given for a cancellation."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q

from opora.core.models import Service
from opora.scheduling.models import Booking


def purge_booking_texts(service: Service, cutoff: dt.datetime, limit: int, dry_run: bool) -> int:
    due = Booking.objects.filter(
        Q(request__created_at__lt=cutoff) | Q(request__anonymised_at__isnull=False),
        ~Q(visit_address="") | ~Q(cancel_reason=""),
        request__service=service,
    )
    if dry_run:
        return due.count()
    ids = list(due.order_by("pk").values_list("pk", flat=True)[:limit])
    Booking.objects.filter(pk__in=ids).update(visit_address="", cancel_reason="")
    return len(ids)
