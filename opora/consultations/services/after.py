"""Writes of consultations: the room per booking, who is connected, admission, mode, chat, end."""

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import F, Max, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from opora.consultations import files as chat_files
from opora.consultations import recording as recording_crypto
from opora.consultations import selectors
from opora.consultations.models import (
    CRISIS_TOPICS,
    ChatAttachment,
    ChatMessage,
    Consultation,
    CrisisAlert,
    Protocol,
    Recording,
    RecordingAccess,
    RecordingChunk,
    RecordingRelease,
    TechnicalFailure,
)
from opora.core.audit import AuditEventType, audit_record
from opora.core.errors import DomainError, NotFound
from opora.intake import services as intake
from opora.notifications.services import notification_create
from opora.scheduling.calendar import ServiceCalendar
from opora.scheduling.models import Booking
from opora.scheduling.selectors import slot_nearest_free
from opora.scheduling.services import booking_reschedule

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
            consultation = Consultation(booking=booking, client_token=secrets.token_urlsafe(32))
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
    """Store the client's answer to the recording consent prompt (declining still allows service)."""
    Consultation.objects.filter(pk=consultation.pk).update(recording_consent=consent)
    consultation.recording_consent = consent
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
    c = Consultation.objects.select_for_update().get(pk=consultation_id)
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
def consultation_admit(*, consultation_id: int, actor: Any) -> Consultation:
    """The consultant lets the client in from the waiting room; the clock starts at the first admit."""
    c = Consultation.objects.select_for_update().get(pk=consultation_id)
    if c.status not in (Consultation.Status.WAITING, Consultation.Status.IN_PROGRESS):
        raise DomainError(_("The consultation is closed."), code="closed")
    if c.status == Consultation.Status.WAITING:
        c.status = Consultation.Status.IN_PROGRESS
        c.started_at = timezone.now()
        c.save(update_fields=["status", "started_at"])
        audit_record(actor=actor, event_type=AuditEventType.CONSULTATION_STARTED, subject=c)
    return c


@transaction.atomic
def consultation_set_mode(*, consultation_id: int, mode: str, actor: Any = None) -> Consultation:
    """The client's choice of video, voice only or chat only (regulation 002 §3.6)."""
    if mode not in Consultation.Mode.values:
        raise DomainError(_("Unknown mode."), code="invalid_mode")
    c = Consultation.objects.select_for_update().get(pk=consultation_id)
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
def consultation_end(*, consultation_id: int, actor: Any) -> Consultation:
    """The consultant ends the consultation; the room closes for both sides."""
    c = Consultation.objects.select_for_update().get(pk=consultation_id)
    if c.status in CLOSED_STATUSES:
        return c
    now = timezone.now()
    c.status = Consultation.Status.ENDED
    c.started_at = c.started_at or now
    c.ended_at = now
    c.save(update_fields=["status", "started_at", "ended_at"])
    audit_record(actor=actor, event_type=AuditEventType.CONSULTATION_ENDED, subject=c)
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
    c = Consultation.objects.select_for_update().get(pk=consultation_id)
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


# --- After the consultation: protocol, technical failure, no-show, phone, crisis -----------------


def _require_booked_consultant(actor: Any, consultation: Consultation) -> None:
    if not selectors.consultant_may_enter(actor, consultation):
        raise PermissionDenied(_("Only the consultant booked for this consultation can do this."))


