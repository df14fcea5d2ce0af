"""The recording: made in the consultant's browser, stored in chunks, read and released."""

import datetime as dt
from collections.abc import Iterator
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from opora.accounts.actors import Actor, User
from opora.consultations import locks, selectors
from opora.consultations import recording_store as store
from opora.consultations.models import (
    Consultation,
    Recording,
    RecordingAccess,
    RecordingChunk,
    RecordingRelease,
)
from opora.consultations.recording_store import RecordingTables
from opora.consultations.services.after import _lock, _require_booked_consultant
from opora.core.audit import AuditEventType, audit_record
from opora.core.errors import DomainError
from opora.scheduling.calendar import ServiceCalendar

RECORDING_MIME_TYPES = store.RECORDING_MIME_TYPES
RECORDING_MAX_SEQ = store.RECORDING_MAX_SEQ

# --- Recording (docs/ARCHITECTURE.md: recorded in the consultant's browser, chunked) --------------
# The store itself (chunks, seal, reasoned read) is `consultations.recording_store`, shared with
# the events' rooms; this module adds the consultation: who records, the policy and consent.

RECORDING_TABLES: RecordingTables[Recording, RecordingChunk, RecordingAccess] = RecordingTables(
    recording=Recording,
    chunk=RecordingChunk,
    access=RecordingAccess,
    owner_field="consultation",
    lock=locks.recording_qs_select_for_update,
    aad_prefix="opora-recording",  # = recording.chunk_aad: the stored blobs are bound to it
    storage_prefix="recordings",
)


def recording_chunk_max_bytes() -> int:
    return store.chunk_max_bytes()


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


def _announce_off(recording: Recording) -> None:
    _announce(recording.consultation_id, {"type": "recording", "on": False})


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
    recording = store.recording_open(
        RECORDING_TABLES,
        actor=actor,
        owner=consultation,
        started_by=consultant,
        policy=consultation.booking.slot.service.recording_policy,
        mime_type=mime_type,
        audit_extra={"consultation_id": consultation.pk},
    )
    _announce(consultation.pk, {"type": "recording", "on": True})
    return recording


def _consultation_of(recording: Recording) -> Consultation:
    consultation = selectors.consultation_by_id(recording.consultation_id)
    if consultation is None:
        raise DomainError(_("The consultation does not exist."), code="not_found")
    return consultation


def recording_chunk_store(
    *, actor: Actor, recording: Recording, seq: int, data: bytes
) -> tuple[RecordingChunk, bool]:
    """Store one uploaded chunk encrypted; returns (chunk, created).

    Every chunk is checked again: the booked consultant, a running recording, and the policy and
    consent as at the start. A chunk re-sent after a lost answer (same `seq`) is stored once.
    """

    def still_allowed(_locked: Recording) -> None:
        refusal = selectors.recording_refusal(_consultation_of(recording))
        if refusal is not None:
            raise DomainError(refusal, code="recording_not_allowed")

    return store.recording_chunk_store(
        RECORDING_TABLES,
        recording=recording,
        seq=seq,
        data=data,
        authorize=lambda: _require_booked_consultant(actor, _consultation_of(recording)),
        check_locked=still_allowed,
    )


def recording_finish(*, actor: Actor, recording: Recording) -> Recording:
    """The consultant's browser stopped the recorder and sent the last chunk: seal the totals."""
    return store.recording_finish(
        RECORDING_TABLES,
        actor=actor,
        recording=recording,
        authorize=lambda locked: _require_booked_consultant(actor, _consultation_of(locked)),
        audit_extra=lambda r: {"chunks": r.chunk_count, "size": r.size},
        on_closed=_announce_off,
    )


RECORDING_ABANDONED_AFTER = store.RECORDING_ABANDONED_AFTER


def recordings_close_abandoned(*, now: dt.datetime | None = None) -> int:
    """Close as interrupted every recording still running that can receive no more chunks: its
    consultation ended longer ago than the grace period, or no chunk (nor the start) came for
    `RECORDING_ABANDONED_AFTER` (`recording_store.recordings_close_abandoned`)."""
    now = now or timezone.now()
    return store.recordings_close_abandoned(
        RECORDING_TABLES,
        owner_ended=Q(consultation__ended_at__lt=now - selectors.RECORDING_GRACE),
        now=now,
        audit_extra=lambda r: {"chunks": r.chunk_count, "size": r.size},
        on_closed=_announce_off,
    )


def _require_recording_viewer(actor: Actor, recording: Recording) -> User:
    """The head (or administrator) reading: a staff member, never a client or the system."""
    if not (
        isinstance(actor, User)
        and selectors.may_view_recordings(actor, recording.consultation.booking.slot.service)
    ):
        raise PermissionDenied(_("Only a head of the service can open recordings."))
    return actor


def recording_access_record(
    *, actor: Actor, recording: Recording, reason: str, kind: str = RecordingAccess.Kind.DOWNLOAD
) -> RecordingAccess:
    """Log one read of a recording (who, when, why) before its bytes are given out."""
    return store.recording_access_record(
        RECORDING_TABLES,
        actor=actor,
        viewer=_require_recording_viewer(actor, recording),
        recording=recording,
        reason=reason,
        audit_extra={"kind": kind},
        fields={"kind": kind},
    )


def recording_read(*, actor: Actor, recording: Recording, reason: str) -> Iterator[bytes]:
    """The decrypted recording (a WebM file) chunk by chunk, after the access is logged.

    `ValidationError` when no reason is given. A missing chunk (lost upload) is skipped: the
    players resynchronise at the next cluster.
    """
    recording_access_record(actor=actor, recording=recording, reason=reason)
    return store.recording_decrypted(RECORDING_TABLES, recording)


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
