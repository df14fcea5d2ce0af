"""Writes for complaints (regulation 000 §15–19). Each is one transaction with its audit record and
its history row; the answer goes to the complainant through the outbox (`opora.notifications`)."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from opora.accounts.actors import Actor, SystemActor, User
from opora.complaints import access, deadlines, locks
from opora.complaints.consent import CONSENT_VERSION
from opora.complaints.models import Complaint, ComplaintEvent
from opora.consultations import selectors as consultation_selectors
from opora.consultations import services as consultation_services
from opora.consultations.models import Consultation
from opora.core.audit import AuditEventType, audit_record
from opora.core.errors import Conflict, DomainError, PermissionDenied
from opora.core.models import Service
from opora.intake.models import ServiceRequest
from opora.intake.services import normalise_phone
from opora.notifications.services import notification_send_to_client

NUMBER_PREFIX = "Ж"

# No 0/O, 1/I/L (read out on the phone); 16 characters of 31 ≈ 79 bits.
_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
_CODE_LENGTH = 16

TEXT_MAX = Complaint._meta.get_field("text").max_length
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# What a complainant is told when the request code is not theirs, does not exist or cannot be
# checked: the same words in every case, so the form reveals nothing about other people's codes.
NOT_YOURS = _(
    "We could not find a consultation with this code for the phone number you gave. Check the "
    "code in your confirmation (SMS, letter or messenger) and the phone number, or leave the code "
    "empty: the complaint will be registered all the same."
)


def _clean_text(value: str, *, limit: int) -> str:
    value = _CONTROL.sub("", (value or "").replace("\r\n", "\n")).strip()
    if len(value) > limit:
        raise DomainError(
            _("The text is too long: at most %(n)s characters.") % {"n": limit}, code="too_long"
        )
    return value


def new_follow_code() -> str:
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(_CODE_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, _CODE_LENGTH, 4))


def hash_follow_code(code: str) -> str:
    """The stored form of a follow-up code; spaces, hyphens and case do not matter."""
    normal = re.sub(r"[\s\-]", "", code or "").upper()
    return hashlib.sha256(f"complaint:{normal}".encode()).hexdigest()


def _next_number(service: Service, year: int) -> str:
    """The next number of the service's year, e.g. Ж-2026-0001. The counter row is locked (FOR
    UPDATE) until the caller's transaction ends, so two complaints never share a number; the
    unique constraint on (service, number) is the last word."""
    counter, _created = locks.complaint_counter_qs_select_for_update().get_or_create(
        service=service, year=year
    )
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"{NUMBER_PREFIX}-{year}-{counter.last:04d}"


def _event(complaint: Complaint, kind: str, actor: Any) -> None:
    ComplaintEvent.objects.create(
        complaint=complaint, kind=kind, actor=actor if getattr(actor, "pk", None) else None
    )


def _audit(actor: Any, event_type: AuditEventType, complaint: Complaint, **extra: Any) -> None:
    audit_record(
        actor=actor,
        event_type=event_type,
        subject=complaint,
        extra={"number": complaint.number, **extra},
    )


def _phones_of(request: ServiceRequest) -> set[str]:
    phones = {request.phone, request.phone_extra}
    if request.client_id is not None:
        phones |= {request.client.phone, request.client.phone_extra}
    out = set()
    for p in phones:
        try:
            normal = normalise_phone(p or "")
        except DomainError:
            continue
        if normal:
            out.add(normal.lstrip("+")[-10:])
    return out


def _request_of_complainant(service: Service, code: str, phone: str) -> ServiceRequest:
    """The complainant's own request by its public code: the phone given must be one of the
    request's. Anything else — no such code, another service, another phone, no phone — is the
    same refusal (`NOT_YOURS`)."""
    code = re.sub(r"\s", "", code or "").upper()
    request = (
        ServiceRequest.objects.select_related("client")
        .filter(service=service, public_code=code)
        .first()
        if code
        else None
    )
    mine = phone.lstrip("+")[-10:] if phone else ""
    if request is None or not mine or mine not in _phones_of(request):
        raise DomainError(NOT_YOURS, code="request_not_yours")
    return request


def _consultation_of(request: ServiceRequest | None) -> Consultation | None:
    if request is None:
        return None
    return (
        Consultation.objects.select_related("booking__slot")
        .filter(booking__request=request)
        .order_by("-created_at", "-pk")
        .first()
    )


@transaction.atomic
def complaint_register(
    *,
    actor: Actor,
    service: Service,
    channel: str,
    text: str,
    is_anonymous: bool = False,
    complainant_name: str = "",
    phone: str = "",
    email: str = "",
    postal_address: str = "",
    request_code: str = "",
    consent: bool = False,
    registered_at: dt.datetime | None = None,
) -> tuple[Complaint, str]:
    """Register a complaint with its number and deadline; returns it and its follow-up code (shown
    once; only its hash is stored). From the portal (`actor` is the system) the request code must
    belong to the phone given; staff may link any request of the service."""
    from_portal = channel == Complaint.Channel.PORTAL
    if not from_portal and not access.may_register(actor, service):
        raise PermissionDenied(_("Only the service's coordinators and heads register complaints."))
    rules = deadlines.settings_for(service)
    if is_anonymous and not rules.allows_anonymous:
        raise DomainError(
            _("This service does not take anonymous complaints: give your name and phone."),
            code="anonymous_not_allowed",
        )
    if from_portal and not consent:
        raise DomainError(_("Consent is needed to register the complaint."), code="no_consent")
    text = _clean_text(text, limit=TEXT_MAX)
    if not text:
        raise DomainError(_("Write what the complaint is about."), code="empty")
    name = "" if is_anonymous else _clean_text(complainant_name, limit=400)
    phone = normalise_phone(phone)
    email = (email or "").strip()
    if not is_anonymous and not name:
        raise DomainError(_("Give your name, or choose an anonymous complaint."), code="no_name")
    if from_portal and not is_anonymous and not phone:
        raise DomainError(_("Give a phone number to get the answer."), code="no_phone")

    request: ServiceRequest | None = None
    if (request_code or "").strip():
        if from_portal:
            request = _request_of_complainant(service, request_code, phone)
        else:
            code = re.sub(r"\s", "", request_code).upper()
            request = ServiceRequest.objects.filter(service=service, public_code=code).first()
            if request is None:
                raise DomainError(
                    _("The service has no request with the code %(code)s.") % {"code": code},
                    code="no_request",
                )
    now = registered_at or timezone.now()
    registered_on = deadlines.local_date(service, now)
    follow_code = new_follow_code() if (from_portal or is_anonymous) else ""
    complaint = Complaint(
        service=service,
        number=_next_number(service, registered_on.year),
        channel=channel,
        is_anonymous=is_anonymous,
        complainant_name=name,
        phone="" if is_anonymous else phone,
        email="" if is_anonymous else email,
        postal_address="" if is_anonymous else _clean_text(postal_address, limit=500),
        follow_code_hash=hash_follow_code(follow_code) if follow_code else None,
        request=request,
        consultation=_consultation_of(request),
        text=text,
        consent_version=CONSENT_VERSION if consent else "",
        consented_at=now if consent else None,
        registered_at=now,
        registered_on=registered_on,
        due_on=deadlines.due_on(service, registered_on),
        created_by=actor if isinstance(actor, User) else None,
    )
    complaint.full_clean(exclude=["follow_code_hash", "number"])
    try:
        with transaction.atomic():
            complaint.save()
    except IntegrityError as e:  # the unique number: cannot happen under the counter's lock
        raise Conflict(_("The complaint could not be numbered; please send it again.")) from e
    _event(complaint, ComplaintEvent.Kind.REGISTERED, actor)
    _audit(
        actor,
        AuditEventType.COMPLAINT_REGISTERED,
        complaint,
        channel=channel,
        anonymous=is_anonymous,
        request_id=complaint.request_id,
        due_on=complaint.due_on.isoformat(),
    )
    return complaint, follow_code


def complaint_from_letter(
    *,
    actor: Actor,
    service: Service,
    sender_email: str,
    sender_name: str,
    text: str,
    request_code: str = "",
    received_at: dt.datetime | None = None,
) -> Complaint:
    """The hook for the mail app: a letter to the service mailbox that staff confirmed as a
    complaint (§16: «по электронной почте») is registered with the e-mail channel; the answer
    goes back to `sender_email`. `actor` is the member of staff who confirmed it."""
    complaint, _code = complaint_register(
        actor=actor,
        service=service,
        channel=Complaint.Channel.EMAIL,
        text=text,
        complainant_name=sender_name or sender_email,
        email=sender_email,
        request_code=request_code,
        registered_at=received_at,
    )
    return complaint


_COMPLAINT_WORDS = re.compile(r"жалоб|шағым|complain", re.IGNORECASE)


def looks_like_complaint(subject: str, text: str) -> bool:
    """Whether a letter reads as a complaint (offered to staff as one; never decided alone)."""
    return bool(_COMPLAINT_WORDS.search(f"{subject or ''}\n{(text or '')[:2000]}"))


def _locked(complaint: Complaint) -> Complaint:
    return (
        locks.complaint_qs_select_for_update()
        .select_related("service", "consultation__booking__slot", "request")
        .get(pk=complaint.pk)
    )


@transaction.atomic
def complaint_assign(*, actor: Actor, complaint: Complaint, reviewer: User) -> Complaint:
    """Give the complaint to a reviewer: by a head of the service, or (once disputed) the
    authority takes it itself. The consultant complained about is refused."""
    complaint = _locked(complaint)
    authority_stage = complaint.status == Complaint.Status.DISPUTED
    if authority_stage:
        if not access.is_authority_of(actor, complaint.service) and not access.may_manage(
            actor, complaint.service
        ):
            raise PermissionDenied(_("A disputed complaint is reviewed by the authority."))
        complaint.stage = Complaint.Stage.AUTHORITY
    elif not access.may_manage(actor, complaint.service):
        raise PermissionDenied(_("Only a head of the service assigns a reviewer."))
    if complaint.status not in (
        Complaint.Status.REGISTERED,
        Complaint.Status.UNDER_REVIEW,
        Complaint.Status.DISPUTED,
    ):
        raise Conflict(_("The complaint is answered or closed: a reviewer is no longer assigned."))
    if reviewer.pk in access.consultants_complained_about(complaint):
        raise DomainError(
            _(
                "%(name)s is the consultant the complaint is about and cannot review it: "
                "choose someone else."
            )
            % {"name": reviewer.display_name},
            code="reviewer_is_consultant",
        )
    if not access.reviewer_candidates(complaint).filter(pk=reviewer.pk).exists():
        raise DomainError(
            _("%(name)s cannot review complaints of this service.")
            % {"name": reviewer.display_name},
            code="reviewer_not_allowed",
        )
    complaint.reviewer = reviewer
    complaint.assigned_at = timezone.now()
    complaint.status = Complaint.Status.UNDER_REVIEW
    complaint.save(update_fields=["reviewer", "assigned_at", "status", "stage"])
    _event(complaint, ComplaintEvent.Kind.ASSIGNED, actor)
    _audit(
        actor,
        AuditEventType.COMPLAINT_ASSIGNED,
        complaint,
        reviewer_id=reviewer.pk,
        stage=complaint.stage,
    )
    return complaint


@transaction.atomic
def complaint_request_recording(
    *,
    actor: Actor,
    complaint: Complaint,
    requested_at: dt.datetime | None = None,
    requested_on: dt.date | None = None,
) -> Complaint:
    """Record the written request for the recording (§19): due within 3 working days of it. When
    the one who asks may open recordings (a head), each recording of the consultation gets its
    hand-over row in `consultations` with the complaint's number as the reference."""
    complaint = _locked(complaint)
    if not (access.may_answer(actor, complaint) or access.may_manage(actor, complaint.service)):
        raise PermissionDenied(_("Only the reviewer or a head requests the recording."))
    if complaint.consultation_id is None:
        raise DomainError(
            _("The complaint names no consultation: there is no recording to request."),
            code="no_consultation",
        )
    if complaint.recording_requested_at is not None:
        return complaint
    now = requested_at or timezone.now()
    today = deadlines.local_date(complaint.service, now)
    requested_on = requested_on or today
    if requested_on > today or requested_on < complaint.registered_on:
        raise DomainError(
            _(
                "The written request is dated between the complaint's registration "
                "(%(registered)s) and today."
            )
            % {"registered": complaint.registered_on.strftime("%d.%m.%Y")},
            code="bad_request_date",
        )
    complaint.recording_requested_on = requested_on
    complaint.recording_requested_at = now
    complaint.recording_due_on = deadlines.recording_due_on(complaint.service, requested_on)
    complaint.save(
        update_fields=["recording_requested_on", "recording_requested_at", "recording_due_on"]
    )
    releases = []
    if consultation_selectors.may_view_recordings(actor, complaint.service):
        for recording in complaint.consultation.recordings.all():
            releases.append(
                consultation_services.recording_release_create(
                    actor=actor,
                    recording=recording,
                    recipient=str(actor.display_name)[:300],
                    complaint_ref=complaint.number,
                    reason=_("Complaint review"),
                    requested_on=requested_on,
                ).pk
            )
    _event(complaint, ComplaintEvent.Kind.RECORDING_REQUESTED, actor)
    _audit(
        actor,
        AuditEventType.COMPLAINT_RECORDING_REQUESTED,
        complaint,
        due_on=complaint.recording_due_on.isoformat(),
        release_ids=releases,
    )
    return complaint