def _lock(consultation: Consultation) -> Consultation:
    return (
        Consultation.objects.select_for_update(of=("self",))
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


def _notify_client_of_failure(consultation: Consultation) -> None:
    """Without an automatic rebooking, the client still hears at once (regulation 002 §4.2.1)."""
    request = consultation.booking.request
    body = str(
        _(
            "Your consultation of %(when)s cannot take place for technical reasons. We will "
            "tell you the new date and time shortly."
        )
        % {"when": _when(consultation)}
    )
    if request.phone:
        notification_create(
            channel="sms",
            recipient=request.phone,
            body=body,
            kind="consultation_failed",
            about=consultation,
        )
    if request.email:
        notification_create(
            channel="email",
            recipient=request.email,
            body=body,
            kind="consultation_failed",
            subject=str(_("Your consultation is moved")),
            about=consultation,
        )


@transaction.atomic
def technical_failure_report(
    *, actor: Any, consultation: Consultation, cause: str, details: str = ""
) -> TechnicalFailure:
    """The consultant (or a head of the service) reports that the consultation cannot be held
    (regulation 002 §4.2.1).

    The attempt is closed as `failed` (not a service: the journal counts only ended consultations,
    regulation 004), the heads are told, and the booking moves to the consultant's nearest free slot
    (the client is told by `booking_reschedule`). Without a free slot, or without the right to
    change bookings, `rebooked` stays empty and the heads' message asks them to rebook.
    """
    consultation = _lock(consultation)
    service = consultation.booking.slot.service
    is_head = (
        actor is not None
        and actor.is_authenticated
        and actor.has_role("head")
        and actor.services.filter(pk=service.pk).exists()
    )
    if not is_head:
        _require_booked_consultant(actor, consultation)
    if consultation.status not in (Consultation.Status.WAITING, Consultation.Status.IN_PROGRESS):
        raise DomainError(_("The consultation is closed."), code="closed")
    failure = TechnicalFailure(
        consultation=consultation, cause=cause, details=(details or "").strip(), reported_by=actor
    )
    failure.full_clean(exclude=["consultation", "reported_by", "rebooked"])
    now = timezone.now()
    consultation.status = Consultation.Status.FAILED
    consultation.ended_at = now
    if consultation.started_at and consultation.started_at > now:
        consultation.started_at = now
    consultation.save(update_fields=["status", "ended_at", "started_at"])
    slot = consultation.booking.slot
    new_slot = slot_nearest_free(service=slot.service, consultant=slot.consultant, after=now)
    if new_slot is not None:
        try:
            failure.rebooked = booking_reschedule(
                actor=actor, booking=consultation.booking, slot=new_slot
            )
        except (PermissionDenied, DomainError):
            failure.rebooked = None
    failure.save()
    audit_record(
        actor=actor,
        event_type=AuditEventType.CONSULTATION_TECHNICAL_FAILURE,
        subject=consultation,
        extra={
            "cause": failure.cause,
            "failure_id": failure.pk,
            "rebooked_booking_id": failure.rebooked_id,
        },
    )
    if failure.rebooked is None:
        # No new time yet: the same request waits in the queue again (one request, counted once).
        intake.request_reopen_after_failure(
            actor=actor, request=consultation.booking.request, consultation_id=consultation.pk
        )
        _notify_client_of_failure(consultation)
    if failure.rebooked is not None:
        new_local = timezone.localtime(failure.rebooked.slot.starts_at, slot.service.tz)
        outcome = _("Rebooked to %(when)s.") % {"when": f"{new_local:%d.%m.%Y %H:%M}"}
    else:
        outcome = _("The booking could not be moved automatically: please rebook it.")
    _notify_heads(
        consultation=consultation,
        kind="technical_failure",
        subject=str(_("Technical failure of a consultation")),
        body=str(
            _(
                "Consultant %(consultant)s reports a technical failure of consultation #%(id)s "
                "(%(when)s). Cause: %(cause)s. %(outcome)s"
            )
            % {
                "consultant": actor.display_name,
                "id": consultation.pk,
                "when": _when(consultation),
                "cause": failure.get_cause_display(),
                "outcome": outcome,
            }
        ),
    )
    return failure


@transaction.atomic
def consultation_mark_no_show(
    *, actor: Any, consultation: Consultation, now: dt.datetime | None = None
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
def consultation_mark_phone(*, actor: Any, consultation: Consultation) -> Consultation:
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
    *, actor: Any, consultation: Consultation, source: str, topic: str = ""
) -> CrisisAlert:
    """A crisis in a consultation: stored and the heads are e-mailed at once (after commit)."""
    consultation = _lock(consultation)
    _require_booked_consultant(actor, consultation)
    alert = CrisisAlert(consultation=consultation, source=source, topic=topic, raised_by=actor)
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
                "consultant": actor.display_name,
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
)


