"""Signed, expiring public addresses of the files consultants send (issue 12).

Viber takes a file only from a public address it fetches itself: `reply_file_url(pk)` is a
link to exactly that outgoing message's file, signed (TimestampSigner with a salt of its own) and
valid for `MAX_AGE`; `reply_file_pk(token)` is the message it names, or None for a tampered,
foreign or expired link.
"""

from __future__ import annotations

import datetime as dt

from django.core import signing
from django.urls import reverse

from opora.core.links import public_url

SALT = "opora.messengers.reply-file"
MAX_AGE = dt.timedelta(days=7)


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
