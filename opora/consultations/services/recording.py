"""The recording: made in the consultant's browser, stored in chunks, read and released."""

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

from opora.accounts.actors import Actor, User
from opora.consultations import locks, selectors
from opora.consultations import recording as recording_crypto
from opora.consultations.models import (
    Consultation,
    Recording,
    RecordingAccess,
    RecordingChunk,
    RecordingRelease,
)
from opora.consultations.services.after import _lock, _require_booked_consultant
from opora.core.audit import AuditEventType, audit_record
from opora.core.errors import DomainError
from opora.scheduling.calendar import ServiceCalendar

# --- Recording (docs/ARCHITECTURE.md: recorded in the consultant's browser, chunked) --------------

RECORDING_MIME_TYPES = ("video/webm", "audio/webm")
RECORDING_MAX_SEQ = 100_000


def recording_chunk_max_bytes() -> int:
    return int(getattr(settings, "OPORA_RECORDING_CHUNK_MAX_BYTES", 16 * 1024 * 1024))


def _room_event(consultation_id: int, payload: dict[str, Any]) -> None:
    """Send `payload` to everyone in the room, in the shape the room consumer relays."""
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    if layer is not None:
        async_to_sync(layer.group_send)(
            f"room.{consultation_id}", {"type": "room.event", "sender": "", "payload": payload}
        )


def _announce(consultation_id: int, payload: dict[str, Any]) -> None:
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
def recording_start(*, actor: Actor, consultation: Consultation, mime_type: str) -> Recording:
    """The consultant's browser starts recording: allowed only when the service's policy and the
    client's stored consent (or the notice shown) allow it (`selectors.recording_refusal`).

    A recording still running (the page was reloaded) is closed as interrupted: a new
    MediaRecorder starts a new file. The client's room shows the "recording" indicator.
    """
    consultation = _lock(consultation)
    consultant = _require_booked_consultant(actor, consultation)
    refusal = selectors.recording_refusal(consultation)
    if refusal is not None or consultation.status != Consultation.Status.IN_PROGRESS:
        raise DomainError(
            refusal or _("Only a consultation in progress can be recorded."),
            code="recording_not_allowed",
        )
    base_type = (mime_type or "").split(";")[0].strip().lower()
    if base_type not in RECORDING_MIME_TYPES:
        raise DomainError(_("The recording must be WebM video or audio."), code="recording_type")
    running = locks.recording_qs_select_for_update().filter(
        consultation=consultation, status=Recording.Status.RECORDING
    )
    for old in running:
        _close_recording(old, status=Recording.Status.INTERRUPTED)
    _data_key, key_id, wrapped = recording_crypto.new_data_key()
    recording = Recording(
        consultation=consultation,
        started_by=consultant,
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
    *, actor: Actor, recording: Recording, seq: int, data: bytes
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
            locked = locks.recording_qs_select_for_update().get(pk=recording.pk)
            fresh = selectors.consultation_by_id(recording.consultation_id)
            if fresh is None:
                raise DomainError(_("The consultation does not exist."), code="not_found")
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
def recording_finish(*, actor: Actor, recording: Recording) -> Recording:
    """The consultant's browser stopped the recorder and sent the last chunk: seal the totals."""
    recording = locks.recording_qs_select_for_update().get(pk=recording.pk)
    consultation = selectors.consultation_by_id(recording.consultation_id)
    if consultation is None:
        raise DomainError(_("The consultation does not exist."), code="not_found")
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
                locks.recording_qs_select_for_update()
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


def _require_recording_viewer(actor: Actor, recording: Recording) -> User:
    """The head (or administrator) reading: a staff member, never a client or the system."""
    if not (
        isinstance(actor, User)
        and selectors.may_view_recordings(actor, recording.consultation.booking.slot.service)
    ):
        raise PermissionDenied(_("Only a head of the service can open recordings."))
    return actor


@transaction.atomic
def recording_access_record(
    *, actor: Actor, recording: Recording, reason: str, kind: str = RecordingAccess.Kind.DOWNLOAD
) -> RecordingAccess:
    """Log one read of a recording (who, when, why) before its bytes are given out."""
    viewer = _require_recording_viewer(actor, recording)
    access = RecordingAccess(recording=recording, user=viewer, kind=kind, reason=reason.strip())
    access.full_clean(exclude=["recording", "user"])
    access.save()
    audit_record(
        actor=actor,
        event_type=AuditEventType.RECORDING_ACCESSED,
        subject=recording,
        extra={"access_id": access.pk, "kind": kind},
    )
    return access


def recording_read(*, actor: Actor, recording: Recording, reason: str) -> Iterator[bytes]:
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
    actor: Actor,
    recording: Recording,
    recipient: str,
    complaint_ref: str,
    reason: str,
    requested_on: dt.date,
) -> RecordingRelease:
    """Register an authority's request for a recording (a complaint review): due within
    3 working days of the request by the service's calendar (regulation 000)."""
    viewer = _require_recording_viewer(actor, recording)
    service = recording.consultation.booking.slot.service
    release = RecordingRelease(
        recording=recording,
        recipient=(recipient or "").strip(),
        complaint_ref=(complaint_ref or "").strip(),
        reason=(reason or "").strip(),
        requested_on=requested_on,
        due_on=ServiceCalendar(service).add_working_days(requested_on, RELEASE_WORKING_DAYS),
        created_by=viewer,
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
def recording_release_mark_released(*, actor: Actor, release: RecordingRelease) -> RecordingRelease:
    """The recording was handed over: logged as an access with the complaint as its reason."""
    release = (
        locks.recording_release_qs_select_for_update()
        .select_related("recording__consultation__booking__slot__service")
        .get(pk=release.pk)
    )
    if release.released_at is not None:
        return release
    viewer = _require_recording_viewer(actor, release.recording)
    recording_access_record(
        actor=actor,
        recording=release.recording,
        reason=f"{release.complaint_ref}: {release.recipient}"[:500],
        kind=RecordingAccess.Kind.RELEASE,
    )
    release.released_at = timezone.now()
    release.released_by = viewer
    release.save(update_fields=["released_at", "released_by"])
    audit_record(
        actor=actor,
        event_type=AuditEventType.RECORDING_RELEASED,
        subject=release.recording,
        extra={"release_id": release.pk, "late": release.released_at.date() > release.due_on},
    )
    return release


RELEASE_WORKING_DAYS = 3
