"""Recording an event's room (issue 14): under the service's recording policy and consents, as in
the 1:1 room.

The lead's (or a presenter's) browser records what it sends and receives with the rooms' one
recorder (`core/static/core/recorder.js`) and uploads chunks; they go through the same store as
the 1:1 recordings (`opora.consultations.recording_store`: chunks encrypted, sealed, read with a
reason), only the rows are the events' own (`EventRecording`: a consultation's `Recording` belongs
to a consultation). This module adds the event: who records, the policy and the participants.

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
from collections.abc import Iterator

from django.db import transaction
from django.db.models import DateTimeField, ExpressionWrapper, F, Q, Value
from django.db.models.lookups import LessThan
from django.utils import timezone
from django.utils.translation import gettext as _

from opora.accounts.actors import Actor
from opora.accounts.models import User
from opora.accounts.policy import Action, can
from opora.consultations import recording_store as store
from opora.consultations.recording_store import RecordingTables
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

# Chunks and the finish still accepted this long after the event's end (the last piece, retries).
RECORDING_GRACE = dt.timedelta(minutes=5)


RECORDING_TABLES: RecordingTables[EventRecording, EventRecordingChunk, EventRecordingAccess] = (
    RecordingTables(
        recording=EventRecording,
        chunk=EventRecordingChunk,
        access=EventRecordingAccess,
        owner_field="event",
        lock=locks.event_recording_qs_select_for_update,
        # Binds a blob to its place: not interchangeable with a consultation's chunk either.
        aad_prefix="opora-event-recording",
        storage_prefix="event-recordings",
    )
)
chunk_max_bytes = store.chunk_max_bytes
chunk_aad = RECORDING_TABLES.chunk_aad


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
    return store.recording_open(
        RECORDING_TABLES,
        actor=user,
        owner=event,
        started_by=user,
        policy=event.service.recording_policy,
        mime_type=mime_type,
        audit_extra={"event_id": event.pk},
    )


def event_recording_chunk_store(
    *, actor: Actor | None, recording: EventRecording, seq: int, data: bytes
) -> tuple[EventRecordingChunk, bool]:
    """Store one uploaded chunk encrypted; returns (chunk, created). Only the one who started the
    recording uploads, while it runs and the policy still records; a re-sent `seq` is kept once."""
    event = recording.event

    def authorize() -> None:
        user = _require_recorder(actor, event)
        if user.pk != recording.started_by_id:
            raise PermissionDenied(_("Only the one who started the recording uploads it."))

    def still_allowed(_locked: EventRecording) -> None:
        service = Service.objects.get(pk=event.service_id)
        if service.recording_policy == Service.RecordingPolicy.NEVER:
            raise DomainError(
                _("This service does not record its events."), code="recording_not_allowed"
            )

    return store.recording_chunk_store(
        RECORDING_TABLES,
        recording=recording,
        seq=seq,
        data=data,
        authorize=authorize,
        check_locked=still_allowed,
    )


def event_recording_finish(*, actor: Actor | None, recording: EventRecording) -> EventRecording:
    """The recorder stopped and sent its last chunk: seal the totals (once)."""
    return store.recording_finish(
        RECORDING_TABLES,
        actor=actor,
        recording=recording,
        authorize=lambda locked: _require_recorder(actor, locked.event),
        audit_extra=lambda r: {"event_id": r.event_id, "chunks": r.chunk_count},
    )


RECORDING_ABANDONED_AFTER = store.RECORDING_ABANDONED_AFTER
# `Event.ends_at` in the database, from a recording's row.
_EVENT_ENDS_AT = ExpressionWrapper(
    F("event__starts_at") + F("event__duration_minutes") * Value(dt.timedelta(minutes=1)),
    output_field=DateTimeField(),
)


def event_recordings_close_abandoned(*, now: dt.datetime | None = None) -> int:
    """Close as interrupted every running recording that can receive no more chunks — its event
    ended longer ago than the grace, or nothing came for `RECORDING_ABANDONED_AFTER` — sealing the
    totals and the SHA-256 as for a finished one. Returns how many were closed."""
    now = now or timezone.now()
    return store.recordings_close_abandoned(
        RECORDING_TABLES,
        owner_ended=Q(LessThan(_EVENT_ENDS_AT, now - RECORDING_GRACE)),
        now=now,
        audit_extra=lambda r: {"event_id": r.event_id, "chunks": r.chunk_count},
    )


def event_recording_access_record(
    *, actor: Actor | None, recording: EventRecording, reason: str
) -> EventRecordingAccess:
    """Log one read of a recording (who, when, why) before its bytes are given out."""
    if not isinstance(actor, User) or not can(actor, Action.RECORDING_DOWNLOAD, recording.event):
        raise PermissionDenied(_("Only a head of the service can open recordings."))
    return store.recording_access_record(
        RECORDING_TABLES,
        actor=actor,
        viewer=actor,
        recording=recording,
        reason=reason,
        audit_extra={"event_id": recording.event_id},
    )


def event_recording_read(
    *, actor: Actor | None, recording: EventRecording, reason: str
) -> Iterator[bytes]:
    """The decrypted recording (a WebM file) piece by piece, after the access is logged;
    `ValidationError` when no reason is given."""
    event_recording_access_record(actor=actor, recording=recording, reason=reason)
    return store.recording_decrypted(RECORDING_TABLES, recording)
