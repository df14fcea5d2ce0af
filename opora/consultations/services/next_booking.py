"""The next consultation, booked from the protocol screen."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from opora.accounts.actors import Actor
from opora.consultations import selectors
from opora.consultations.models import (
    Consultation,
    Protocol,
)
from opora.consultations.services.after import _require_booked_consultant
from opora.core.audit import AuditEventType, audit_record
from opora.core.errors import DomainError
from opora.scheduling.models import Booking, Slot

# --- The next consultation, booked from the protocol screen ---------------------------------------


def next_consultation_book(*, actor: Actor, consultation: Consultation, slot: Slot) -> Booking:
    """Book the next consultation of the same client from the protocol screen.

    Each new request is a new service (regulation 004): a new request with the client's data is
    registered (kind: repeat) and `slot` is booked for it in one transaction, so a slot taken a
    moment ago leaves nothing behind. Where the service checks eligibility, the registry check runs
    first, outside that transaction, so that a refusal stays on record. One next consultation per
    consultation: a second attempt names the one already booked.
    """
    from opora.intake.services import request_client_fields, request_create
    from opora.registry.services import eligibility_check
    from opora.scheduling import services as scheduling

    consultant = _require_booked_consultant(actor, consultation)
    found = selectors.consultation_by_id(consultation.pk)
    if found is None:
        raise DomainError(_("The consultation does not exist."), code="not_found")
    consultation = found
    service = consultation.booking.slot.service
    if slot.service_id != service.pk:
        raise DomainError(_("The slot belongs to another service."), code="wrong_service")
    if consultation.next_booking_id:
        existing = Booking.objects.select_related("slot").get(pk=consultation.next_booking_id)
        if existing.status == Booking.Status.ACTIVE:
            raise DomainError(
                _("The next consultation is already booked for %(when)s.")
                % {"when": slot_when(existing.slot)},
                code="next_already_booked",
            )
    original = consultation.booking.request
    check = None
    if service.requires_eligibility and not original.is_anonymous:
        result = eligibility_check(
            actor=actor, service=service, iin=original.iin, full_name=original.full_name
        )
        if not result.eligible:
            raise DomainError(result.message, code="ineligible")
        check = result.check
    with transaction.atomic():
        request = request_create(
            actor=actor,
            service=service,
            reason=str(_("Repeat consultation")),
            channel=original.channel,
            eligibility_check=check,
            **request_client_fields(original),
            typical_question=original.typical_question,
            preferred_form=original.preferred_form,
            assigned_to=consultant,
        )
        # A consultant may book their own free time; booking_create checks it is theirs.
        booking = scheduling.booking_create(actor=actor, request=request, slot=slot)
        Consultation.objects.filter(pk=consultation.pk).update(next_booking=booking)
        Protocol.objects.filter(consultation=consultation, next_consultation="").update(
            next_consultation=slot_when(booking.slot)
        )
        audit_record(
            actor=actor,
            event_type=AuditEventType.CONSULTATION_NEXT_BOOKED,
            subject=consultation,
            extra={"booking_id": booking.pk, "request_id": request.pk},
        )
    return booking


def slot_when(slot: Slot) -> str:
    local = timezone.localtime(slot.starts_at, slot.service.tz)
    return f"{local:%d.%m.%Y %H:%M}"
