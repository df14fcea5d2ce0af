"""The REST API under `/api/v1/` for the call-centre software, registries and other integrations.

Endpoints are thin: parse input, check the caller's role and service, call a service or selector,
render. Authentication: `Authorization: Bearer <token>` (see `opora create_api_token`).
"""

import datetime as dt
from typing import Any

from django.db.models import prefetch_related_objects
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Status
from ninja.operation import Operation
from ninja.params.functions import Query  # what `ninja.Query(...)` calls; typed for mypy

from opora.accounts.models import User
from opora.accounts.policy import Action, require
from opora.api.auth import BearerAuth
from opora.api.errors import install_exception_handlers
from opora.api.schemas import (
    BookingIn,
    BookingOut,
    CancelIn,
    EligibilityIn,
    EligibilityOut,
    ErrorOut,
    InvalidOut,
    RequestIn,
    RequestOut,
    RescheduleIn,
    SlotListOut,
    SlotOut,
    ValidationErrorOut,
)
from opora.core.errors import DomainError, NotFound
from opora.core.inputs import check_date
from opora.core.models import Region, Service
from opora.events.api import make_router as make_events_router
from opora.intake import selectors as intake_selectors
from opora.intake import services as intake_services
from opora.intake.models import ServiceRequest
from opora.registry import services as registry_services
from opora.registry.iin import validate_iin
from opora.registry.models import EligibilityCheck
from opora.scheduling import selectors as scheduling_selectors
from opora.scheduling import services as scheduling_services
from opora.scheduling.models import Booking, Slot
from opora.surveys.api import make_router as make_survey_router


class OporaAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation: Operation) -> str:
        # Stable, readable ids for generated clients: the endpoint function's name.
        return operation.view_func.__name__


api = OporaAPI(
    title="Opora API",
    version="1",
    description=(
        "Eligibility checks, free slots, requests and bookings of the Opora support services. "
        "Send `Authorization: Bearer <token>`; tokens are issued with `opora create_api_token`. "
        'Errors are `{"detail": message, "code": code}`; datetimes are ISO 8601 in the '
        "service's time zone."
    ),
    urls_namespace="api",
    auth=BearerAuth(),
)
install_exception_handlers(api)
api.add_router("/reports/", "opora.reports.api.router")  # the 1411 forms (issue 11)

# Who may do what is the access policy's (opora.accounts.policy, docs/SECURITY.md): the intake
# routes are `intake.api` (regulation 001: the call-centre operator, backed by the coordinator and
# head); the authority sees aggregates only, never personal data.

# Every status a route can answer, with the body actually sent (schemathesis checks it in CI:
# opora/api/tests/test_schemathesis.py).
ERRORS = {
    400: InvalidOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    422: ValidationErrorOut,
}
# Routes that write can also meet a conflict (a slot just taken, a row locked by another request).
WRITE_ERRORS = {**ERRORS, 409: ErrorOut}


# A service code in the query: required, as long as the column (a longer one is a 422 naming it).
SERVICE_CODE = Query(..., max_length=50, description="Service code, e.g. kz-1411.")


api.add_router("/instruments", make_survey_router(WRITE_ERRORS))
api.add_router("", make_events_router(WRITE_ERRORS))  # /events, /certificates (issue 14)


# --- access and look-ups --------------------------------------------------------------------------


def _actor(request: HttpRequest, action: Action) -> User:
    """The token's user, when the policy lets their role take `action` at all (else 403)."""
    # ninja sets `request.auth` to what BearerAuth.authenticate returned (the token's User);
    # Django's HttpRequest does not declare it.
    user: User = request.auth  # type: ignore[attr-defined]
    require(user, action)
    return user


def _service(code: str) -> Service:
    service = Service.objects.filter(code=code.strip(), is_active=True).first()
    if service is None:
        raise NotFound(_("Unknown service “%(code)s”.") % {"code": code})
    return service


def _eligibility_service(code: str | None) -> Service:
    if code:
        return _service(code)
    checking = Service.objects.filter(is_active=True).exclude(
        eligibility_rule=Service.Eligibility.NONE
    )
    candidates = list(checking[:2])
    if len(candidates) != 1:
        raise DomainError(
            _("Specify the service: there is no single service that checks eligibility."),
            code="service_required",
        )
    return candidates[0]


