"""The room per booking: who is connected, admission, mode, chat, end."""

import secrets

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from opora.accounts.actors import Actor
from opora.consultations import locks
from opora.consultations.models import (
    ChatMessage,
    Consultation,
)
from opora.core.audit import AuditEventType, audit_record
from opora.core.errors import DomainError
from opora.intake.consents import consent_give
from opora.intake.models import ConsentChannel, ConsentKind
from opora.scheduling.models import Booking
from opora.scheduling.services import slot_end_ad_hoc

CHAT_MAX_CHARS = 4000
CLOSED_STATUSES = (
    Consultation.Status.ENDED,
    Consultation.Status.NO_SHOW,
    Consultation.Status.FAILED,
)


def consultation_for_booking(*, booking: Booking) -> Consultation:
    """The consultation of `booking`, created with a fresh client token on first use (idempotent)."""
    existing = Consultation.objects.filter(booking=booking).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            # The slot's form (in person, visiting, ...) is the consultation's (issue 12).
            consultation = Consultation(
                booking=booking, client_token=secrets.token_urlsafe(32), form=booking.slot.form
            )
            consultation.full_clean(exclude=["booking"])
            consultation.save()
            audit_record(
                actor=None, event_type=AuditEventType.CONSULTATION_CREATED, subject=consultation
            )
            return consultation
    except IntegrityError:
        # Another request created it at the same moment: the one-to-one index settled it.
        return Consultation.objects.get(booking=booking)


@transaction.atomic
def consultation_record_consent(*, consultation: Consultation, consent: bool) -> Consultation:
    """Store the client's answer to the recording consent prompt (declining still allows service).

    A yes is also a consent record (kind recording, channel room) on the booking's request, which
    the client or staff may later withdraw (`intake.consents.consent_withdraw`)."""
    Consultation.objects.filter(pk=consultation.pk).update(recording_consent=consent)
    consultation.recording_consent = consent
    request = consultation.booking.request
    if consent and request is not None:
        consent_give(
            actor=None,
            request=request,
            kind=ConsentKind.RECORDING,
            channel=ConsentChannel.ROOM,
        )
    audit_record(
        actor=None,
        event_type=AuditEventType.CONSULTATION_RECORDING_CONSENT,
        subject=consultation,
        extra={"consent": consent},
    )
    return consultation


@transaction.atomic
def consultation_record_notice(*, consultation: Consultation) -> Consultation:
    """Store that the client was shown the recording notice (policy "notice"); the first time
    counts."""
    now = timezone.now()
    updated = Consultation.objects.filter(
        pk=consultation.pk, recording_notice_at__isnull=True
    ).update(recording_notice_at=now)
    if updated:
        consultation.recording_notice_at = now
        audit_record(
            actor=None,
            event_type=AuditEventType.CONSULTATION_RECORDING_NOTICE,
            subject=consultation,
        )
    return consultation


@transaction.atomic
def consultation_attach(
    *, consultation_id: int, role: str, channel: str, sid: str = ""
) -> tuple[bool, str]:
    """Mark `channel` as the room's client or consultant connection.

    Returns (accepted, replaced_channel). A second client is refused while one is connected, unless
    it is the same browser tab (`sid`) coming back after a drop; then the old channel is replaced.
    """
    c = locks.consultation_qs_select_for_update().get(pk=consultation_id)
    if role == "client":
        old = c.client_channel
        if old and old != channel and (not sid or sid != c.client_sid):
            return False, ""
        c.client_channel, c.client_sid = channel, sid
        c.save(update_fields=["client_channel", "client_sid"])
    else:
        old = c.consultant_channel
        c.consultant_channel = channel
        c.save(update_fields=["consultant_channel"])
    return True, old if old != channel else ""


@transaction.atomic
def consultation_detach(*, consultation_id: int, role: str, channel: str) -> None:
    field = "client_channel" if role == "client" else "consultant_channel"
    Consultation.objects.filter(pk=consultation_id, **{field: channel}).update(**{field: ""})