@transaction.atomic
def protocol_save(*, actor: Any, consultation: Consultation, **data: Any) -> Protocol:
    """Write or correct the protocol of an ended consultation (regulation 002 Appendix 3).

    The first save closes the request (done): held and written down, it is a service.
    `ValidationError` names each field that is missing or wrong. Choosing a crisis topic (newly)
    raises a crisis alert to the heads.
    """
    consultation = _lock(consultation)
    _require_booked_consultant(actor, consultation)
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
        protocol = Protocol(consultation=consultation, written_by=actor)
    for name in PROTOCOL_FIELDS:
        if name in data:
            value = data[name]
            setattr(protocol, name, value.strip() if isinstance(value, str) else value)
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
    *, actor: Any, service: Any, export: bool, rows: int, filters: dict
) -> None:
    """Audit one read (or XLSX export) of the journal: who, which service, which filters, how many
    rows — never names or other personal data."""
    audit_record(
        actor=actor,
        event_type=AuditEventType.JOURNAL_EXPORTED if export else AuditEventType.JOURNAL_VIEWED,
        subject=service,
        extra={"rows": rows, **filters},
    )


def journal_workbook(*, rows: list[list]) -> bytes:
    """The journal as XLSX: the regulation's title, its column headers, exactly `rows`."""
    import io

    from openpyxl import Workbook

    from opora.core.exports import write_row

    wb = Workbook()
    ws = wb.active
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


# --- Recording (docs/ARCHITECTURE.md: recorded in the consultant's browser, chunked) --------------

RECORDING_MIME_TYPES = ("video/webm", "audio/webm")
RECORDING_MAX_SEQ = 100_000


def recording_chunk_max_bytes() -> int:
    return int(getattr(settings, "OPORA_RECORDING_CHUNK_MAX_BYTES", 16 * 1024 * 1024))


def _room_event(consultation_id: int, payload: dict) -> None:
    """Send `payload` to everyone in the room, in the shape the room consumer relays."""
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    if layer is not None:
        async_to_sync(layer.group_send)(
            f"room.{consultation_id}", {"type": "room.event", "sender": "", "payload": payload}
        )


def _announce(consultation_id: int, payload: dict) -> None:
    transaction.on_commit(lambda: _room_event(consultation_id, payload))


def _close_recording(recording: Recording, *, status: str) -> Recording:
    """Close a recording (row locked by the caller): totals and the SHA-256 of the decrypted file."""
    data_key = recording_crypto.unwrap_key(key_id=recording.key_id, wrapped=recording.wrapped_key)
    digest = hashlib.sha256()
    size = count = 0
    for chunk in recording.chunks.order_by("seq"):
        plain = recording_crypto.decrypt(
            data_key,
            recording_crypto.read_blob(chunk.storage_name),
            aad=recording_crypto.chunk_aad(recording.pk, chunk.seq),
        )
        digest.update(plain)
        size += len(plain)
        count += 1
    recording.status = status
    recording.ended_at = timezone.now()
    recording.size, recording.chunk_count, recording.sha256 = size, count, digest.hexdigest()
    recording.save(update_fields=["status", "ended_at", "size", "chunk_count", "sha256"])
    return recording


@transaction.atomic
def recording_start(*, actor: Any, consultation: Consultation, mime_type: str) -> Recording:
    """The consultant's browser starts recording: allowed only when the service's policy and the
    client's stored consent (or the notice shown) allow it (`selectors.recording_refusal`).

    A recording still running (the page was reloaded) is closed as interrupted: a new
    MediaRecorder starts a new file. The client's room shows the "recording" indicator.
    """
    consultation = _lock(consultation)
    _require_booked_consultant(actor, consultation)
    refusal = selectors.recording_refusal(consultation)
    if refusal is not None or consultation.status != Consultation.Status.IN_PROGRESS:
        raise DomainError(
            refusal or _("Only a consultation in progress can be recorded."),
            code="recording_not_allowed",
        )
    base_type = (mime_type or "").split(";")[0].strip().lower()
    if base_type not in RECORDING_MIME_TYPES:
        raise DomainError(_("The recording must be WebM video or audio."), code="recording_type")
    running = Recording.objects.select_for_update().filter(
        consultation=consultation, status=Recording.Status.RECORDING
    )
    for old in running:
        _close_recording(old, status=Recording.Status.INTERRUPTED)
    _data_key, key_id, wrapped = recording_crypto.new_data_key()
    recording = Recording(
        consultation=consultation,
        started_by=actor,
        policy=consultation.booking.slot.service.recording_policy,
        mime_type=base_type,
        key_id=key_id,
        wrapped_key=wrapped,
        storage_path=f"recordings/{consultation.pk}/{secrets.token_hex(8)}",
    )
    recording.full_clean(exclude=["consultation", "started_by"])
    recording.save()
    audit_record(
        actor=actor,
        event_type=AuditEventType.RECORDING_STARTED,
        subject=recording,
        extra={"consultation_id": consultation.pk, "policy": recording.policy},
    )
    _announce(consultation.pk, {"type": "recording", "on": True})
    return recording


