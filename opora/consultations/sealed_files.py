"""Stored files encrypted at rest: one implementation for every app that stores a file whose rows
carry no key columns (mail's letters and attachments, the files staff send through a messenger).

The same envelope encryption as recordings (`consultations.recording`): each file has its own
random data key, wrapped by the master key `OPORA_RECORDING_KEY` (older keys in
`OPORA_RECORDING_OLD_KEYS` still unwrap). The wrapped key travels in the file's own header:

    HEADER | key id (16 ASCII) | length of the wrapped key (2 bytes) | wrapped key | blob

where the blob is `consultations.recording.encrypt`'s `MAGIC | nonce | AES-GCM`, with associated
data (`aad`) naming what the file is, so a file of one kind cannot pass for another.

A file written before encryption came has no header and reads as it is, until
`seal_stored_files` (run by the owning app's migration or command) seals it in place.
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

logger = logging.getLogger("opora.sealed_files")

# The format's marker (named after its first user; kept so files sealed then still read).
HEADER = b"OPORA-MAIL1\n"
KEY_ID_BYTES = 16


def is_sealed(blob: bytes) -> bool:
    return blob.startswith(HEADER)


def seal(content: bytes, *, aad: bytes) -> bytes:
    data_key, key_id, wrapped = new_data_key()
    key = key_id.encode()
    assert len(key) == KEY_ID_BYTES  # noqa: S101 - core.crypto.key_id is 16 hex digits
    return (
        HEADER
        + key
        + len(wrapped).to_bytes(2, "big")
        + wrapped
        + encrypt(data_key, content, aad=aad)
    )


def unseal(blob: bytes, *, aad: bytes) -> bytes:
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
    return decrypt(data_key, blob[at + size :], aad=aad)


def neutral_name(suffix: str) -> str:
    """A storage name that says nothing of the file (its real name stays, encrypted, in the row)."""
    return f"{secrets.token_hex(12)}{suffix}"


def save_sealed(file: FieldFile, name: str, content: bytes, *, aad: bytes) -> None:
    """`file.save(name, …)` with the content sealed (the row is saved by the caller)."""
    file.save(name, ContentFile(seal(content, aad=aad)), save=False)


def read_plain(file: FieldFile, *, aad: bytes) -> bytes:
    with file.open("rb") as fh:
        blob = fh.read()
    return unseal(blob, aad=aad)


def seal_in_place(file: FieldFile, *, aad: bytes, rename: bool) -> str | None:
    """Seal one clear stored file: the sealed copy is saved first (under a free name; a neutral one
    when `rename`), then the row is pointed at it by the caller, then the clear file is removed —
    an interruption leaves at worst an extra sealed copy, never a lost file. None when already
    sealed or missing."""
    storage = file.storage
    name = file.name
    if not name or not storage.exists(name):
        return None
    with storage.open(name, "rb") as fh:
        blob = fh.read()
    if is_sealed(blob):
        return None
    target = name
    if rename:
        target = posixpath.join(posixpath.dirname(name), neutral_name(".bin"))
    return storage.save(target, ContentFile(seal(blob, aad=aad)))


def seal_stored_files(
    model: Any, field: str, *, aad: bytes, rename: bool, batch_size: int = 200
) -> int:
    """Seal every file of `model.field` still stored in clear (works on historical models, for
    data migrations, too). Idempotent: a sealed file is skipped. Returns the files sealed."""
    done = 0
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
            new = seal_in_place(file, aad=aad, rename=rename)
            if new is None:
                continue
            model._base_manager.filter(pk=row.pk).update(**{field: new})
            if new != old:
                try:
                    file.storage.delete(old)
                except OSError:
                    logger.warning("sealed_files: a clear file could not be removed after sealing")
            done += 1
    return done


__all__ = [
    "HEADER",
    "DecryptionFailed",
    "is_sealed",
    "neutral_name",
    "read_plain",
    "save_sealed",
    "seal",
    "seal_in_place",
    "seal_stored_files",
    "unseal",
]