def _answer_message(complaint: Complaint) -> tuple[str, str, str]:
    subject = _("Answer to your complaint %(number)s") % {"number": complaint.number}
    body = "\n\n".join(
        [
            subject,
            complaint.answer,
            _(
                "If you disagree with the answer, say so on the complaint's page with your "
                "follow-up code, or write to the service: the complaint then goes to the "
                "authority (regulation, §19)."
            ),
        ]
    )
    sms = _(
        "Complaint %(number)s is answered. Read the answer on the service's site with your "
        "follow-up code, or ask the service."
    ) % {"number": complaint.number}
    return subject, body, sms


@transaction.atomic
def complaint_answer(*, actor: Actor, complaint: Complaint, answer: str) -> Complaint:
    """Store the reviewer's answer and send it to the complainant through the outbox (SMS and
    e-mail rows, delivered after commit). An anonymous complainant reads it by the code."""
    complaint = _locked(complaint)
    if not access.may_answer(actor, complaint):
        raise PermissionDenied(_("Only the assigned reviewer answers the complaint."))
    answer = _clean_text(answer, limit=Complaint._meta.get_field("answer").max_length)
    if not answer:
        raise DomainError(_("Write the answer."), code="empty")
    complaint.answer = answer
    complaint.answered_at = timezone.now()
    complaint.answered_by = actor
    complaint.status = Complaint.Status.ANSWERED
    complaint.save(update_fields=["answer", "answered_at", "answered_by", "status"])
    _event(complaint, ComplaintEvent.Kind.ANSWERED, actor)
    subject, body, sms = _answer_message(complaint)
    sent = notification_send_to_client(
        kind="complaint_answer",
        subject=subject,
        body=body,
        sms_body=sms,
        about=complaint,
        phone=complaint.phone,
        email=complaint.email,
        dedupe_prefix=f"complaint-answer-{complaint.stage}",
    )
    _audit(
        actor,
        AuditEventType.COMPLAINT_ANSWERED,
        complaint,
        stage=complaint.stage,
        late=complaint.answered_at.date() > complaint.due_on,
        notification_ids=[n.pk for n in sent],
    )
    return complaint