def recording_chunk_store(
    *, actor: Any, recording: Recording, seq: int, data: bytes
) -> tuple[RecordingChunk, bool]:
    """Store one uploaded chunk encrypted; returns (chunk, created).

    Every chunk is checked again: the booked consultant, a running recording, and the policy and
    consent as at the start. A chunk re-sent after a lost answer (same `seq`) is stored once.
    """
    if not 0 <= seq <= RECORDING_MAX_SEQ:
        raise DomainError(_("Wrong chunk number."), code="chunk_seq")
    if not data:
        raise DomainError(_("The chunk is empty."), code="chunk_empty")
    if len(data) > recording_chunk_max_bytes():
        raise DomainError(_("The chunk is too large."), code="chunk_too_large")
    consultation = selectors.consultation_by_id(recording.consultation_id)
    if consultation is None:
        raise DomainError(_("The consultation does not exist."), code="not_found")
    _require_booked_consultant(actor, consultation)
    existing = RecordingChunk.objects.filter(recording_id=recording.pk, seq=seq).first()
    if existing is not None:
        return existing, False
    data_key = recording_crypto.unwrap_key(key_id=recording.key_id, wrapped=recording.wrapped_key)
    # The file first, then the row: a row never points to a missing file; a file whose row lost
    # a race (or whose checks failed) is removed.
    name = recording_crypto.store_blob(
        f"{recording.storage_path}/{seq:06d}.bin",
        recording_crypto.encrypt(data_key, data, aad=recording_crypto.chunk_aad(recording.pk, seq)),
    )
    try:
        with transaction.atomic():
            locked = Recording.objects.select_for_update().get(pk=recording.pk)
            fresh = selectors.consultation_by_id(recording.consultation_id)
            refusal = selectors.recording_refusal(fresh)
            if refusal is not None:
                raise DomainError(refusal, code="recording_not_allowed")
            if locked.status != Recording.Status.RECORDING:
                raise DomainError(_("This recording has been stopped."), code="recording_closed")
            chunk = RecordingChunk(
                recording=locked,
                seq=seq,
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                storage_name=name,
            )
            chunk.full_clean(exclude=["recording"], validate_unique=False)
            chunk.save()
            Recording.objects.filter(pk=locked.pk).update(
                chunk_count=F("chunk_count") + 1, size=F("size") + len(data)
            )
    except IntegrityError:
        recording_crypto.delete_blob(name)
        return RecordingChunk.objects.get(recording_id=recording.pk, seq=seq), False
    except BaseException:
        recording_crypto.delete_blob(name)
        raise
    return chunk, True


@transaction.atomic
def recording_finish(*, actor: Any, recording: Recording) -> Recording:
    """The consultant's browser stopped the recorder and sent the last chunk: seal the totals."""
    recording = Recording.objects.select_for_update().get(pk=recording.pk)
    consultation = selectors.consultation_by_id(recording.consultation_id)
    _require_booked_consultant(actor, consultation)
    if recording.status != Recording.Status.RECORDING:
        return recording
    _close_recording(recording, status=Recording.Status.FINISHED)
    audit_record(
        actor=actor,
        event_type=AuditEventType.RECORDING_FINISHED,
        subject=recording,
        extra={"chunks": recording.chunk_count, "size": recording.size},
    )
    _announce(recording.consultation_id, {"type": "recording", "on": False})
    return recording


# A running recording nothing has reached for this long is abandoned: the recorder sends a chunk
# every 5 seconds, so this is a crashed browser or a closed tab, not a slow network.
RECORDING_ABANDONED_AFTER = dt.timedelta(minutes=15)