def _consultant(consultant_id: int | None) -> User | None:
    if consultant_id is None:
        return None
    consultant = User.objects.filter(pk=consultant_id, is_active=True).first()
    if consultant is None:
        raise NotFound(_("Consultant %(id)s not found.") % {"id": consultant_id})
    return consultant


def _region(code: str | None) -> Region | None:
    if not code or not code.strip():
        return None
    region = Region.objects.filter(code__iexact=code.strip()).first()
    if region is None:
        raise DomainError(
            _("Unknown region “%(code)s”; use a region code such as KZ-75.") % {"code": code},
            code="unknown_region",
        )
    return region


def _request(request_id: int) -> ServiceRequest:
    obj = ServiceRequest.objects.select_related("service", "region").filter(pk=request_id).first()
    if obj is None:
        raise NotFound(_("Request %(id)s not found.") % {"id": request_id})
    return obj


def _slot(slot_id: int) -> Slot:
    slot = Slot.objects.select_related("service", "consultant").filter(pk=slot_id).first()
    if slot is None:
        raise NotFound(_("Slot %(id)s not found.") % {"id": slot_id})
    return slot


def _booking(booking_id: int) -> Booking:
    booking = (
        Booking.objects.select_related("slot__service", "slot__consultant", "request__service")
        .filter(pk=booking_id)
        .first()
    )
    if booking is None:
        raise NotFound(_("Booking %(id)s not found.") % {"id": booking_id})
    return booking


def _booking_for_reading(user: User, booking_id: int) -> Booking:
    booking = _booking(booking_id)
    # A consultant may see the bookings of their own slots; intake roles those of their service.
    require(user, Action.BOOKING_VIEW, booking)
    return booking


# --- eligibility ----------------------------------------------------------------------------------


@api.post("/eligibility/check", response={200: EligibilityOut, **ERRORS}, tags=["eligibility"])
def eligibility_check(request: HttpRequest, data: EligibilityIn) -> dict[str, Any]:
    """Check an IIN and full name against ЦБД/ЦБДИ (regulation 001 §3). Every check is recorded."""
    user = _actor(request, Action.ELIGIBILITY_CHECK)
    service = _eligibility_service(data.service)
    require(user, Action.ELIGIBILITY_CHECK, service=service)
    result = registry_services.eligibility_check(
        actor=user, service=service, iin=data.iin, full_name=data.full_name
    )
    return {
        "eligible": result.eligible,
        "reason": result.reason,
        "message": str(result.message),
        "check_id": result.check.pk,
    }


# --- slots ----------------------------------------------------------------------------------------


@api.get("/slots", response={200: SlotListOut, **ERRORS}, tags=["slots"])
def slots_on_date(
    request: HttpRequest, date: dt.date, service: str = SERVICE_CODE, consultant: int | None = None
) -> dict[str, Any]:
    """Free slots of a service on a date (the service's local calendar day)."""
    user = _actor(request, Action.SLOTS_VIEW)
    check_date(date)  # years 1900-2100: 400 with the message, never an overflow
    svc = _service(service)
    require(user, Action.SLOTS_VIEW, service=svc)
    slots = scheduling_selectors.slots_free_on_date(
        service=svc, date=date, consultant=_consultant(consultant)
    )
    prefetch_related_objects(slots, "consultant", "service")
    return {"items": slots}


@api.get(
    "/slots/nearest", response={200: SlotOut, **ERRORS}, tags=["slots"], summary="Nearest free slot"
)
def slot_nearest(
    request: HttpRequest, service: str = SERVICE_CODE, consultant: int | None = None
) -> Slot:
    """The nearest free slot — the operator offers no earlier time (regulation 001)."""
    user = _actor(request, Action.SLOTS_VIEW)
    svc = _service(service)
    require(user, Action.SLOTS_VIEW, service=svc)
    slot = scheduling_selectors.slot_nearest_free(service=svc, consultant=_consultant(consultant))
    if slot is None:
        raise NotFound(_("No free slots"), code="no_free_slots")
    return slot


# --- requests -------------------------------------------------------------------------------------


