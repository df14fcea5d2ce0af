"""Encryption at rest and private storage for consultation recordings and chat files.

Envelope encryption: every recording (and every chat file) has its own random 256-bit data key;
the data key is stored wrapped (AES-GCM) by the master key `OPORA_RECORDING_KEY` from the
environment, named by `key_id`. Each stored blob is `MAGIC | nonce(12) | AES-GCM ciphertext+tag`,
with associated data that binds it to its place (recording id and chunk number), so chunks cannot
be swapped or moved between recordings without the decryption failing.

Key management: `OPORA_RECORDING_KEY` is 32 random bytes in URL-safe base64
(`python -c "import secrets,base64;print(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())"`).
Without it (development, tests) the key is derived from SECRET_KEY with HKDF — a documented
fallback only: rotating SECRET_KEY would then make every recording unreadable.
`OPORA_RECORDING_OLD_KEYS` (a list of such keys) still unwraps recordings made before a rotation.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, InvalidStorageError, Storage, storages

from opora.core.crypto import decode_key, keyring

MAGIC = b"OPR1"
NONCE_BYTES = 12
WRAP_AAD = b"opora-data-key"


class DecryptionFailed(Exception):
    """A blob or a wrapped key does not decrypt: wrong key, or the bytes were changed."""


def _decode_key(value: str | bytes) -> bytes:
    return decode_key(value, setting="OPORA_RECORDING_KEY")


def master_keys() -> dict[str, bytes]:
    """The master keys by id; the first one wraps new data keys."""
    return keyring(
        "OPORA_RECORDING_KEY", "OPORA_RECORDING_OLD_KEYS", purpose=b"opora-recording-key"
    )


def new_data_key() -> tuple[bytes, str, bytes]:
    """A fresh data key: (key, id of the master key that wraps it, wrapped key)."""
    key_id, master = next(iter(master_keys().items()))
    data_key = AESGCM.generate_key(bit_length=256)
    nonce = os.urandom(NONCE_BYTES)
    return data_key, key_id, nonce + AESGCM(master).encrypt(nonce, data_key, WRAP_AAD)


def unwrap_key(*, key_id: str, wrapped: bytes | memoryview) -> bytes:
    """`wrapped` as a BinaryField gives it back: bytes, or a memoryview from PostgreSQL."""
    master = master_keys().get(key_id)
    if master is None:
        raise DecryptionFailed(f"master key {key_id} is not configured")
    wrapped = bytes(wrapped)
    try:
        return AESGCM(master).decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], WRAP_AAD)
    except InvalidTag:
        raise DecryptionFailed("the data key does not unwrap") from None


def encrypt(data_key: bytes, plaintext: bytes, *, aad: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return MAGIC + nonce + AESGCM(data_key).encrypt(nonce, plaintext, aad)


def decrypt(data_key: bytes, blob: bytes, *, aad: bytes) -> bytes:
    if not blob.startswith(MAGIC):
        raise DecryptionFailed("not an encrypted blob")
    body = blob[len(MAGIC) :]
    try:
        return AESGCM(data_key).decrypt(body[:NONCE_BYTES], body[NONCE_BYTES:], aad)
    except InvalidTag:
        raise DecryptionFailed("the blob does not decrypt") from None


def chunk_aad(recording_id: int, seq: int) -> bytes:
    return f"opora-recording:{recording_id}:{seq}".encode()


def attachment_aad(consultation_id: int) -> bytes:
    # Each file has its own data key, so a blob cannot stand in for another file's blob either.
    return f"opora-chat-file:{consultation_id}".encode()


# --- storage ------------------------------------------------------------------------------------


def private_storage() -> Storage:
    """Where recordings and chat files live: `STORAGES["recordings"]` when configured (e.g. object
    storage in production), else `OPORA_RECORDING_ROOT` (default VAR_DIR/recordings) on disk —
    outside MEDIA_ROOT, so nothing there is ever served as a plain media URL."""
    try:
        return storages["recordings"]
    except InvalidStorageError:
        root = getattr(settings, "OPORA_RECORDING_ROOT", None) or (
            Path(settings.VAR_DIR) / "recordings"
        )
        return FileSystemStorage(location=str(root))


def store_blob(name: str, blob: bytes) -> str:
    """Save `blob` under `name` (or a free variant of it); returns the name actually used."""
    return private_storage().save(name, ContentFile(blob))


def read_blob(name: str) -> bytes:
    with private_storage().open(name, "rb") as f:
        return f.read()


def delete_blob(name: str) -> None:
    private_storage().delete(name)


def decrypt_stream(data_key: bytes, items: Iterable[tuple[str, bytes]]) -> Iterable[bytes]:
    """Decrypt (storage name, aad) blobs one by one, for a streamed download."""
    for name, aad in items:
        yield decrypt(data_key, read_blob(name), aad=aad)