def recordings_close_abandoned(*, now: dt.datetime | None = None) -> int:
    """Close as interrupted every recording still running that can receive no more chunks: its
    consultation ended longer ago than the grace period, or no chunk (nor the start) came for
    `RECORDING_ABANDONED_AFTER`. Totals and the SHA-256 are sealed as for a finished one, so the
    recording can be listed, checked and handed over. Returns how many were closed."""
    now = now or timezone.now()
    candidates = (
        Recording.objects.filter(status=Recording.Status.RECORDING)
        .annotate(last_activity=Coalesce(Max("chunks__created_at"), F("started_at")))
        .filter(
            Q(consultation__ended_at__lt=now - selectors.RECORDING_GRACE)
            | Q(last_activity__lt=now - RECORDING_ABANDONED_AFTER)
        )
        .values_list("pk", flat=True)
    )
    closed = 0
    for pk in list(candidates):
        with transaction.atomic():
            # Under the row lock a chunk being stored right now either lands before the close
            # (and is counted) or is refused after it.
            recording = (
                Recording.objects.select_for_update()
                .filter(pk=pk, status=Recording.Status.RECORDING)
                .first()
            )
            if recording is None:
                continue
            _close_recording(recording, status=Recording.Status.INTERRUPTED)
            audit_record(
                actor=None,
                event_type=AuditEventType.RECORDING_ABANDONED,
                subject=recording,
                extra={"chunks": recording.chunk_count, "size": recording.size},
            )
            _announce(recording.consultation_id, {"type": "recording", "on": False})
        closed += 1
    return closed


def _require_recording_viewer(actor: Any, recording: Recording) -> None:
    if not selectors.may_view_recordings(actor, recording.consultation.booking.slot.service):
        raise PermissionDenied(_("Only a head of the service can open recordings."))


@transaction.atomic
def recording_access_record(
    *, actor: Any, recording: Recording, reason: str, kind: str = RecordingAccess.Kind.DOWNLOAD
) -> RecordingAccess:
    """Log one read of a recording (who, when, why) before its bytes are given out."""
    _require_recording_viewer(actor, recording)
    access = RecordingAccess(recording=recording, user=actor, kind=kind, reason=reason.strip())
    access.full_clean(exclude=["recording", "user"])
    access.save()
    audit_record(
        actor=actor,
        event_type=AuditEventType.RECORDING_ACCESSED,
        subject=recording,
        extra={"access_id": access.pk, "kind": kind},
    )
    return access


def recording_read(*, actor: Any, recording: Recording, reason: str) -> Iterator[bytes]:
    """The decrypted recording (a WebM file) chunk by chunk, after the access is logged.

    `ValidationError` when no reason is given. A missing chunk (lost upload) is skipped: the
    players resynchronise at the next cluster.
    """
    recording_access_record(actor=actor, recording=recording, reason=reason)
    data_key = recording_crypto.unwrap_key(key_id=recording.key_id, wrapped=recording.wrapped_key)
    items = [
        (c.storage_name, recording_crypto.chunk_aad(recording.pk, c.seq))
        for c in recording.chunks.order_by("seq")
    ]
    return iter(recording_crypto.decrypt_stream(data_key, items))


@transaction.atomic
def recording_release_create(
    *,
    actor: Any,
    recording: Recording,
    recipient: str,
    complaint_ref: str,
    reason: str,
    requested_on: dt.date,
) -> RecordingRelease:
    """Register an authority's request for a recording (a complaint review): due within
    3 working days of the request by the service's calendar (regulation 000)."""
    _require_recording_viewer(actor, recording)
    service = recording.consultation.booking.slot.service
    release = RecordingRelease(
        recording=recording,
        recipient=(recipient or "").strip(),
        complaint_ref=(complaint_ref or "").strip(),
        reason=(reason or "").strip(),
        requested_on=requested_on,
        due_on=ServiceCalendar(service).add_working_days(requested_on, RELEASE_WORKING_DAYS),
        created_by=actor,
    )
    release.full_clean(exclude=["recording", "created_by", "released_by"])
    release.save()
    audit_record(
        actor=actor,
        event_type=AuditEventType.RECORDING_RELEASE_REQUESTED,
        subject=recording,
        extra={"release_id": release.pk, "due_on": release.due_on.isoformat()},
    )
    return release


