"""A letter's files encrypted at rest: the raw source (`.eml`) and its attachments.

The same envelope encryption as recordings and chat files (`consultations.recording`): each file
has its own random data key, wrapped by the master key `OPORA_RECORDING_KEY` (older keys in
`OPORA_RECORDING_OLD_KEYS` still unwrap). The file's rows have no key columns, so the wrapped key
travels in the file's own header:

    HEADER | key id (16 ASCII) | length of the wrapped key (2 bytes) | wrapped key | blob

where the blob is `consultations.recording.encrypt`'s `MAGIC | nonce | AES-GCM`, with associated
data naming what the file is (a raw letter or an attachment), so one cannot pass for the other.

A file written before encryption came has no header and reads as it is, until
`opora encrypt_mail_files` (also run by the migration that introduced this) seals it in place.
"""

from __future__ import annotations

import logging
import posixpath
import secrets
from typing import Any

from django.core.files.base import ContentFile
from django.db.models.fields.files import FieldFile

from opora.consultations.recording import (
    DecryptionFailed,
    decrypt,
    encrypt,
    new_data_key,
    unwrap_key,
)

logger = logging.getLogger("opora.mail")

HEADER = b"OPORA-MAIL1\n"
KEY_ID_BYTES = 16
RAW = "raw"
ATTACHMENT = "attachment"


def _aad(kind: str) -> bytes:
    return f"opora-mail-file:{kind}".encode()


def is_sealed(blob: bytes) -> bool:
    return blob.startswith(HEADER)


def seal(content: bytes, *, kind: str) -> bytes:
    data_key, key_id, wrapped = new_data_key()
    key = key_id.encode()
    assert len(key) == KEY_ID_BYTES  # noqa: S101 - core.crypto.key_id is 16 hex digits
    return (
        HEADER
        + key
        + len(wrapped).to_bytes(2, "big")
        + wrapped
        + encrypt(data_key, content, aad=_aad(kind))
    )


def unseal(blob: bytes, *, kind: str) -> bytes:
    """The plain bytes of a stored file; a file stored before encryption is returned as it is.
    A sealed file that does not decrypt raises `DecryptionFailed` (never garbage)."""
    if not is_sealed(blob):
        return blob
    at = len(HEADER)
    key_id = blob[at : at + KEY_ID_BYTES].decode("ascii", errors="replace")
    at += KEY_ID_BYTES
    size = int.from_bytes(blob[at : at + 2], "big")
    at += 2
    data_key = unwrap_key(key_id=key_id, wrapped=blob[at : at + size])
    return decrypt(data_key, blob[at + size :], aad=_aad(kind))


def neutral_name(suffix: str) -> str:
    """A file name that says nothing of the letter (the sender's own name stays in the row)."""
    return f"{secrets.token_hex(12)}{suffix}"


def save_sealed(file: FieldFile, name: str, content: bytes, *, kind: str) -> None:
    """`file.save(name, …)` with the content sealed (the row is saved by the caller)."""
    file.save(name, ContentFile(seal(content, kind=kind)), save=False)


def read_plain(file: FieldFile, *, kind: str) -> bytes:
    with file.open("rb") as fh:
        blob = fh.read()
    return unseal(blob, kind=kind)


def _seal_in_place(file: FieldFile, *, kind: str) -> str | None:
    """Seal one clear stored file: the sealed copy is saved first (under a free name), then the
    row is pointed at it by the caller, then the clear file is removed — an interruption leaves
    at worst an extra sealed copy, never a lost letter. None when already sealed or missing."""
    storage = file.storage
    name = file.name
    if not name or not storage.exists(name):
        return None
    with storage.open(name, "rb") as fh:
        blob = fh.read()
    if is_sealed(blob):
        return None
    # An attachment was saved under the sender's file name: the sealed copy gets a neutral one.
    target = name
    if kind == ATTACHMENT:
        target = posixpath.join(posixpath.dirname(name), neutral_name(".bin"))
    return storage.save(target, ContentFile(seal(blob, kind=kind)))


def encrypt_stored_files(
    message_model: Any,
    attachment_model: Any,
    *,
    outgoing_model: Any = None,
    batch_size: int = 200,
) -> int:
    """Seal every raw letter and attachment still stored in clear (works on historical models,
    for the data migration, too). Idempotent: a sealed file is skipped. Returns the files
    sealed."""
    done = 0
    kinds = [(message_model, "raw", RAW), (attachment_model, "file", ATTACHMENT)]
    if outgoing_model is not None:  # the files staff attach to their answers
        kinds.append((outgoing_model, "file", ATTACHMENT))
    for model, field, kind in kinds:
        last = 0
        while True:
            rows = list(
                model._base_manager.filter(pk__gt=last)
                .exclude(**{field: ""})
                .order_by("pk")[:batch_size]
            )
            if not rows:
                break
            last = rows[-1].pk
            for row in rows:
                file = getattr(row, field)
                old = file.name
                new = _seal_in_place(file, kind=kind)
                if new is None:
                    continue
                model._base_manager.filter(pk=row.pk).update(**{field: new})
                if new != old:
                    try:
                        file.storage.delete(old)
                    except OSError:
                        logger.warning("mail: a clear file could not be removed after sealing")
                done += 1
    return done


__all__ = [
    "ATTACHMENT",
    "RAW",
    "DecryptionFailed",
    "encrypt_stored_files",
    "neutral_name",
    "read_plain",
    "save_sealed",
    "seal",
    "unseal",
]
