"""The columns every room's recording shares, as abstract models.

A recording belongs to one owner — a consultation (`consultations.Recording`) or an event
(`events.EventRecording`) — and each owner keeps its own tables: their chunks are encrypted with
associated data that names the table and the row (`recording_store.RecordingTables.chunk_aad`),
so moving rows between tables would make the stored files unreadable. What they share is the
shape below and one store (`opora.consultations.recording_store`) that writes and reads them.

The concrete models add the owner's foreign key, `recording` on the chunk and access rows, the
constraints (their names are the tables' own) and the verbose names.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from opora.core.fields import EncryptedCharField


class RecordingBase(models.Model):
    """One continuous recording made in a browser, stored as encrypted chunks.

    The media is kept as chunks encrypted (AES-GCM) with this recording's own data key, which is
    stored wrapped by the key from the environment (`key_id`). `size` and `sha256` describe the
    decrypted file once the recording is closed.
    """

    class Status(models.TextChoices):
        RECORDING = "recording", _("Recording")
        FINISHED = "finished", _("Finished")
        # Closed without a proper finish (the page was reloaded or closed): what arrived is kept.
        INTERRUPTED = "interrupted", _("Interrupted")

    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    # The policy (and consent) the recording was started under, kept for a complaint review.
    policy = models.CharField(max_length=16)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECORDING)
    mime_type = models.CharField(max_length=100, default="video/webm")
    started_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    chunk_count = models.PositiveIntegerField(default=0)
    size = models.PositiveBigIntegerField(_("size, bytes"), default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    key_id = models.CharField(max_length=32)
    wrapped_key = models.BinaryField(editable=False)
    storage_path = models.CharField(max_length=200, editable=False)

    class Meta:
        abstract = True
        ordering = ["-started_at", "-pk"]


class RecordingChunkBase(models.Model):
    """One piece of a recording as uploaded; `(recording, seq)` is unique in every concrete
    table, so a re-sent chunk is stored once."""

    seq = models.PositiveIntegerField()
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    storage_name = models.CharField(max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["recording", "seq"]


class RecordingAccessBase(models.Model):
    """Every read of a recording: who, when and why (besides the audit log)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("who")
    )
    # Free text that may name the client or the complainant: encrypted at rest.
    reason = EncryptedCharField(_("reason"), max_length=500)
    at = models.DateTimeField(_("when"), auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["-at", "-pk"]
        verbose_name = _("access to a recording")
        verbose_name_plural = _("accesses to recordings")