@api.post("/requests", response={201: RequestOut, **WRITE_ERRORS}, tags=["requests"])
def request_create(request: HttpRequest, data: RequestIn) -> Status[ServiceRequest]:
    """Register a request (заявка). Where the service checks eligibility, an ineligible caller gets
    400 with code "ineligible" and the scripted refusal in `detail`."""
    user = _actor(request, Action.INTAKE_API)
    service = _service(data.service)
    require(user, Action.INTAKE_API, service=service)
    eligibility = None
    if data.eligibility_check is not None:
        eligibility = EligibilityCheck.objects.filter(pk=data.eligibility_check).first()
        if eligibility is None:
            raise NotFound(
                _("Eligibility check %(id)s not found.") % {"id": data.eligibility_check}
            )
    # Parse the IIN here so that a malformed one is a 422 naming the problem, as on
    # /eligibility/check (request_create reports it as a generic 400).
    iin = validate_iin(data.iin) if data.iin.strip() else ""
    desired_at = data.desired_at
    if desired_at is not None and timezone.is_naive(desired_at):
        desired_at = timezone.make_aware(desired_at, service.tz)
    created = intake_services.request_create(
        actor=user,
        service=service,
        full_name=data.full_name,
        iin=iin,
        phone=data.phone,
        phone_extra=data.phone_extra,
        email=data.email,
        region=_region(data.region),
        desired_at=desired_at,
        reason=data.reason,
        channel=data.channel.value,
        eligibility_check=eligibility,
    )
    return Status(201, created)


@api.get("/requests/{request_id}", response={200: RequestOut, **ERRORS}, tags=["requests"])
def request_detail(request: HttpRequest, request_id: int) -> ServiceRequest:
    """A request with the client's data; the read is recorded in the audit log."""
    user = _actor(request, Action.INTAKE_API)
    # One of the actor's services or 404; the selector records the read (`request.viewed`).
    try:
        return intake_selectors.request_get_for_view(actor=user, pk=request_id, via="api")
    except NotFound:
        raise NotFound(_("Request %(id)s not found.") % {"id": request_id}) from None


# --- bookings -------------------------------------------------------------------------------------


@api.post("/bookings", response={201: BookingOut, **WRITE_ERRORS}, tags=["bookings"])
def booking_create(request: HttpRequest, data: BookingIn) -> Status[Booking]:
    """Book a slot for a request: 409 when the slot is taken, 400 outside hours, on a holiday or in
    the past."""
    user = _actor(request, Action.INTAKE_API)
    service_request = _request(data.request)
    require(user, Action.INTAKE_API, service_request)
    slot = _slot(data.slot)
    booking = scheduling_services.booking_create(actor=user, request=service_request, slot=slot)
    return Status(201, booking)


@api.get("/bookings/{booking_id}", response={200: BookingOut, **ERRORS}, tags=["bookings"])
def booking_detail(request: HttpRequest, booking_id: int) -> Booking:
    user = _actor(request, Action.BOOKING_VIEW)
    return _booking_for_reading(user, booking_id)


@api.post(
    "/bookings/{booking_id}/reschedule",
    response={200: BookingOut, **WRITE_ERRORS},
    tags=["bookings"],
)
def booking_reschedule(request: HttpRequest, booking_id: int, data: RescheduleIn) -> Booking:
    """Move a booking to another slot; returns the new booking, whose `replaces` is the old one."""
    user = _actor(request, Action.INTAKE_API)
    booking = _booking(booking_id)
    require(user, Action.INTAKE_API, booking)
    slot = _slot(data.slot)
    return scheduling_services.booking_reschedule(actor=user, booking=booking, slot=slot)


@api.post(
    "/bookings/{booking_id}/cancel", response={200: BookingOut, **WRITE_ERRORS}, tags=["bookings"]
)
def booking_cancel(request: HttpRequest, booking_id: int, data: CancelIn | None = None) -> Booking:
    user = _actor(request, Action.INTAKE_API)
    booking = _booking(booking_id)
    require(user, Action.INTAKE_API, booking)
    return scheduling_services.booking_cancel(
        actor=user, booking=booking, reason=data.reason if data else ""
    )


api.add_router("/journals", "opora.api.journals.router")  # the journals of regulations 002–004
