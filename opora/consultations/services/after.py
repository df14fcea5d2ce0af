"""After (or instead of) the consultation: protocol, no-show, phone, crisis, the journal (the
technical failure is in `failures`).
"""

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from opora.accounts.actors import Actor, User
from opora.consultations import locks, selectors
from opora.consultations.models import (
    CRISIS_TOPICS,
    FORM_PROTOCOL_FIELDS,
    MATERIALS_MAX_PAGES,
    Consultation,
    CrisisAlert,
    Protocol,
)
from opora.core.audit import AuditEventType, audit_record
from opora.core.errors import DomainError
from opora.core.models import Service
from opora.intake import services as intake
from opora.notifications.services import notification_create

# --- After the consultation: protocol, technical failure, no-show, phone, crisis -----------------


def _require_booked_consultant(actor: Actor, consultation: Consultation) -> User:
    """The booked consultant acting (the policy lets no client or system conduct one)."""
    if not (isinstance(actor, User) and selectors.consultant_may_enter(actor, consultation)):
        raise PermissionDenied(_("Only the consultant booked for this consultation can do this."))
    return actor


def _lock(consultation: Consultation) -> Consultation:
    return (
        locks.consultation_qs_select_for_update(of_self=True)
        .select_related("booking__slot__service", "booking__slot__consultant", "booking__request")
        .get(pk=consultation.pk)
    )


def _notify_heads(*, consultation: Consultation, kind: str, subject: str, body: str) -> int:
    """E-mail every head of the consultation's service who has an address; returns how many."""
    heads = selectors.service_heads(service=consultation.booking.slot.service)
    sent = 0
    for head in heads:
        if head.email:
            notification_create(
                channel="email",
                recipient=head.email,
                subject=subject,
                body=body,
                kind=kind,
                about=consultation,
            )
            sent += 1
    return sent


def _when(consultation: Consultation) -> str:
    slot = consultation.booking.slot
    local = timezone.localtime(slot.starts_at, slot.service.tz)
    return f"{local:%d.%m.%Y %H:%M}"


@transaction.atomic
def consultation_mark_no_show(
    *, actor: Actor, consultation: Consultation, now: dt.datetime | None = None
) -> Consultation:
    """The client did not come: allowed once the slot has started and nobody was admitted."""
    consultation = _lock(consultation)
    _require_booked_consultant(actor, consultation)
    now = now or timezone.now()
    if consultation.status != Consultation.Status.WAITING:
        raise DomainError(
            _("Only a consultation nobody was let into can be marked as a no-show."),
            code="not_waiting",
        )
    if now < consultation.booking.slot.starts_at:
        raise DomainError(_("A no-show can be marked only after the start time."), code="too_early")
    consultation.status = Consultation.Status.NO_SHOW
    consultation.ended_at = now
    consultation.save(update_fields=["status", "ended_at"])
    audit_record(actor=actor, event_type=AuditEventType.CONSULTATION_NO_SHOW, subject=consultation)
    # The request ends with its consultation: the parent's page says so and offers to book again.
    intake.request_mark_no_show(
        actor=actor, request=consultation.booking.request, consultation_id=consultation.pk
    )
    return consultation


@transaction.atomic
def consultation_mark_phone(*, actor: Actor, consultation: Consultation) -> Consultation:
    """The consultation is held by phone: logged as such (no media in the room); the clock starts."""
    consultation = _lock(consultation)
    _require_booked_consultant(actor, consultation)
    if consultation.status not in (Consultation.Status.WAITING, Consultation.Status.IN_PROGRESS):
        raise DomainError(_("The consultation is closed."), code="closed")
    consultation.mode = Consultation.Mode.PHONE
    consultation.status = Consultation.Status.IN_PROGRESS
    consultation.started_at = consultation.started_at or timezone.now()
    consultation.save(update_fields=["mode", "status", "started_at"])
    audit_record(
        actor=actor,
        event_type=AuditEventType.CONSULTATION_MODE,
        subject=consultation,
        extra={"mode": "phone"},
    )
    return consultation


@transaction.atomic
def crisis_alert_create(
    *, actor: Actor, consultation: Consultation, source: str, topic: str = ""
) -> CrisisAlert:
    """A crisis in a consultation: stored and the heads are e-mailed at once (after commit)."""
    consultation = _lock(consultation)
    consultant = _require_booked_consultant(actor, consultation)
    alert = CrisisAlert(consultation=consultation, source=source, topic=topic, raised_by=consultant)
    alert.full_clean(exclude=["consultation", "raised_by"])
    alert.save()
    audit_record(
        actor=actor,
        event_type=AuditEventType.CONSULTATION_CRISIS,
        subject=consultation,
        extra={"alert_id": alert.pk, "source": source, "topic": topic},
    )
    _notify_heads(
        consultation=consultation,
        kind="crisis_alert",
        subject=str(_("Crisis in a consultation")),
        body=str(
            _(
                "Consultant %(consultant)s raised a crisis alert in consultation #%(id)s "
                "(%(when)s). Room: %(url)s"
            )
            % {
                "consultant": consultant.display_name,
                "id": consultation.pk,
                "when": _when(consultation),
                "url": selectors.room_url(consultation),
            }
        ),
    )
    return alert


