"""Technical failures (regulation 002 §4.2.1): the head's list with accept / reject and the new
time (`failure.decide`), and the consultant's page to pick the new time when the head allows it
(`consultation.conduct`: the booked consultant)."""

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from opora.accounts import policy as access_policy
from opora.accounts.policy import Action
from opora.accounts.workplace import StaffRequest, role_required
from opora.consultations import selectors, services
from opora.consultations.models import TechnicalFailure
from opora.consultations.views._common import _service_asked
from opora.core.errors import DomainError
from opora.scheduling.models import Slot


def _failure(failure_id: int) -> TechnicalFailure | None:
    return (
        TechnicalFailure.objects.select_related(
            "consultation__booking__slot__service", "consultation__booking__slot__consultant"
        )
        .filter(pk=failure_id)
        .first()
    )


def _slot_of(service_id: int, raw: str) -> Slot | None:
    if not raw.isdigit():
        return None
    return Slot.objects.select_related("service").filter(pk=int(raw), service_id=service_id).first()


def _forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return TemplateResponse(request, "403.html", {"message": message}, status=403).render()


@role_required(Action.FAILURE_DECIDE)
@require_GET
def failures(request: StaffRequest) -> HttpResponse:
    """The head's list of reported technical failures, with the decision and the slot picker."""
    refusal = _service_asked(request)
    if refusal is not None:
        return refusal
    service = request.service
    rows = selectors.failures_for_service(service=service)
    for failure in rows:
        if failure.state == TechnicalFailure.State.REPORTED:
            consultant = failure.consultation.booking.slot.consultant
            own = selectors.reprovision_slots(service=service, consultant=consultant, limit=8)
            others = [
                s
                for s in selectors.reprovision_slots(service=service, limit=16)
                if s.consultant_id != consultant.pk
            ][:8]
            failure.slot_choices = own + others  # type: ignore[attr-defined]
    return TemplateResponse(
        request,
        "consultations/failures.html",
        {
            "failures": rows,
            "room_service": service,
            "service_choices": request.staff_services,
            "nav": "failures",
        },
    )


def _decide(
    request: HttpRequest, failure_id: int, act: Callable[[TechnicalFailure], str]
) -> HttpResponse:
    failure = _failure(failure_id)
    if failure is None:
        return _forbidden(request, _("There is no such technical failure."))
    error = access_policy.refusal(request.user, Action.FAILURE_DECIDE, failure)
    if error is not None:  # a failure of a service the head does not work for
        return _forbidden(request, str(error.message))
    try:
        ok = act(failure)
    except PermissionDenied as e:
        return _forbidden(request, str(e) or _("You may not decide on this failure."))
    except ValidationError as e:
        messages.error(request, "; ".join(e.messages))
    except DomainError as e:
        messages.error(request, str(e.message))
    else:
        messages.success(request, ok)
    return redirect("consultations:failures")


@role_required(Action.FAILURE_DECIDE)
@require_POST
def failure_accept(request: StaffRequest, failure_id: int) -> HttpResponse:
    """Accept the reason: the chosen slot becomes the new booking, or the consultant picks it."""

    def act(failure: TechnicalFailure) -> str:
        service_id = failure.consultation.booking.slot.service_id
        slot = _slot_of(service_id, request.POST.get("slot", ""))
        picks = request.POST.get("consultant_picks") == "1"
        if slot is None and not picks:
            raise DomainError(_("Choose the new time, or let the consultant pick it."))
        done = services.technical_failure_accept(
            actor=request.user,
            failure=failure,
            slot=None if picks else slot,
            consultant_picks=picks,
        )
        if done.rebooked_id:
            return _("Accepted; the new time is set and the client is told.")
        return _("Accepted; the consultant picks the new time.")

    return _decide(request, failure_id, act)


@role_required(Action.FAILURE_DECIDE)
@require_POST
def failure_reject(request: StaffRequest, failure_id: int) -> HttpResponse:
    """Do not accept the reason (stated)."""

    def act(failure: TechnicalFailure) -> str:
        reason = request.POST.get("reason", "").strip()
        if not reason:
            raise DomainError(_("Say why the reason is not accepted."))
        services.technical_failure_reject(actor=request.user, failure=failure, reason=reason)
        return _("The reason is not accepted; the consultant and the client are told.")

    return _decide(request, failure_id, act)


@role_required(Action.CONSULTATION_CONDUCT)
@require_http_methods(["GET", "POST"])
def failure_pick(request: StaffRequest, failure_id: int) -> HttpResponse:
    """The consultant picks the new time of an accepted failure (the head allowed it)."""
    failure = _failure(failure_id)
    if failure is None or not selectors.consultant_may_enter(request.user, failure.consultation):
        return _forbidden(
            request, _("Only the consultant booked for this consultation can open this page.")
        )
    consultation = failure.consultation
    service = consultation.booking.slot.service
    status = 200
    if request.method == "POST":
        slot = _slot_of(service.pk, request.POST.get("slot", ""))
        try:
            if slot is None:
                raise DomainError(_("Choose the new time."))
            services.technical_failure_pick_time(actor=request.user, failure=failure, slot=slot)
        except DomainError as e:
            messages.error(request, str(e.message))
            status = 400
        else:
            messages.success(request, _("The new time is set and the client is told."))
            return redirect("consultant_day")
        failure.refresh_from_db()
    slots = []
    if failure.state == TechnicalFailure.State.ACCEPTED:
        slots = selectors.reprovision_slots(service=service, consultant=request.user)
    return TemplateResponse(
        request,
        "consultations/failure_pick.html",
        {
            "failure": failure,
            "consultation": consultation,
            "slots": slots,
            "room_service": service,
            "nav": "day",
        },
        status=status,
    )


@role_required(Action.CONSULTATION_CONDUCT)
@require_GET
def failure_new_time(request: StaffRequest, consultation_id: int) -> HttpResponse:
    """From "my day": the new-time page of a failed consultation of this consultant."""
    failure = (
        TechnicalFailure.objects.filter(
            consultation_id=consultation_id,
            consultation__booking__slot__consultant=request.user,
        )
        .order_by("-reported_at", "-pk")
        .first()
    )
    if failure is None:
        return _forbidden(
            request, _("Only the consultant booked for this consultation can open this page.")
        )
    return redirect("consultations:failure_pick", failure_id=failure.pk)
