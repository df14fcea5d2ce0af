"""The consultant's preparation page (regulation 002 §4.2): 30 minutes before an online
consultation, camera, microphone and network are checked in the browser and the request and
earlier protocols read; the result is stored, and a failed item leads to the failure report."""

import os
from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from opora.accounts import policy as access_policy
from opora.accounts.policy import Action
from opora.accounts.workplace import StaffRequest, role_required
from opora.consultations import selectors, services
from opora.consultations.forms import FailureForm
from opora.consultations.models import Preparation, TechnicalFailure
from opora.consultations.services.preparation import (
    NETWORK_MAX_RTT_MS,
    NETWORK_MIN_MBIT,
    PREPARATION_OPENS,
    preparation_failed_items,
    preparation_problem,
)
from opora.consultations.views._common import (
    CONSULTATION_OF_SERVICE,
    _consultation_service,
    _own_consultation,
    _render,
)
from opora.core.errors import DomainError
from opora.scheduling.models import Booking

PROBE_MAX_BYTES = 1024 * 1024


def _conducts() -> Callable:
    """The gate of this module's pages: `consultation.conduct` (the booked consultant is
    checked on the record by `_own_consultation`)."""
    return role_required(
        Action.CONSULTATION_CONDUCT,
        service_from=_consultation_service,
        switched=CONSULTATION_OF_SERVICE,
    )


def _int_or_none(raw: str) -> int | None:
    raw = (raw or "").strip()
    return int(raw) if raw.isdigit() and len(raw) < 7 else None


def _mbit_or_none(raw: str) -> Decimal | None:
    try:
        value = Decimal((raw or "").strip())
    except InvalidOperation:
        return None
    if not value.is_finite() or value < 0:
        return None
    return min(value, Decimal("99999")).quantize(Decimal("0.01"))


@_conducts()
@require_http_methods(["GET", "POST"])
def preparation(request: StaffRequest, consultation_id: int) -> HttpResponse:
    consultation, refusal = _own_consultation(request, consultation_id)
    if refusal is not None:
        return refusal
    assert consultation is not None  # noqa: S101
    if request.method == "POST":
        try:
            services.preparation_record(
                actor=request.user,
                consultation=consultation,
                camera_ok=request.POST.get("camera_ok") == "1",
                microphone_ok=request.POST.get("microphone_ok") == "1",
                rtt_ms=_int_or_none(request.POST.get("rtt_ms", "")),
                download_mbit=_mbit_or_none(request.POST.get("download_mbit", "")),
                request_read=request.POST.get("request_read") == "1",
                protocols_read=request.POST.get("protocols_read") == "1",
            )
        except DomainError as e:
            messages.error(request, str(e.message))
        return redirect("consultations:preparation", consultation_id=consultation.pk)
    slot = consultation.booking.slot
    service = slot.service
    problem = preparation_problem(consultation)
    last = Preparation.objects.filter(consultation=consultation).first()
    failure_form = None
    failed = preparation_failed_items(last) if last is not None else []
    # Equipment or network that does not work goes to the failure path (unread papers do not).
    if failed and not problem:
        cause = (
            TechnicalFailure.Cause.CONSULTANT_CONNECTION
            if failed == [str(_("network"))]
            else TechnicalFailure.Cause.EQUIPMENT
        )
        failure_form = FailureForm(
            initial={
                "cause": cause,
                "details": _("Preparation check failed: %(items)s.") % {"items": ", ".join(failed)},
            }
        )
    summary = selectors.room_request_summary(actor=request.user, consultation=consultation)
    return _render(
        request,
        consultation,
        "consultations/preparation.html",
        {
            "consultation": consultation,
            "room_service": service,
            "starts_at": timezone.localtime(slot.starts_at, service.tz),
            "opens_at": timezone.localtime(slot.starts_at - PREPARATION_OPENS, service.tz),
            "problem": problem,
            "last": last,
            "failure_form": failure_form,
            "summary": summary,
            "earlier_protocols": summary["earlier_protocols"],
            "nav": "day",
            "check_config": {
                "probeUrl": reverse("consultations:preparation_probe", args=[consultation.pk]),
                "maxRttMs": NETWORK_MAX_RTT_MS,
                "minMbit": float(NETWORK_MIN_MBIT),
                "text": {
                    "ok": _("works"),
                    "failed": _("does not work"),
                    "measuring": _("measuring…"),
                    "network": _("round trip %(rtt)s ms, download %(mbit)s Mbit/s"),
                    "networkFailed": _("the server could not be reached"),
                },
            },
        },
    )


@role_required(Action.CONSULTATION_CONDUCT)
@require_GET
def preparation_for_booking(request: StaffRequest, booking_id: int) -> HttpResponse:
    """From "my day": the preparation of a booking (its consultation made on first need)."""
    booking = (
        Booking.objects.select_related("slot")
        .filter(pk=booking_id, status=Booking.Status.ACTIVE)
        .first()
    )
    if booking is None:
        raise Http404
    if not access_policy.can(request.user, Action.CONSULTATION_CONDUCT, booking):  # the booked one
        return TemplateResponse(
            request,
            "403.html",
            {"message": _("Only the consultant booked for this consultation can open this page.")},
            status=403,
        )
    consultation = services.consultation_for_booking(booking=booking)
    return redirect("consultations:preparation", consultation_id=consultation.pk)


@_conducts()
@never_cache
@require_GET
def preparation_probe(request: StaffRequest, consultation_id: int) -> HttpResponse:
    """`bytes` random (incompressible) bytes, at most 1 MB, to time the round trip (0 bytes) and
    the download; only for the booked consultant, so it is no open relay."""
    consultation, refusal = _own_consultation(request, consultation_id)
    if refusal is not None or consultation is None:
        return refusal or HttpResponse(status=403)
    wanted = request.GET.get("bytes", "")
    size = int(wanted) if wanted.isdigit() and len(wanted) < 9 else 0
    size = max(0, min(size, PROBE_MAX_BYTES))
    return HttpResponse(os.urandom(size), content_type="application/octet-stream")