@transaction.atomic
def recording_release_mark_released(*, actor: Any, release: RecordingRelease) -> RecordingRelease:
    """The recording was handed over: logged as an access with the complaint as its reason."""
    release = (
        RecordingRelease.objects.select_for_update()
        .select_related("recording__consultation__booking__slot__service")
        .get(pk=release.pk)
    )
    if release.released_at is not None:
        return release
    recording_access_record(
        actor=actor,
        recording=release.recording,
        reason=f"{release.complaint_ref}: {release.recipient}"[:500],
        kind=RecordingAccess.Kind.RELEASE,
    )
    release.released_at = timezone.now()
    release.released_by = actor
    release.save(update_fields=["released_at", "released_by"])
    audit_record(
        actor=actor,
        event_type=AuditEventType.RECORDING_RELEASED,
        subject=release.recording,
        extra={"release_id": release.pk, "late": release.released_at.date() > release.due_on},
    )
    return release


RELEASE_WORKING_DAYS = 3


# --- Files in the chat (regulation 002 §4.3.2) -----------------------------------------------------


def chat_file_create(
    *, consultation_id: int, sender: str, name: str, data: bytes, client_msg_id: str = ""
) -> ChatMessage:
    """Store a file sent in the room's chat as the next chat line, encrypted at rest, and send it
    to the room. The type is checked by extension and content, the size against the limit
    (`DomainError` naming the limit or the allowed types)."""
    ext, content_type = chat_files.check_file(name, data)
    name = chat_files.clean_name(name)
    client_msg_id = (client_msg_id or "")[:64]
    if client_msg_id:
        existing = ChatMessage.objects.filter(
            consultation_id=consultation_id, sender=sender, client_msg_id=client_msg_id
        ).first()
        if existing is not None:
            return existing
    data_key, key_id, wrapped = recording_crypto.new_data_key()
    blob = recording_crypto.encrypt(
        data_key, data, aad=recording_crypto.attachment_aad(consultation_id)
    )
    stored = recording_crypto.store_blob(
        f"chat/{consultation_id}/{secrets.token_hex(12)}.bin", blob
    )
    try:
        with transaction.atomic():
            c = Consultation.objects.select_for_update().get(pk=consultation_id)
            if c.status in CLOSED_STATUSES:
                raise DomainError(_("The consultation is closed."), code="closed")
            message = _chat_append(c, sender=sender, text=name, client_msg_id=client_msg_id)
            attachment = ChatAttachment(
                message=message,
                name=name,
                content_type=content_type,
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                key_id=key_id,
                wrapped_key=wrapped,
                storage_name=stored,
            )
            attachment.full_clean(exclude=["message"])
            attachment.save()
            audit_record(
                actor=None,
                event_type=AuditEventType.CHAT_FILE_SENT,
                subject=c,
                extra={"seq": message.seq, "sender": sender, "size": len(data), "type": ext},
            )
            payload = selectors.chat_message_payload(message)
            _announce(c.pk, {"type": "chat", **payload})
    except BaseException:
        recording_crypto.delete_blob(stored)
        raise
    return message


@transaction.atomic
def chat_file_read(
    *, consultation: Consultation, seq: int, actor: Any, reader: str
) -> tuple[ChatAttachment, bytes]:
    """The decrypted file of chat line `seq` for one of the two participants (`reader` is
    "client" or "consultant"; the caller has checked the token or the login). Logged."""
    attachment = (
        ChatAttachment.objects.select_related("message")
        .filter(message__consultation=consultation, message__seq=seq)
        .first()
    )
    if attachment is None:
        raise NotFound(_("There is no such file in this consultation."))
    data_key = recording_crypto.unwrap_key(key_id=attachment.key_id, wrapped=attachment.wrapped_key)
    data = recording_crypto.decrypt(
        data_key,
        recording_crypto.read_blob(attachment.storage_name),
        aad=recording_crypto.attachment_aad(consultation.pk),
    )
    audit_record(
        actor=actor,
        event_type=AuditEventType.CHAT_FILE_DOWNLOADED,
        subject=consultation,
        extra={"seq": seq, "by": reader},
    )
    return attachment, data


# --- The next consultation, booked from the protocol screen ---------------------------------------


def next_consultation_book(*, actor: Any, consultation: Consultation, slot: Any) -> Booking:
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

    _require_booked_consultant(actor, consultation)
    consultation = selectors.consultation_by_id(consultation.pk)
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
            assigned_to=actor,
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


def slot_when(slot: Any) -> str:
    local = timezone.localtime(slot.starts_at, slot.service.tz)
    return f"{local:%d.%m.%Y %H:%M}"
