"""`/api/v1/events` and `/api/v1/certificates`: create an event, register, read attendance,
check a certificate.

Built like `opora.surveys.api`: the API (`opora.api`, above this app) mounts the router with its
own error bodies (`make_router(WRITE_ERRORS)`). A registration that finds the event full answers
409 with its place on the waiting list (it keeps that place); registering again with the same
contact answers 200 with the same registration.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Path, Router, Schema, Status

from opora.accounts.models import User
from opora.accounts.specialties import LanguageCode
from opora.core.errors import NotFound
from opora.core.models import Service
from opora.events import notices, selectors, services
from opora.events.access import require_event_staff
from opora.events.models import Event


class EventIn(Schema):
    service: str = Field(..., max_length=50, description="Service code, e.g. kz-1411.")
    kind: Event.Kind
    title_ru: str = Field(..., min_length=1, max_length=300)
    title_kk: str = Field("", max_length=300)
    title_en: str = Field("", max_length=300)
    description_ru: str = Field("", max_length=5000)
    starts_at: dt.datetime
    duration_minutes: int = Field(..., ge=5, le=1440)
    capacity: int = Field(..., ge=1, le=10000)
    language: LanguageCode = LanguageCode.RUSSIAN
    audience: str = Field("", max_length=300)
    lead: int | None = Field(None, description="The lead consultant's user id (default: you).")


class EventOut(Schema):
    id: int
    service: str
    kind: str
    title: str
    starts_at: dt.datetime
    duration_minutes: int
    capacity: int
    places_left: int
    register_url: str


class RegistrationIn(Schema):
    full_name: str = Field("", max_length=300)
    email: str = Field("", max_length=254)
    phone: str = Field("", max_length=32)
    anonymous: bool = False


class RegistrationOut(Schema):
    id: int
    status: str
    join_link: str
    code: str


class WaitingOut(Schema):
    detail: str
    code: str
    waiting_position: int
    link: str


class AttendanceRow(Schema):
    registration: int
    name: str
    joined_at: dt.datetime | None
    left_at: dt.datetime | None


class AttendanceOut(Schema):
    items: list[AttendanceRow]


class CertificateOut(Schema):
    code: str
    full_name: str
    event_title: str
    event_date: dt.date
    hours: float
    service_name: str


CERTIFICATE_CODE = Path(..., pattern=r"^[A-Za-z0-9]{1,32}$")


def _event(pk: int) -> Event:
    try:
        return selectors.event_get(pk=pk)
    except NotFound:
        raise NotFound(_("Event %(id)s not found.") % {"id": pk}) from None


def _event_out(event: Event) -> dict[str, Any]:
    from django.urls import reverse

    from opora.core.links import public_url

    return {
        "id": event.pk,
        "service": event.service.code,
        "kind": event.kind,
        "title": event.title,
        "starts_at": event.starts_at,
        "duration_minutes": event.duration_minutes,
        "capacity": event.capacity,
        "places_left": selectors.places_left(event),
        "register_url": public_url(reverse("events:register", args=[event.pk])),
    }


def make_router(errors: dict[int, Any]) -> Router:
    """The events and certificates routes; `errors` maps each error status to its body schema."""
    router = Router(tags=["events"])
    without_conflict = {k: v for k, v in errors.items() if k != 409}

    @router.post("/events", response={201: EventOut, **errors})
    def event_create(request: HttpRequest, data: EventIn) -> Status[dict]:
        """Create an event of a service you work for (staff: consultant, head, coordinator)."""
        user = require_event_staff(request.auth)  # type: ignore[attr-defined]
        service = Service.objects.filter(code=data.service.strip(), is_active=True).first()
        if service is None:
            raise NotFound(_("Unknown service “%(code)s”.") % {"code": data.service})
        require_event_staff(user, service=service)
        lead = user
        if data.lead is not None:
            chosen = User.objects.filter(pk=data.lead, is_active=True).first()
            if chosen is None:
                raise NotFound(_("Consultant %(id)s not found.") % {"id": data.lead})
            lead = chosen
        event = services.event_create(
            actor=user,
            service=service,
            kind=data.kind.value,
            title_ru=data.title_ru,
            title_kk=data.title_kk,
            title_en=data.title_en,
            description_ru=data.description_ru,
            starts_at=data.starts_at,
            duration_minutes=data.duration_minutes,
            capacity=data.capacity,
            language=data.language.value,
            audience=data.audience,
            lead=lead,
        )
        return Status(201, _event_out(event))

    @router.post(
        "/events/{event_id}/registrations",
        response={200: RegistrationOut, 201: RegistrationOut, 409: WaitingOut, **without_conflict},
    )
    def event_register(request: HttpRequest, event_id: int, data: RegistrationIn) -> Status[dict]:
        """Register a participant: 201 with their join link; 409 when the event is full, with
        their place on the waiting list (kept); 200 when the contact was already registered."""
        user = require_event_staff(request.auth)  # type: ignore[attr-defined]
        event = _event(event_id)
        require_event_staff(user, event)
        result = services.registration_create(
            actor=user,
            event=event,
            full_name=data.full_name,
            email=data.email,
            phone=data.phone,
            anonymous=data.anonymous,
        )
        registration = result.registration
        link = notices.private_link(registration)
        if result.waiting:
            return Status(
                409,
                {
                    "detail": _("All places are taken: number %(n)s on the waiting list.")
                    % {"n": registration.waiting_position},
                    "code": "waiting_list",
                    "waiting_position": registration.waiting_position,
                    "link": link,
                },
            )
        body = {
            "id": registration.pk,
            "status": registration.status,
            "join_link": link,
            "code": registration.code,
        }
        return Status(201 if result.created else 200, body)

    @router.get("/events/{event_id}/attendance", response={200: AttendanceOut, **errors})
    def event_attendance(request: HttpRequest, event_id: int) -> dict:
        """The participants with a place, with their first join and last leave (null: not
        joined, or still in the room)."""
        user = require_event_staff(request.auth)  # type: ignore[attr-defined]
        event = _event(event_id)
        require_event_staff(user, event)
        return {"items": selectors.event_attendance(event=event)}

    @router.get("/certificates/{code}", response={200: CertificateOut, **errors})
    def certificate_check(request: HttpRequest, code: str = CERTIFICATE_CODE) -> dict:
        """What the certificate with `code` says, or 404 (with no hint of any other code)."""
        try:
            certificate = selectors.certificate_by_code(code=code)
        except NotFound:
            raise NotFound(_("Certificate not found.")) from None
        return {
            "code": certificate.code,
            "full_name": certificate.full_name,
            "event_title": certificate.event_title,
            "event_date": certificate.event_date,
            "hours": float(certificate.hours),
            "service_name": certificate.service_name,
        }

    return router