@transaction.atomic
def complaint_dispute(*, complaint: Complaint, text: str = "") -> Complaint:
    """The complainant disagrees with the service's answer (§19): the complaint is reopened to the
    authority, which takes it for review. Only once, and only an answer of the service."""
    complaint = _locked(complaint)
    disputable = (Complaint.Status.ANSWERED, Complaint.Status.CLOSED)
    if complaint.status not in disputable or complaint.stage != Complaint.Stage.SERVICE:
        raise Conflict(_("This complaint cannot be disputed now."), code="not_disputable")
    complaint.disagreement = _clean_text(text, limit=4000)
    complaint.disputed_at = timezone.now()
    complaint.status = Complaint.Status.DISPUTED
    complaint.reviewer = None
    complaint.save(update_fields=["disagreement", "disputed_at", "status", "reviewer"])
    actor = SystemActor(name="complaints.portal")
    _event(complaint, ComplaintEvent.Kind.DISPUTED, actor)
    _audit(actor, AuditEventType.COMPLAINT_DISPUTED, complaint)
    return complaint


@transaction.atomic
def complaint_close(*, actor: Actor, complaint: Complaint) -> Complaint:
    """Close an answered complaint: the reviewer or a head of the service."""
    complaint = _locked(complaint)
    if complaint.status != Complaint.Status.ANSWERED:
        raise Conflict(_("Only an answered complaint can be closed."), code="not_answered")
    if not (access.may_manage(actor, complaint.service) or complaint.reviewer_id == actor.pk):
        raise PermissionDenied(_("Only the reviewer or a head closes the complaint."))
    complaint.status = Complaint.Status.CLOSED
    complaint.closed_at = timezone.now()
    complaint.save(update_fields=["status", "closed_at"])
    _event(complaint, ComplaintEvent.Kind.CLOSED, actor)
    _audit(actor, AuditEventType.COMPLAINT_CLOSED, complaint)
    return complaint
