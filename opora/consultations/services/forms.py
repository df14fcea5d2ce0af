"""Every form of help as a consultation: help started now (immediate, a walk-in), held face to
face (in person, visiting — marked held or not, no room), and written (an e-mail thread or a
messenger conversation taken up, answered and closed). Each ends in the one protocol and the
one journal row, like a consultation in the room.
"""

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from opora.accounts.actors import Actor
from opora.accounts.policy import Action, require
from opora.consultations import locks
from opora.consultations.models import Consultation
from opora.consultations.services.after import (
    _require_booked_consultant,
    consultation_mark_no_show,
)
from opora.consultations.services.room import consultation_for_booking
from opora.core.audit import AuditEventType, audit_record
from opora.core.errors import DomainError
from opora.scheduling import scripts
from opora.scheduling.models import FACE_TO_FACE_FORMS, WRITTEN_FORMS, ConsultationForm
from opora.scheduling.services import booking_notify_client, booking_start_now, slot_end_ad_hoc

# Forms that can be started now by the operator or a consultant (a link or a call goes at once).
NOW_FORMS = frozenset(
    {
        ConsultationForm.PHONE,
        ConsultationForm.CHAT,
        ConsultationForm.VIDEO,
        ConsultationForm.VOICE,
        ConsultationForm.IN_PERSON,
        ConsultationForm.VISITING,
    }
)
# The room's medium for each remote form (the room opens in it).
_MODE: dict[str, str] = {
    ConsultationForm.VIDEO: Consultation.Mode.VIDEO,
    ConsultationForm.VOICE: Consultation.Mode.VOICE,
    ConsultationForm.CHAT: Consultation.Mode.CHAT,
    ConsultationForm.PHONE: Consultation.Mode.PHONE,
    ConsultationForm.EMAIL: Consultation.Mode.CHAT,
    ConsultationForm.MESSENGER: Consultation.Mode.CHAT,
}


def _lock(consultation: Consultation) -> Consultation:
    return (
        locks.consultation_qs_select_for_update(of_self=True)
        .select_related("booking__slot__service", "booking__request")
        .get(pk=consultation.pk)
    )


def _set_form(consultation: Consultation, *, form: str, timing: str) -> Consultation:
    consultation.form = form
    consultation.timing = timing
    consultation.mode = _MODE.get(form, Consultation.Mode.VIDEO)
    consultation.save(update_fields=["form", "timing", "mode"])
    return consultation


@transaction.atomic
def consultation_start_now(
    *,
    actor: Actor,
    request: Any,
    consultant: Any,
    form: str,
    place: Any = None,
    visit_address: str = "",
    timing: str = Consultation.Timing.IMMEDIATE,
    now: dt.datetime | None = None,
) -> Consultation:
    """Help at the moment of contact (regulation 004), without a slot: the consultant, if free,
    is booked from now on; a remote form's link (or the call's notice) goes to the client at
    once through the outbox; an in-person one (a walk-in) names its room, a visiting one its
    address. Journaled like any other consultation."""
    require(actor, Action.CONSULTATION_START_NOW, service=request.service)
    if form not in NOW_FORMS:
        raise DomainError(_("This form cannot be started now."), code="form")
    if timing not in (Consultation.Timing.IMMEDIATE, Consultation.Timing.ONE_OFF):
        raise DomainError(_("Help started now is immediate or one-off."), code="timing")
    if form == ConsultationForm.VISITING and not visit_address.strip():
        raise DomainError(
            _("A visiting consultation needs the address to visit."), code="visit_address"
        )
    booking = booking_start_now(
        actor=actor,
        request=request,
        consultant=consultant,
        form=form,
        place=place,
        visit_address=visit_address,
        now=now,
    )
    consultation = _set_form(consultation_for_booking(booking=booking), form=form, timing=timing)
    audit_record(
        actor=actor,
        event_type=AuditEventType.CONSULTATION_STARTED_NOW,
        subject=consultation,
        extra={"form": form, "timing": timing, "consultant_id": consultant.pk},
    )
    if form not in FACE_TO_FACE_FORMS:
        booking_notify_client(
            request=booking.request, booking=booking, kind=scripts.CREATED, dedupe_prefix="now"
        )
    return consultation


