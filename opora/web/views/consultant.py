"""The consultant's day: who is booked, when, and why."""

from __future__ import annotations

import datetime as dt

from django.http import HttpResponse

from opora.accounts.policy import Action
from opora.accounts.workplace import StaffRequest
from opora.intake.topics import request_topic
from opora.scheduling import selectors as scheduling_selectors
from opora.web.decorators import role_required
from opora.web.forms import parse_date
from opora.web.views.common import page, today


@role_required(Action.CONSULTATION_DAY)
def day(request: StaffRequest) -> HttpResponse:
    local_today = today(request.service)
    date = parse_date(request.GET.get("date")) or local_today
    bookings = scheduling_selectors.consultant_day(consultant=request.user, date=date)
    for booking in bookings:
        # What the client asked about: their words, or the typical question picked on the portal.
        booking.topic = request_topic(booking.request)  # type: ignore[attr-defined]
    ctx = {
        "nav": "day",
        "date": date,
        "is_today": date == local_today,
        "today": local_today,
        "prev_date": date - dt.timedelta(days=1),
        "next_date": date + dt.timedelta(days=1),
        "bookings": bookings,
    }
    return page(request, "web/consultant/day.html", ctx)
