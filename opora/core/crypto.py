"""Master keys from the environment, for what Opora encrypts at rest.

A keyring is the current key (32 random bytes, URL-safe base64, from a setting) and the older
keys that still decrypt what was written before a rotation, each named by a short id that is
stored with the data. Without the setting (development, tests) the key is derived from SECRET_KEY
with HKDF and a purpose label — a documented fallback only: rotating SECRET_KEY would then make
that data unreadable; production settings require the real keys.

Make a key: `python -c "import secrets,base64;print(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())"`
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
import unicodedata
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def decode_key(value: str | bytes, *, setting: str) -> bytes:
    try:
        raw = value if isinstance(value, bytes) else base64.urlsafe_b64decode(value.strip() + "==")
    except ValueError:  # binascii.Error: not base64 at all
        raw = b""
    if len(raw) != 32:
        raise ImproperlyConfigured(f"{setting} must be 32 bytes in URL-safe base64.")
    return raw


def key_id(key: bytes) -> str:
    return hashlib.sha256(b"opora-key-id" + key).hexdigest()[:16]


def keyring(setting: str, old_setting: str, *, purpose: bytes) -> dict[str, bytes]:
    """The keys by id, the current one first (memoised per configured values: every encrypted
    column reads it once per value)."""
    return _keyring(
        setting,
        old_setting,
        getattr(settings, setting, "") or "",
        tuple(getattr(settings, old_setting, ()) or ()),
        settings.SECRET_KEY,
        purpose,
    )


@functools.lru_cache(maxsize=32)
def _keyring(
    setting: str,
    old_setting: str,
    configured: str,
    olds: tuple[str, ...],
    secret_key: str,
    purpose: bytes,
) -> dict[str, bytes]:
    if configured:
        current = decode_key(configured, setting=setting)
    else:
        current = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(
            secret_key.encode()
        )
    keys = {key_id(current): current}
    for old in olds:
        key = decode_key(old, setting=old_setting)
        keys.setdefault(key_id(key), key)
    return keys


# --- blind indexes --------------------------------------------------------------------------------
#
# A searchable personal value (an IIN, a phone, an e-mail, a name's words) is stored encrypted, and
# beside it a keyed hash (BLAKE2b in keyed mode) of its normalised form: equal values give equal hashes, so an exact lookup
# is an index lookup on the hash, while the hash reveals nothing without `OPORA_INDEX_KEY` (a key
# of its own, so that the field key's holder cannot test guesses and vice versa). After the index
# key is rotated (`OPORA_INDEX_OLD_KEYS` holds the previous one) lookups ask for the hashes under
# every key until `opora rotate_keys` has recomputed them all.

BLIND_BYTES = 16  # 128 bits of keyed BLAKE2b (a MAC like HMAC-SHA256, and 3x faster), as 32 hex


def index_keys() -> dict[str, bytes]:
    """`OPORA_INDEX_KEY` (and `OPORA_INDEX_OLD_KEYS` during a rotation); see `keyring`."""
    return keyring("OPORA_INDEX_KEY", "OPORA_INDEX_OLD_KEYS", purpose=b"opora-index-key")


_NON_DIGITS = re.compile(r"\D")
_WORDS = re.compile(r"[^\w]+")


def normalise_phone(value: str) -> str:
    """The last ten digits: "+7 701 123-45-67" and "8 (701) 1234567" are one number."""
    return _NON_DIGITS.sub("", value)[-10:]


def normalise_email(value: str) -> str:
    return value.strip().lower()


def name_tokens(value: str) -> list[str]:
    """The words of a name, case-, ё/е- and accent-folded; "Петрова-Ёлкина" → петрова, елкина."""
    folded = unicodedata.normalize("NFKC", value).casefold().replace("ё", "е")
    return sorted({w for w in _WORDS.split(folded.replace("_", " ")) if w})


NORMALISERS = {
    "iin": lambda v: v.strip(),
    "phone": normalise_phone,
    "email": normalise_email,
    "name": lambda v: " ".join(name_tokens(v)),
    "contact": lambda v: v.strip().casefold(),  # an address, a phone or a chat id as stored
}


def blind_index(kind: str, value: str, *, key: bytes | None = None) -> str:
    """The keyed hash of `value` as a `kind` ("iin", "phone", "email", "name", "token"), under the
    current index key (or `key`); "" for an empty value (nothing to find)."""
    normal = NORMALISERS.get(kind, str)(value or "")
    if not normal:
        return ""
    if key is None:
        key = next(iter(index_keys().values()))
    return hashlib.blake2b(
        f"{kind}:{normal}".encode(), key=key, digest_size=BLIND_BYTES
    ).hexdigest()


def blind_indexes(kind: str, value: str) -> list[str]:
    """The hash of `value` under every index key (current first), to look it up mid-rotation."""
    return [h for key in index_keys().values() if (h := blind_index(kind, value, key=key))]


def blind_hasher(kind: str) -> Any:
    """A fast `value → hash` under the current key for bulk work (the normalisation of `kind`
    must already be done by the caller: imports pass clean 12-digit IINs)."""
    base = hashlib.blake2b(key=next(iter(index_keys().values())), digest_size=BLIND_BYTES)
    base.update(f"{kind}:".encode())
    copy = base.copy

    def h(value: str) -> str:
        if not value:
            return ""
        c = copy()
        c.update(value.encode())
        return c.hexdigest()

    return h