@transaction.atomic
def consultation_mark_held(
    *,
    actor: Actor,
    consultation: Consultation,
    held: bool,
    now: dt.datetime | None = None,
) -> Consultation:
    """A face-to-face consultation (in person, visiting) is marked held or not by its consultant:
    no room is opened. Held, it ends now and waits for its protocol; not held, it is a no-show."""
    consultation = _lock(consultation)
    _require_booked_consultant(actor, consultation)
    if consultation.form not in FACE_TO_FACE_FORMS:
        raise DomainError(
            _("Only an in-person or visiting consultation is marked held here."),
            code="not_face_to_face",
        )
    if consultation.status not in (Consultation.Status.WAITING, Consultation.Status.IN_PROGRESS):
        raise DomainError(_("The consultation is closed."), code="closed")
    now = now or timezone.now()
    slot = consultation.booking.slot
    if now < slot.starts_at:
        raise DomainError(
            _("A consultation is marked held or not only after its start time."),
            code="too_early",
        )
    if not held:
        consultation_mark_no_show(actor=actor, consultation=consultation, now=now)
        slot_end_ad_hoc(slot=slot, at=now)
        audit_record(
            actor=actor, event_type=AuditEventType.CONSULTATION_NOT_HELD, subject=consultation
        )
        consultation.refresh_from_db()
        return consultation
    consultation.status = Consultation.Status.ENDED
    consultation.started_at = consultation.started_at or slot.starts_at
    consultation.ended_at = max(now, consultation.started_at)
    consultation.save(update_fields=["status", "started_at", "ended_at"])
    audit_record(actor=actor, event_type=AuditEventType.CONSULTATION_HELD, subject=consultation)
    slot_end_ad_hoc(slot=slot, at=consultation.ended_at)
    return consultation


@transaction.atomic
def consultation_take_written(
    *, actor: Actor, request: Any, form: str, now: dt.datetime | None = None
) -> Consultation:
    """A letter thread (form e-mail) or a messenger conversation (form messenger) of `request`
    taken up by its consultant as a consultation: in progress from now; its answers go through
    the outbox (mail, messengers); closed with `consultation_close_written`, then the protocol.
    One consultation per request, whatever the number of letters."""
    require(actor, Action.CONSULTATION_TAKE_WRITTEN, service=request.service)
    if form not in WRITTEN_FORMS:
        raise DomainError(_("Only a letter or a messenger conversation is taken up."), code="form")
    now = now or timezone.now()
    booking = booking_start_now(
        actor=actor, request=request, consultant=actor, form=form, minutes=60, now=now
    )
    consultation = consultation_for_booking(booking=booking)
    consultation = _set_form(consultation, form=form, timing=Consultation.Timing.ONE_OFF)
    consultation.status = Consultation.Status.IN_PROGRESS
    consultation.started_at = now
    consultation.save(update_fields=["status", "started_at"])
    audit_record(
        actor=actor,
        event_type=AuditEventType.CONSULTATION_WRITTEN_TAKEN,
        subject=consultation,
        extra={"form": form, "request_id": request.pk},
    )
    return consultation


@transaction.atomic
def consultation_close_written(
    *, actor: Actor, consultation: Consultation, now: dt.datetime | None = None
) -> Consultation:
    """The written consultation is answered: it ends now and waits for its protocol."""
    consultation = _lock(consultation)
    _require_booked_consultant(actor, consultation)
    if consultation.form not in WRITTEN_FORMS:
        raise DomainError(_("This is not a written consultation."), code="not_written")
    if consultation.status != Consultation.Status.IN_PROGRESS:
        raise DomainError(_("The consultation is closed."), code="closed")
    consultation.status = Consultation.Status.ENDED
    consultation.ended_at = max(now or timezone.now(), consultation.started_at or timezone.now())
    consultation.save(update_fields=["status", "ended_at"])
    audit_record(actor=actor, event_type=AuditEventType.CONSULTATION_ENDED, subject=consultation)
    return consultation


@transaction.atomic
def consultation_note_recording(*, actor: Actor, consultation: Consultation) -> Consultation:
    """Regulation 004: the client told the service they record the consultation; the notice is
    stored with the consultation (the room shows it)."""
    consultation = _lock(consultation)
    _require_booked_consultant(actor, consultation)
    if consultation.client_records_notice_at is None:
        consultation.client_records_notice_at = timezone.now()
        consultation.save(update_fields=["client_records_notice_at"])
        audit_record(
            actor=actor,
            event_type=AuditEventType.CONSULTATION_RECORDING_NOTICE,
            subject=consultation,
            extra={"by": "client"},
        )
    return consultation