PROTOCOL_FIELDS = (
    "child_name",
    "child_age",
    "reason",
    "topic",
    "solution",
    "materials",
    "kind",
    "next_consultation",
    "note",
    "duration_minutes",
    "materials_pages",
    "child_present",
)


def _check_form_fields(consultation: Consultation, protocol: Protocol) -> None:
    """The fields the consultation's form needs (FORM_PROTOCOL_FIELDS), and regulation 004's
    five pages of materials: a `ValidationError` naming each field."""
    errors: dict[str, list[str]] = {}
    for name in FORM_PROTOCOL_FIELDS.get(consultation.form, ()):
        if getattr(protocol, name) in (None, ""):
            errors[name] = [
                _("Required for a consultation “%(form)s”.")
                % {"form": consultation.get_form_display()}
            ]
    if (protocol.materials_pages or 0) > MATERIALS_MAX_PAGES:
        errors["materials_pages"] = [
            _("At most %(n)d A4 pages of materials per service.") % {"n": MATERIALS_MAX_PAGES}
        ]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def protocol_save(*, actor: Actor, consultation: Consultation, **data: Any) -> Protocol:
    """Write or correct the protocol of an ended consultation (regulation 002 Appendix 3).

    The first save closes the request (done): held and written down, it is a service.
    `ValidationError` names each field that is missing or wrong. Choosing a crisis topic (newly)
    raises a crisis alert to the heads.
    """
    consultation = _lock(consultation)
    consultant = _require_booked_consultant(actor, consultation)
    if consultation.status != Consultation.Status.ENDED:
        raise DomainError(
            _("A protocol is written after the consultation has ended."), code="not_ended"
        )
    unknown = set(data) - set(PROTOCOL_FIELDS)
    if unknown:
        raise TypeError(f"unknown protocol fields: {sorted(unknown)}")
    protocol = Protocol.objects.filter(consultation=consultation).first()
    created = protocol is None
    previous_topic = "" if protocol is None else protocol.topic
    if protocol is None:
        protocol = Protocol(consultation=consultation, written_by=consultant)
    for name in PROTOCOL_FIELDS:
        if name in data:
            value = data[name]
            setattr(protocol, name, value.strip() if isinstance(value, str) else value)
    _check_form_fields(consultation, protocol)
    protocol.full_clean(exclude=["consultation", "written_by"])
    protocol.save()
    audit_record(
        actor=actor,
        event_type=AuditEventType.PROTOCOL_CREATED if created else AuditEventType.PROTOCOL_UPDATED,
        subject=protocol,
        extra={"consultation_id": consultation.pk, "topic": protocol.topic},
    )
    # Held and written down: the request is closed in the protocol's transaction (a correction
    # later finds it closed already).
    intake.request_close(
        actor=actor, request=consultation.booking.request, consultation_id=consultation.pk
    )
    if protocol.topic in CRISIS_TOPICS and protocol.topic != previous_topic:
        crisis_alert_create(
            actor=actor,
            consultation=consultation,
            source=CrisisAlert.Source.TOPIC,
            topic=protocol.topic,
        )
    return protocol


@transaction.atomic
def journal_read_record(
    *, actor: Actor, service: Service, export: bool, rows: int, filters: dict[str, Any]
) -> None:
    """Audit one read (or XLSX export) of the journal: who, which service, which filters, how many
    rows — never names or other personal data."""
    audit_record(
        actor=actor,
        event_type=AuditEventType.JOURNAL_EXPORTED if export else AuditEventType.JOURNAL_VIEWED,
        subject=service,
        extra={"rows": rows, **filters},
    )


def journal_workbook(*, rows: list[list[int | str]]) -> bytes:
    """The journal as XLSX: the regulation's title, its column headers, exactly `rows`."""
    import io

    from openpyxl import Workbook

    from opora.core.exports import write_row

    wb = Workbook()
    ws = wb.worksheets[0]  # a new workbook's one (active) sheet
    ws.title = "Журнал"
    write_row(ws, ["Журнал учета он-лайн консультирования"])
    write_row(ws, selectors.JOURNAL_COLUMNS)
    for row in rows:
        write_row(ws, row)  # names and notes come from the public: plain text only
    for letter, width in zip("ABCDEFGHIJ", (5, 22, 28, 22, 8, 30, 16, 40, 32, 24), strict=True):
        ws.column_dimensions[letter].width = width
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
