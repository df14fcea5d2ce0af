"""Signed, expiring public addresses of the files consultants send (issue 12).

Viber takes a file only from a public address it fetches itself: `reply_file_url(pk)` is a
link to exactly that outgoing message's file, signed (TimestampSigner with a salt of its own) and
valid for `MAX_AGE`; `reply_file_pk(token)` is the message it names, or None for a tampered,
foreign or expired link.

The file itself is sealed at rest (`consultations.sealed_files`, issue 15) under a neutral storage
name; `save_reply_file` / `read_reply_file` write and read it (a file stored in clear before
still reads, until `opora encrypt_chat_files` seals it).
"""

from __future__ import annotations

import datetime as dt

from django.core import signing
from django.db.models.fields.files import FieldFile
from django.urls import reverse

from opora.consultations import sealed_files
from opora.core.links import public_url

SALT = "opora.messengers.reply-file"
MAX_AGE = dt.timedelta(days=7)
# Binds a sealed file to what it is: a file staff sent through a messenger.
AAD = b"opora-messengers-file:outgoing"


def save_reply_file(file: FieldFile, content: bytes) -> None:
    """Store a file staff send, sealed, under a neutral name (the row is saved by the caller; the
    real name is its encrypted `file_name`)."""
    sealed_files.save_sealed(file, sealed_files.neutral_name(".bin"), content, aad=AAD)


def read_reply_file(file: FieldFile) -> bytes:
    """The plain bytes of a stored outgoing file (a legacy clear one as it is)."""
    return sealed_files.read_plain(file, aad=AAD)


def seal_stored_reply_files(model: object, *, batch_size: int = 200) -> int:
    """Seal the outgoing files still stored in clear (historical models too); idempotent."""
    return sealed_files.seal_stored_files(
        model, "file", aad=AAD, rename=True, batch_size=batch_size
    )


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=SALT)


def reply_file_token(message_pk: int) -> str:
    return _signer().sign(str(message_pk))


def reply_file_url(message_pk: int) -> str:
    """The absolute public address (OPORA_PUBLIC_URL) of outgoing message `message_pk`'s file."""
    return public_url(
        reverse("messengers:reply_file", kwargs={"token": reply_file_token(message_pk)})
    )


def reply_file_pk(token: str) -> int | None:
    """The outgoing message a link names, or None (bad signature, expired, not a number)."""
    try:
        value = _signer().unsign(token, max_age=MAX_AGE)
    except signing.BadSignature:  # SignatureExpired is one too
        return None
    return int(value) if value.isdigit() else None
