"""The next consultation, booked from the protocol screen."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import (
    HttpRequest,
    HttpResponse,
)
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from opora.accounts.policy import Action
from opora.accounts.workplace import StaffRequest, role_required
from opora.consultations import services
from opora.consultations.models import (
    Consultation,
)
from opora.consultations.views._common import _own_consultation, _parse_date
from opora.core.errors import DomainError
from opora.scheduling.models import Booking


def _next_booking_text(consultation: Consultation) -> str:
    booking = consultation.next_booking
    if booking is None or booking.status != Booking.Status.ACTIVE:
        return ""
    return services.slot_when(booking.slot)


def _next_booking_context(request: HttpRequest, consultation: Consultation) -> dict:
    """The consultant's own free slots for the next consultation: the nearest first, then those of
    a chosen date (never earlier than the nearest, regulation 001 §5)."""
    from opora.scheduling.selectors import slot_nearest_free, slots_free_on_date

    service = consultation.booking.slot.service
    booked = consultation.next_booking
    if booked is not None and booked.status == Booking.Status.ACTIVE:
        return {"next_booked": booked, "next_booked_at": services.slot_when(booked.slot)}
    consultant = request.user
    nearest = slot_nearest_free(service=service, consultant=consultant)
    date = _parse_date(request.GET.get("next_date"))
    slots = [nearest] if nearest is not None else []
    if date is not None:
        slots = slots_free_on_date(service=service, date=date, consultant=consultant)
    return {
        "next_slots": [
            (s, timezone.localtime(s.starts_at, service.tz)) for s in slots if s is not None
        ],
        "next_nearest": nearest,
        "next_date": date,
    }


@role_required(Action.CONSULTATION_CONDUCT)
@require_POST
def next_booking(request: StaffRequest, consultation_id: int) -> HttpResponse:
    """Book the next consultation of the same client on one of the consultant's own slots."""
    from opora.core.errors import PermissionDenied as DomainPermissionDenied
    from opora.scheduling.models import Slot

    consultation, refusal = _own_consultation(request, consultation_id)
    if refusal is not None:
        return refusal
    assert consultation is not None  # noqa: S101
    slot_id = request.POST.get("slot", "")
    slot = (
        Slot.objects.select_related("service")
        .filter(pk=int(slot_id), consultant=request.user)
        .first()
        if slot_id.isdigit()
        else None
    )
    target = reverse("consultations:protocol", args=[consultation.pk]) + "#next-booking"
    if slot is None:
        messages.error(request, _("Choose a free time for the next consultation."))
        return redirect(target)
    try:
        booking = services.next_consultation_book(
            actor=request.user, consultation=consultation, slot=slot
        )
    except (DomainError, DomainPermissionDenied) as e:
        messages.error(request, str(e.message))
    except PermissionDenied as e:
        messages.error(request, str(e))
    except ValidationError as e:
        messages.error(request, "; ".join(e.messages))
    else:
        messages.success(
            request,
            _("The next consultation is booked for %(when)s; the client is told.")
            % {"when": services.slot_when(booking.slot)},
        )
    return redirect(target)
