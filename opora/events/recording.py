"""Recording an event's room (issue 14): under the service's recording policy and consents, as in
the 1:1 room.

The lead's (or a presenter's) browser records what it sends and receives with MediaRecorder and
uploads chunks; they are stored encrypted exactly like the 1:1 recordings — the envelope
encryption and the private storage of `opora.consultations.recording` are reused, only the rows
are the events' own (`EventRecording`: a consultation's `Recording` belongs to a consultation).

The policy (`core.Service.recording_policy`):
- "never": an event is never recorded;
- "consent": the recording starts only when every participant in the room (an open stay) said
  yes on their room page — the refusal names who has not; a participant who joins later is asked
  and shown the indicator, and one who did not consent cannot take the floor (raise a hand) while
  the recording runs, so they are never recorded;
- "notice": every participant in the room has been shown the notice (on their room page, before
  joining); everyone sees the indicator.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterator

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from opora.accounts.actors import Actor
from opora.accounts.models import User
from opora.accounts.policy import Action, can
from opora.consultations import recording as crypto
from opora.core.audit import AuditEventType, audit_record
from opora.core.errors import DomainError, PermissionDenied
from opora.core.models import Service
from opora.events import locks
from opora.events.access import may_lead
from opora.events.models import (
    Event,
    EventRecording,
    EventRecordingAccess,
    EventRecordingChunk,
    Registration,
)

RECORDING_MIME_TYPES = ("video/webm", "audio/webm")
RECORDING_MAX_SEQ = 100_000
# Chunks and the finish still accepted this long after the event's end (the last piece, retries).
RECORDING_GRACE = dt.timedelta(minutes=5)


def chunk_max_bytes() -> int:
    return int(getattr(settings, "OPORA_RECORDING_CHUNK_MAX_BYTES", 16 * 1024 * 1024))


def chunk_aad(recording_id: int, seq: int) -> bytes:
    """Binds a blob to its place: not interchangeable with a consultation's chunk either."""
    return f"opora-event-recording:{recording_id}:{seq}".encode()


# --- reads ---------------------------------------------------------------------------------------


def may_record(user: Actor | None, event: Event) -> bool:
    """The event's lead or a presenter (or staff with `event.moderate`), whose role the policy
    lets record (`event.record`) on the event's service."""
    return can(user, Action.EVENT_RECORD, event) and may_lead(user, event, presenters=True)


def may_view(user: Actor | None, event: Event) -> bool:
    """As a 1:1 recording: a head of the service or an administrator (`recording.view`)."""
    return can(user, Action.RECORDING_VIEW, event)


def present_registrations(event: Event) -> list[Registration]:
    """The participants in the room now: an open stay (a join without a leave)."""
    return list(
        Registration.objects.filter(
            event=event,
            status=Registration.Status.CONFIRMED,
            attendances__left_at__isnull=True,
        )
        .distinct()
        .order_by("pk")
    )


def recording_refusal(event: Event, *, now: dt.datetime | None = None) -> str | None:
    """Why the event's room may not be recorded now (a sentence for the lead), or None."""
    policy = event.service.recording_policy
    if policy == Service.RecordingPolicy.NEVER:
        return _("This service does not record its events.")
    if event.state == Event.State.CANCELLED:
        return _("The event is cancelled.")
    now = now or timezone.now()
    if now > event.ends_at + RECORDING_GRACE:
        return _("The event has ended.")
    present = present_registrations(event)
    if policy == Service.RecordingPolicy.CONSENT:
        missing = [r for r in present if r.recording_consent is not True]
        if missing:
            return _("Not everyone in the room has consented to recording: %(names)s.") % {
                "names": ", ".join(r.display_name for r in missing)
            }
    if policy == Service.RecordingPolicy.NOTICE:
        missing = [r for r in present if r.recording_notice_at is None]
        if missing:
            return _("Not everyone in the room has been shown the recording notice: %(names)s.") % {
                "names": ", ".join(r.display_name for r in missing)
            }
    return None


def recording_running(event: Event) -> EventRecording | None:
    return event.recordings.filter(status=EventRecording.Status.RECORDING).first()


def recordings_of(*, actor: Actor | None, event: Event) -> list[EventRecording]:
    """The event's recordings for a head or an administrator (none for anyone else)."""
    if not may_view(actor, event):
        return []
    return list(event.recordings.select_related("started_by").order_by("-started_at", "-pk"))


def recording_get(*, actor: Actor | None, recording_id: int) -> EventRecording | None:
    """One recording, or None when there is none or `actor` may not see it (no leak)."""
    recording = (
        EventRecording.objects.select_related("event__service", "started_by")
        .filter(pk=recording_id)
        .first()
    )
    if recording is None or not may_view(actor, recording.event):
        return None
    return recording


# --- the participants' answers -------------------------------------------------------------------


