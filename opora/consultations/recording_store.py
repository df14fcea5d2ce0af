"""One recording store for every room: the 1:1 room's `Recording` and an event's `EventRecording`.

A browser records with MediaRecorder (`opora/static/opora/recorder.js`) and uploads numbered chunks;
this module starts a recording, stores each chunk encrypted, seals the totals (finish, or the
sweep of abandoned ones) and gives the decrypted file out only after the read is logged with its
reason. It knows nothing of consultations or events: the room's service passes its tables
(`RecordingTables`, with the row lock from its own `locks.py`), checks who may record or read and
whether the policy allows it, and adds its own audit details.

Storage and encryption are `opora.consultations.recording` (envelope encryption, private storage).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import F, Max, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from opora.accounts.actors import Actor, User
from opora.consultations import recording as crypto
from opora.consultations.recording_models import (
    RecordingAccessBase,
    RecordingBase,
    RecordingChunkBase,
)
from opora.core.audit import AuditEventType, audit_record
from opora.core.errors import DomainError

RECORDING_MIME_TYPES = ("video/webm", "audio/webm")
RECORDING_MAX_SEQ = 100_000
# A running recording nothing has reached for this long is abandoned: the recorder sends a chunk
# every 5 seconds, so this is a crashed browser or a closed tab, not a slow network.
RECORDING_ABANDONED_AFTER = dt.timedelta(minutes=15)

R = TypeVar("R", bound=RecordingBase)
C = TypeVar("C", bound=RecordingChunkBase)
A = TypeVar("A", bound=RecordingAccessBase)
Extra = dict[str, Any]


def chunk_max_bytes() -> int:
    return int(getattr(settings, "OPORA_RECORDING_CHUNK_MAX_BYTES", 16 * 1024 * 1024))


@dataclass(frozen=True)
class RecordingTables(Generic[R, C, A]):
    """One owner's recording tables and how its blobs are named and bound.

    `lock` is the owner app's `locks.<recording>_qs_select_for_update` (row locks stay in
    `<app>/locks.py`); `aad_prefix` binds every blob to this table, its recording and its place;
    `storage_prefix` is the folder of the owner's files in the private storage.
    """

    recording: type[R]
    chunk: type[C]
    access: type[A]
    owner_field: str
    lock: Callable[[], QuerySet[R]]
    aad_prefix: str
    storage_prefix: str

    def chunk_aad(self, recording_id: int, seq: int) -> bytes:
        return f"{self.aad_prefix}:{recording_id}:{seq}".encode()

    def chunks(self, recording: RecordingBase) -> QuerySet[C]:
        return self.chunk._default_manager.filter(recording_id=recording.pk).order_by("seq")


def _seal(tables: RecordingTables[R, C, A], recording: R, *, status: str) -> R:
    """Close a recording (row locked by the caller): totals and the SHA-256 of the decrypted file."""
    data_key = crypto.unwrap_key(key_id=recording.key_id, wrapped=recording.wrapped_key)
    digest = hashlib.sha256()
    size = count = 0
    for chunk in tables.chunks(recording):
        plain = crypto.decrypt(
            data_key,
            crypto.read_blob(chunk.storage_name),
            aad=tables.chunk_aad(recording.pk, chunk.seq),
        )
        digest.update(plain)
        size += len(plain)
        count += 1
    recording.status = status
    recording.ended_at = timezone.now()
    recording.size, recording.chunk_count, recording.sha256 = size, count, digest.hexdigest()
    recording.save(update_fields=["status", "ended_at", "size", "chunk_count", "sha256"])
    return recording


def _close(
    tables: RecordingTables[R, C, A],
    recording: R,
    *,
    status: str,
    actor: Actor | None,
    event_type: AuditEventType,
    audit_extra: Callable[[R], Extra],
    on_closed: Callable[[R], object] | None,
) -> R:
    """Seal a running recording (row locked by the caller), audit it, then tell the room."""
    _seal(tables, recording, status=status)
    audit_record(
        actor=actor, event_type=event_type, subject=recording, extra=audit_extra(recording)
    )
    if on_closed is not None:
        on_closed(recording)
    return recording


def recording_open(
    tables: RecordingTables[R, C, A],
    *,
    actor: Actor | None,
    owner: models.Model,
    started_by: User,
    policy: str,
    mime_type: str,
    audit_extra: Extra,
) -> R:
    """A new recording of `owner` (locked and checked by the caller, inside its transaction).

    A recording of the owner still running (the page was reloaded) is closed as interrupted: a new
    MediaRecorder starts a new file.
    """
    base_type = (mime_type or "").split(";")[0].strip().lower()
    if base_type not in RECORDING_MIME_TYPES:
        raise DomainError(_("The recording must be WebM video or audio."), code="recording_type")
    running = tables.lock().filter(
        **{tables.owner_field: owner, "status": RecordingBase.Status.RECORDING}
    )
    for old in running:
        _seal(tables, old, status=RecordingBase.Status.INTERRUPTED)
    _data_key, key_id, wrapped = crypto.new_data_key()
    recording = tables.recording(
        started_by=started_by,
        policy=policy,
        mime_type=base_type,
        key_id=key_id,
        wrapped_key=wrapped,
        storage_path=f"{tables.storage_prefix}/{owner.pk}/{secrets.token_hex(8)}",
        **{tables.owner_field: owner},
    )
    recording.full_clean(exclude=[tables.owner_field, "started_by"])
    recording.save()
    audit_record(
        actor=actor,
        event_type=AuditEventType.RECORDING_STARTED,
        subject=recording,
        extra={**audit_extra, "policy": recording.policy},
    )
    return recording


def recording_chunk_store(
    tables: RecordingTables[R, C, A],
    *,
    recording: R,
    seq: int,
    data: bytes,
    authorize: Callable[[], object],
    check_locked: Callable[[R], object],
) -> tuple[C, bool]:
    """Store one uploaded chunk encrypted; returns (chunk, created).

    `authorize` raises unless the actor may upload into `recording`; `check_locked` raises (a
    `DomainError`) unless the policy still allows recording, under the recording's row lock. A
    chunk re-sent after a lost answer (same `seq`) is stored once.
    """
    if not 0 <= seq <= RECORDING_MAX_SEQ:
        raise DomainError(_("Wrong chunk number."), code="chunk_seq")
    if not data:
        raise DomainError(_("The chunk is empty."), code="chunk_empty")
    if len(data) > chunk_max_bytes():
        raise DomainError(_("The chunk is too large."), code="chunk_too_large")
    authorize()
    chunks = tables.chunk._default_manager
    existing = chunks.filter(recording_id=recording.pk, seq=seq).first()
    if existing is not None:
        return existing, False
    data_key = crypto.unwrap_key(key_id=recording.key_id, wrapped=recording.wrapped_key)
    # The file first, then the row: a row never points to a missing file; a file whose row lost
    # a race (or whose checks failed) is removed.
    name = crypto.store_blob(
        f"{recording.storage_path}/{seq:06d}.bin",
        crypto.encrypt(data_key, data, aad=tables.chunk_aad(recording.pk, seq)),
    )
    try:
        with transaction.atomic():
            locked = tables.lock().get(pk=recording.pk)
            check_locked(locked)
            if locked.status != RecordingBase.Status.RECORDING:
                raise DomainError(_("This recording has been stopped."), code="recording_closed")
            chunk = tables.chunk(
                recording=locked,
                seq=seq,
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                storage_name=name,
            )
            chunk.full_clean(exclude=["recording"], validate_unique=False)
            chunk.save()
            tables.recording._default_manager.filter(pk=locked.pk).update(
                chunk_count=F("chunk_count") + 1, size=F("size") + len(data)
            )
    except IntegrityError:
        crypto.delete_blob(name)
        return chunks.get(recording_id=recording.pk, seq=seq), False
    except BaseException:
        crypto.delete_blob(name)
        raise
    return chunk, True


@transaction.atomic
def recording_finish(
    tables: RecordingTables[R, C, A],
    *,
    actor: Actor | None,
    recording: R,
    authorize: Callable[[R], object],
    audit_extra: Callable[[R], Extra],
    on_closed: Callable[[R], object] | None = None,
) -> R:
    """The recorder stopped and sent its last chunk: seal the totals (once). `authorize` raises
    unless the actor may finish the (locked) recording."""
    recording = tables.lock().get(pk=recording.pk)
    authorize(recording)
    if recording.status != RecordingBase.Status.RECORDING:
        return recording
    return _close(
        tables,
        recording,
        status=RecordingBase.Status.FINISHED,
        actor=actor,
        event_type=AuditEventType.RECORDING_FINISHED,
        audit_extra=audit_extra,
        on_closed=on_closed,
    )


def recordings_close_abandoned(
    tables: RecordingTables[R, C, A],
    *,
    owner_ended: Q,
    now: dt.datetime,
    audit_extra: Callable[[R], Extra],
    on_closed: Callable[[R], object] | None = None,
) -> int:
    """Close as interrupted every recording still running that can receive no more chunks: its
    owner ended (`owner_ended`, grace included), or no chunk (nor the start) came for
    `RECORDING_ABANDONED_AFTER`. Totals and the SHA-256 are sealed as for a finished one, so the
    recording can be listed, checked and handed over. Returns how many were closed."""
    candidates = (
        tables.recording._default_manager.filter(status=RecordingBase.Status.RECORDING)
        .annotate(last_activity=Coalesce(Max("chunks__created_at"), F("started_at")))
        .filter(owner_ended | Q(last_activity__lt=now - RECORDING_ABANDONED_AFTER))
        .values_list("pk", flat=True)
    )
    closed = 0
    for pk in list(candidates):
        with transaction.atomic():
            # Under the row lock a chunk being stored right now either lands before the close
            # (and is counted) or is refused after it.
            recording = tables.lock().filter(pk=pk, status=RecordingBase.Status.RECORDING).first()
            if recording is None:
                continue
            _close(
                tables,
                recording,
                status=RecordingBase.Status.INTERRUPTED,
                actor=None,
                event_type=AuditEventType.RECORDING_ABANDONED,
                audit_extra=audit_extra,
                on_closed=on_closed,
            )
        closed += 1
    return closed


@transaction.atomic
def recording_access_record(
    tables: RecordingTables[R, C, A],
    *,
    actor: Actor | None,
    viewer: User,
    recording: R,
    reason: str,
    audit_extra: Extra,
    fields: Extra | None = None,
) -> A:
    """Log one read of a recording (who, when, why) before its bytes are given out; `viewer` is
    the actor as checked by the caller's policy. `ValidationError` when no reason is given."""
    access = tables.access(
        recording=recording, user=viewer, reason=(reason or "").strip(), **(fields or {})
    )
    access.full_clean(exclude=["recording", "user"])
    access.save()
    audit_record(
        actor=actor,
        event_type=AuditEventType.RECORDING_ACCESSED,
        subject=recording,
        extra={"access_id": access.pk, **audit_extra},
    )
    return access


def recording_decrypted(tables: RecordingTables[R, C, A], recording: R) -> Iterator[bytes]:
    """The decrypted recording (a WebM file) chunk by chunk — only after the read is logged
    (`recording_access_record`). A missing chunk (lost upload) is skipped: players resynchronise
    at the next cluster."""
    data_key = crypto.unwrap_key(key_id=recording.key_id, wrapped=recording.wrapped_key)
    items = [
        (c.storage_name, tables.chunk_aad(recording.pk, c.seq)) for c in tables.chunks(recording)
    ]
    return iter(crypto.decrypt_stream(data_key, items))
