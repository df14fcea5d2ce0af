"""The short link in a notice (/l/<code>): one tap from an SMS or a letter to where the person
acts, decided when the link is followed.

A booked request's link opens the consultation room's join page while the room is open (from
`JOIN_EARLY` before the start until the end) and the request's private page otherwise, where
its status, the booking and the ways to change it are. An unknown or expired code gets the
portal's kind "this page cannot be opened" page (404), never an error.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe

from opora.consultations.selectors import JOIN_EARLY, link_problem
from opora.consultations.services import consultation_for_booking
from opora.intake.models import ServiceRequest
from opora.notifications.selectors import shortlink_get
from opora.portal.selectors import booking_active

REQUEST_TARGET = ServiceRequest._meta.label_lower


def _private(response: HttpResponse) -> HttpResponse:
    # Where it leads is a bearer secret: never cached, indexed or sent on as a referrer.
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _gone(request: HttpRequest) -> HttpResponse:
    return _private(render(request, "portal/not_found.html", {}, status=404))


def request_destination(service_request: ServiceRequest) -> str:
    """Where a booked request's link leads now: the room's join page while it is open, the
    request's private page otherwise ("" if the request has no private page)."""
    if not service_request.public_token:
        return ""
    booking = booking_active(request=service_request)
    if booking is not None:
        now = timezone.now()
        slot = booking.slot
        if slot.starts_at - JOIN_EARLY <= now < slot.ends_at:
            consultation = consultation_for_booking(booking=booking)
            if link_problem(consultation, now=now) is None:
                return reverse("consultations:client_entry", args=[consultation.client_token])
    return reverse("portal:follow", args=[service_request.public_token])


@require_safe
def follow_short_link(request: HttpRequest, code: str) -> HttpResponse:
    link = shortlink_get(code=code)
    if link is None:
        return _gone(request)
    destination = ""
    if link.target_type == REQUEST_TARGET:
        service_request = (
            ServiceRequest.objects.filter(pk=int(link.target_id)).only("pk", "public_token").first()
            if link.target_id.isdigit()
            else None
        )
        if service_request is not None:
            destination = request_destination(service_request)
    elif link.path.startswith("/") and not link.path.startswith("//"):
        destination = link.path
    if not destination:
        return _gone(request)
    return _private(HttpResponseRedirect(destination))