@transaction.atomic
def registration_recording_consent(*, registration: Registration, consent: bool) -> Registration:
    """The participant's answer to the room's recording prompt, with its time."""
    now = timezone.now()
    Registration.objects.filter(pk=registration.pk).update(
        recording_consent=consent, recording_consent_at=now
    )
    registration.recording_consent, registration.recording_consent_at = consent, now
    audit_record(
        actor=None,
        event_type=AuditEventType.EVENT_RECORDING_CONSENT,
        subject=registration,
        extra={"event_id": registration.event_id, "consent": consent},
    )
    return registration


def registration_recording_notice(*, registration: Registration) -> Registration:
    """The participant was shown the recording notice (policy "notice"); the first time counts."""
    now = timezone.now()
    if Registration.objects.filter(pk=registration.pk, recording_notice_at__isnull=True).update(
        recording_notice_at=now
    ):
        registration.recording_notice_at = now
    return registration


def may_take_floor(registration: Registration) -> str | None:
    """Why a participant may not raise a hand (be heard, so recorded) now, or None: under the
    consent policy, while a recording runs, only those who consented speak."""
    event = registration.event
    if (
        event.service.recording_policy == Service.RecordingPolicy.CONSENT
        and registration.recording_consent is not True
        and recording_running(event) is not None
    ):
        return _(
            "The room is being recorded and you have not consented: you can watch and write in "
            "the chat, but not speak."
        )
    return None


# --- the recorder ----------------------------------------------------------------------------------


def _require_recorder(actor: Actor | None, event: Event) -> User:
    if not isinstance(actor, User) or not may_record(actor, event):
        raise PermissionDenied(_("Only the event's lead or a presenter can record."))
    return actor


