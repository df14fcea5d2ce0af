"""Pages of every form of help (issue 12): help started now (immediate help, a walk-in) and the
consultant's page of a face-to-face consultation (marked held or not, then the protocol)."""

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from opora.accounts.models import Role, User
from opora.accounts.policy import Action, own_only
from opora.accounts.workplace import StaffRequest, role_required
from opora.consultations import services
from opora.consultations.forms import StartNowForm
from opora.consultations.models import Consultation
from opora.consultations.views._common import (
    CONSULTATION_OF_SERVICE,
    _consultation_service,
    _own_consultation,
    _render,
)
from opora.core.errors import DomainError
from opora.core.models import Service
from opora.intake.models import ServiceRequest
from opora.scheduling.models import FACE_TO_FACE_FORMS, ConsultationForm, Place


def _request_service(request_id: int, **_kwargs: object) -> Service | None:
    found = ServiceRequest.objects.select_related("service").filter(pk=request_id).first()
    return found.service if found is not None else None


@role_required(Action.CONSULTATION_START_NOW, service_from=_request_service)
@require_http_methods(["GET", "POST"])
def start_now(request: StaffRequest, request_id: int) -> HttpResponse:
    """Start help now for a new request: a free consultant, the form, a room or an address."""
    service = request.service
    service_request = get_object_or_404(ServiceRequest, pk=request_id, service=service)
    consultants = User.objects.filter(
        services=service, role=Role.CONSULTANT, is_active=True
    ).order_by("last_name", "first_name", "pk")
    places = Place.objects.filter(service=service, is_active=True)
    choices = [(f.value, f.label) for f in ConsultationForm if f in services.NOW_FORMS]
    initial: dict[str, Any] = {}
    if service_request.channel == "in_person":
        initial["form"] = ConsultationForm.IN_PERSON
    if own_only(request.user, Action.CONSULTATION_CONDUCT):  # a consultant helps themselves
        initial["consultant"] = request.user.pk
    form = StartNowForm(
        request.POST or None,
        initial=initial,
        consultants=consultants,
        places=places,
        forms_=choices,
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                consultation = services.consultation_start_now(
                    actor=request.user,
                    request=service_request,
                    consultant=data["consultant"],
                    form=data["form"],
                    place=data["place"],
                    visit_address=data["visit_address"],
                )
            except DomainError as e:
                field = {"place": "place", "visit_address": "visit_address"}.get(e.code or "")
                form.add_error(field, str(e.message))
            else:
                messages.success(request, _("The consultation has started."))
                if consultation.booking.slot.consultant_id == request.user.pk:
                    return redirect("consultations:consultant_room", consultation.pk)
                return redirect("operator_request", service_request.pk)
    return TemplateResponse(
        request,
        "consultations/start_now.html",
        {"form": form, "service_request": service_request, "nav": "queue"},
        status=status,
    ).render()


@role_required(
    Action.CONSULTATION_CONDUCT,
    service_from=_consultation_service,
    switched=CONSULTATION_OF_SERVICE,
)
def face_to_face(request: StaffRequest, consultation_id: int) -> HttpResponse:
    """The consultant's page of an in-person or visiting consultation: where, who, held or not."""
    consultation, refusal = _own_consultation(request, consultation_id)
    if refusal is not None:
        return refusal
    assert consultation is not None  # noqa: S101
    booking = consultation.booking
    return _render(
        request,
        consultation,
        "consultations/face_to_face.html",
        {
            "consultation": consultation,
            "booking": booking,
            "place": booking.place,
            "service_request": booking.request,
            "open": consultation.status
            in (Consultation.Status.WAITING, Consultation.Status.IN_PROGRESS),
            "nav": "day",
        },
    )


@role_required(
    Action.CONSULTATION_CONDUCT,
    service_from=_consultation_service,
    switched=CONSULTATION_OF_SERVICE,
)
@require_POST
def mark_held(request: StaffRequest, consultation_id: int) -> HttpResponse:
    consultation, refusal = _own_consultation(request, consultation_id)
    if refusal is not None:
        return refusal
    assert consultation is not None  # noqa: S101
    held = request.POST.get("held") == "yes"
    try:
        services.consultation_mark_held(actor=request.user, consultation=consultation, held=held)
    except DomainError as e:
        messages.error(request, str(e.message))
        return redirect("consultations:face_to_face", consultation.pk)
    if held:
        return redirect("consultations:protocol", consultation.pk)
    messages.success(request, _("Marked as not held."))
    return redirect("consultant_day")


def is_face_to_face(consultation: Consultation) -> bool:
    return consultation.form in FACE_TO_FACE_FORMS


@role_required(
    Action.CONSULTATION_CONDUCT,
    service_from=_consultation_service,
    switched=CONSULTATION_OF_SERVICE,
)
@require_POST
def client_records(request: StaffRequest, consultation_id: int) -> HttpResponse:
    """Regulation 004: the client told the service they record the consultation (stored)."""
    consultation, refusal = _own_consultation(request, consultation_id)
    if refusal is not None:
        return refusal
    assert consultation is not None  # noqa: S101
    services.consultation_note_recording(actor=request.user, consultation=consultation)
    messages.success(request, _("The client's notice that they record is stored."))
    if consultation.form in FACE_TO_FACE_FORMS:
        return redirect("consultations:face_to_face", consultation.pk)
    return redirect("consultations:consultant_room", consultation.pk)
