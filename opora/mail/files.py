"""A letter's files encrypted at rest: the raw source (`.eml`) and its attachments.

The format and the code are `consultations.sealed_files` (one implementation for every app); here
only the associated data that binds a file to what it is (a raw letter or an attachment), so one
cannot pass for the other.

A file written before encryption came has no header and reads as it is, until
`opora encrypt_mail_files` (also run by the migration that introduced this) seals it in place.
"""

from __future__ import annotations

from typing import Any

from django.db.models.fields.files import FieldFile

from opora.consultations import sealed_files
from opora.consultations.sealed_files import DecryptionFailed, is_sealed, neutral_name

HEADER = sealed_files.HEADER
RAW = "raw"
ATTACHMENT = "attachment"


def _aad(kind: str) -> bytes:
    return f"opora-mail-file:{kind}".encode()


def seal(content: bytes, *, kind: str) -> bytes:
    return sealed_files.seal(content, aad=_aad(kind))


def unseal(blob: bytes, *, kind: str) -> bytes:
    """The plain bytes of a stored file; a file stored before encryption is returned as it is.
    A sealed file that does not decrypt raises `DecryptionFailed` (never garbage)."""
    return sealed_files.unseal(blob, aad=_aad(kind))


def save_sealed(file: FieldFile, name: str, content: bytes, *, kind: str) -> None:
    """`file.save(name, …)` with the content sealed (the row is saved by the caller)."""
    sealed_files.save_sealed(file, name, content, aad=_aad(kind))


def read_plain(file: FieldFile, *, kind: str) -> bytes:
    return sealed_files.read_plain(file, aad=_aad(kind))


def encrypt_stored_files(
    message_model: Any,
    attachment_model: Any,
    *,
    outgoing_model: Any = None,
    batch_size: int = 200,
) -> int:
    """Seal every raw letter and attachment still stored in clear (works on historical models,
    for the data migration, too). Idempotent: a sealed file is skipped. Returns the files
    sealed. An attachment was saved under the sender's file name: its sealed copy gets a
    neutral one."""
    kinds = [(message_model, "raw", RAW), (attachment_model, "file", ATTACHMENT)]
    if outgoing_model is not None:  # the files staff attach to their answers
        kinds.append((outgoing_model, "file", ATTACHMENT))
    return sum(
        sealed_files.seal_stored_files(
            model, field, aad=_aad(kind), rename=kind == ATTACHMENT, batch_size=batch_size
        )
        for model, field, kind in kinds
    )


__all__ = [
    "ATTACHMENT",
    "HEADER",
    "RAW",
    "DecryptionFailed",
    "encrypt_stored_files",
    "is_sealed",
    "neutral_name",
    "read_plain",
    "save_sealed",
    "seal",
    "unseal",
]