def _close(recording: EventRecording, *, status: str) -> EventRecording:
    """Seal a recording (row locked by the caller): totals and the SHA-256 of the decrypted file."""
    data_key = crypto.unwrap_key(key_id=recording.key_id, wrapped=recording.wrapped_key)
    digest = hashlib.sha256()
    size = count = 0
    for chunk in recording.chunks.order_by("seq"):
        plain = crypto.decrypt(
            data_key, crypto.read_blob(chunk.storage_name), aad=chunk_aad(recording.pk, chunk.seq)
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
def event_recording_start(*, actor: Actor | None, event: Event, mime_type: str) -> EventRecording:
    """The lead's browser starts recording: refused (with the reason, naming who has not
    consented) unless the service's policy and the participants in the room allow it. A recording
    still running (the page was reloaded) is closed as interrupted."""
    user = _require_recorder(actor, event)
    event = locks.event_qs_select_for_update().select_related("service").get(pk=event.pk)
    refusal = recording_refusal(event)
    if refusal is not None:
        raise DomainError(refusal, code="recording_not_allowed")
    base_type = (mime_type or "").split(";")[0].strip().lower()
    if base_type not in RECORDING_MIME_TYPES:
        raise DomainError(_("The recording must be WebM video or audio."), code="recording_type")
    for old in locks.event_recording_qs_select_for_update().filter(
        event=event, status=EventRecording.Status.RECORDING
    ):
        _close(old, status=EventRecording.Status.INTERRUPTED)
    _data_key, key_id, wrapped = crypto.new_data_key()
    recording = EventRecording(
        event=event,
        started_by=user,
        policy=event.service.recording_policy,
        mime_type=base_type,
        key_id=key_id,
        wrapped_key=wrapped,
        storage_path=f"event-recordings/{event.pk}/{secrets.token_hex(8)}",
    )
    recording.full_clean(exclude=["event", "started_by"])
    recording.save()
    audit_record(
        actor=user,
        event_type=AuditEventType.RECORDING_STARTED,
        subject=recording,
        extra={"event_id": event.pk, "policy": recording.policy},
    )
    return recording


def event_recording_chunk_store(
    *, actor: Actor | None, recording: EventRecording, seq: int, data: bytes
) -> tuple[EventRecordingChunk, bool]:
    """Store one uploaded chunk encrypted; returns (chunk, created). Only the one who started the
    recording uploads, while it runs and the policy still records; a re-sent `seq` is kept once."""
    if not 0 <= seq <= RECORDING_MAX_SEQ:
        raise DomainError(_("Wrong chunk number."), code="chunk_seq")
    if not data:
        raise DomainError(_("The chunk is empty."), code="chunk_empty")
    if len(data) > chunk_max_bytes():
        raise DomainError(_("The chunk is too large."), code="chunk_too_large")
    event = recording.event
    user = _require_recorder(actor, event)
    if user.pk != recording.started_by_id:
        raise PermissionDenied(_("Only the one who started the recording uploads it."))
    existing = EventRecordingChunk.objects.filter(recording_id=recording.pk, seq=seq).first()
    if existing is not None:
        return existing, False
    data_key = crypto.unwrap_key(key_id=recording.key_id, wrapped=recording.wrapped_key)
    # The file first, then the row: a row never points to a missing file; a file whose row lost a
    # race (or whose checks failed) is removed.
    name = crypto.store_blob(
        f"{recording.storage_path}/{seq:06d}.bin",
        crypto.encrypt(data_key, data, aad=chunk_aad(recording.pk, seq)),
    )
    try:
        with transaction.atomic():
            locked = locks.event_recording_qs_select_for_update().get(pk=recording.pk)
            if locked.status != EventRecording.Status.RECORDING:
                raise DomainError(_("This recording has been stopped."), code="recording_closed")
            service = Service.objects.get(pk=event.service_id)
            if service.recording_policy == Service.RecordingPolicy.NEVER:
                raise DomainError(
                    _("This service does not record its events."), code="recording_not_allowed"
                )
            chunk = EventRecordingChunk(
                recording=locked,
                seq=seq,
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                storage_name=name,
            )
            chunk.full_clean(exclude=["recording"], validate_unique=False)
            chunk.save()
            EventRecording.objects.filter(pk=locked.pk).update(
                chunk_count=F("chunk_count") + 1, size=F("size") + len(data)
            )
    except IntegrityError:
        crypto.delete_blob(name)
        return EventRecordingChunk.objects.get(recording_id=recording.pk, seq=seq), False
    except BaseException:
        crypto.delete_blob(name)
        raise
    return chunk, True


@transaction.atomic
def event_recording_finish(*, actor: Actor | None, recording: EventRecording) -> EventRecording:
    """The recorder stopped and sent its last chunk: seal the totals (once)."""
    _require_recorder(actor, recording.event)
    recording = locks.event_recording_qs_select_for_update().get(pk=recording.pk)
    if recording.status != EventRecording.Status.RECORDING:
        return recording
    _close(recording, status=EventRecording.Status.FINISHED)
    audit_record(
        actor=actor,
        event_type=AuditEventType.RECORDING_FINISHED,
        subject=recording,
        extra={"event_id": recording.event_id, "chunks": recording.chunk_count},
    )
    return recording


# A running recording nothing reached for this long is abandoned (the recorder sends a piece every
# 5 seconds): a crashed browser or a closed tab.
RECORDING_ABANDONED_AFTER = dt.timedelta(minutes=15)


def event_recordings_close_abandoned(*, now: dt.datetime | None = None) -> int:
    """Close as interrupted every running recording that can receive no more chunks — its event
    ended longer ago than the grace, or nothing came for `RECORDING_ABANDONED_AFTER` — sealing the
    totals and the SHA-256 as for a finished one. Returns how many were closed."""
    now = now or timezone.now()
    candidates = (
        EventRecording.objects.filter(status=EventRecording.Status.RECORDING)
        .select_related("event")
        .annotate(last_activity=Coalesce(Max("chunks__created_at"), F("started_at")))
    )
    closed = 0
    for candidate in candidates:
        ended = candidate.event.ends_at + RECORDING_GRACE < now
        idle = candidate.last_activity < now - RECORDING_ABANDONED_AFTER
        if not (ended or idle):
            continue
        with transaction.atomic():
            recording = (
                locks.event_recording_qs_select_for_update()
                .filter(pk=candidate.pk, status=EventRecording.Status.RECORDING)
                .first()
            )
            if recording is None:
                continue
            _close(recording, status=EventRecording.Status.INTERRUPTED)
            audit_record(
                actor=None,
                event_type=AuditEventType.RECORDING_ABANDONED,
                subject=recording,
                extra={"event_id": recording.event_id, "chunks": recording.chunk_count},
            )
        closed += 1
    return closed


@transaction.atomic
def event_recording_access_record(
    *, actor: Actor | None, recording: EventRecording, reason: str
) -> EventRecordingAccess:
    """Log one read of a recording (who, when, why) before its bytes are given out."""
    if not isinstance(actor, User) or not can(actor, Action.RECORDING_DOWNLOAD, recording.event):
        raise PermissionDenied(_("Only a head of the service can open recordings."))
    access = EventRecordingAccess(recording=recording, user=actor, reason=(reason or "").strip())
    access.full_clean(exclude=["recording", "user"])
    access.save()
    audit_record(
        actor=actor,
        event_type=AuditEventType.RECORDING_ACCESSED,
        subject=recording,
        extra={"access_id": access.pk, "event_id": recording.event_id},
    )
    return access


def event_recording_read(
    *, actor: Actor | None, recording: EventRecording, reason: str
) -> Iterator[bytes]:
    """The decrypted recording (a WebM file) piece by piece, after the access is logged;
    `ValidationError` when no reason is given."""
    event_recording_access_record(actor=actor, recording=recording, reason=reason)
    data_key = crypto.unwrap_key(key_id=recording.key_id, wrapped=recording.wrapped_key)
    items = [(c.storage_name, chunk_aad(recording.pk, c.seq)) for c in recording.chunks.all()]
    return iter(crypto.decrypt_stream(data_key, items))
