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
import hashlib

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
    """The keys by id, the current one first."""
    configured = getattr(settings, setting, "")
    if configured:
        current = decode_key(configured, setting=setting)
    else:
        current = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(
            settings.SECRET_KEY.encode()
        )
    keys = {key_id(current): current}
    for old in getattr(settings, old_setting, ()) or ():
        key = decode_key(old, setting=old_setting)
        keys.setdefault(key_id(key), key)
    return keys