@transaction.atomic
def consultation_admit(*, consultation_id: int, actor: Actor) -> Consultation:
    """The consultant lets the client in from the waiting room; the clock starts at the first admit."""
    c = locks.consultation_qs_select_for_update().get(pk=consultation_id)
    if c.status not in (Consultation.Status.WAITING, Consultation.Status.IN_PROGRESS):
        raise DomainError(_("The consultation is closed."), code="closed")
    if c.status == Consultation.Status.WAITING:
        c.status = Consultation.Status.IN_PROGRESS
        c.started_at = timezone.now()
        c.save(update_fields=["status", "started_at"])
        audit_record(actor=actor, event_type=AuditEventType.CONSULTATION_STARTED, subject=c)
    return c


@transaction.atomic
def consultation_set_mode(
    *, consultation_id: int, mode: str, actor: Actor | None = None
) -> Consultation:
    """The client's choice of video, voice only or chat only (regulation 002 §3.6)."""
    if mode not in Consultation.Mode.values:
        raise DomainError(_("Unknown mode."), code="invalid_mode")
    c = locks.consultation_qs_select_for_update().get(pk=consultation_id)
    if c.mode != mode:
        c.mode = mode
        c.save(update_fields=["mode"])
        audit_record(
            actor=actor,
            event_type=AuditEventType.CONSULTATION_MODE,
            subject=c,
            extra={"mode": mode},
        )
    return c


@transaction.atomic
def consultation_end(*, consultation_id: int, actor: Actor) -> Consultation:
    """The consultant ends the consultation; the room closes for both sides."""
    c = locks.consultation_qs_select_for_update().get(pk=consultation_id)
    if c.status in CLOSED_STATUSES:
        return c
    now = timezone.now()
    c.status = Consultation.Status.ENDED
    c.started_at = c.started_at or now
    c.ended_at = now
    c.save(update_fields=["status", "started_at", "ended_at"])
    audit_record(actor=actor, event_type=AuditEventType.CONSULTATION_ENDED, subject=c)
    # Help started now frees its consultant when it ends (issue 12).
    slot_end_ad_hoc(slot=c.booking.slot, at=now)
    return c


@transaction.atomic
def chat_message_create(
    *, consultation_id: int, sender: str, text: str, client_msg_id: str = ""
) -> ChatMessage:
    """Store a chat line with the next `seq` (under the consultation's row lock) before it is relayed.

    A message the sender re-sends after a reconnect (same `client_msg_id`) is returned, not stored twice.
    """
    text = (text or "").strip()
    if not text:
        raise DomainError(_("The message is empty."), code="empty")
    if len(text) > CHAT_MAX_CHARS:
        raise DomainError(_("The message is too long."), code="too_long")
    c = locks.consultation_qs_select_for_update().get(pk=consultation_id)
    if c.status in CLOSED_STATUSES:
        raise DomainError(_("The consultation is closed."), code="closed")
    client_msg_id = (client_msg_id or "")[:64]
    if client_msg_id:
        existing = ChatMessage.objects.filter(
            consultation=c, sender=sender, client_msg_id=client_msg_id
        ).first()
        if existing is not None:
            return existing
    return _chat_append(c, sender=sender, text=text, client_msg_id=client_msg_id)


def _chat_append(c: Consultation, *, sender: str, text: str, client_msg_id: str) -> ChatMessage:
    """Insert the next chat line; the caller holds the consultation's row lock."""
    seq = (ChatMessage.objects.filter(consultation=c).aggregate(m=Max("seq"))["m"] or 0) + 1
    message = ChatMessage(
        consultation=c, seq=seq, sender=sender, text=text, client_msg_id=client_msg_id
    )
    message.full_clean(exclude=["consultation"])
    message.save()
    return message
