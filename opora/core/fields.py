"""Model fields of Opora's own."""

from __future__ import annotations

import base64
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.core.exceptions import ImproperlyConfigured
from django.db import models

from opora.core.crypto import keyring

PREFIX = "enc1:"
NONCE_BYTES = 12


def field_keys() -> dict[str, bytes]:
    """`OPORA_FIELD_KEY` (and `OPORA_FIELD_OLD_KEYS` after a rotation); see `core.crypto`."""
    return keyring("OPORA_FIELD_KEY", "OPORA_FIELD_OLD_KEYS", purpose=b"opora-field-key")


def encrypt_text(value: str, *, aad: bytes) -> str:
    key_id, key = next(iter(field_keys().items()))
    nonce = os.urandom(NONCE_BYTES)
    sealed = nonce + AESGCM(key).encrypt(nonce, value.encode(), aad)
    return f"{PREFIX}{key_id}:{base64.urlsafe_b64encode(sealed).decode()}"


def decrypt_text(stored: str, *, aad: bytes) -> str:
    """The plain text of a stored value; a value written before encryption came is returned as
    it is."""
    if not stored.startswith(PREFIX):
        return stored
    key_id, _, payload = stored[len(PREFIX) :].partition(":")
    key = field_keys().get(key_id)
    if key is None:
        raise ImproperlyConfigured(
            f"A stored secret was encrypted with key {key_id}, which is neither OPORA_FIELD_KEY "
            "nor in OPORA_FIELD_OLD_KEYS."
        )
    sealed = base64.urlsafe_b64decode(payload)
    try:
        return AESGCM(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], aad).decode()
    except InvalidTag:
        raise ImproperlyConfigured(
            f"A stored secret does not decrypt with key {key_id}: it was changed or moved."
        ) from None


class EncryptedCharField(models.CharField):
    """A short secret (a password, an access token) encrypted at rest with AES-GCM.

    `max_length` limits the plain text, as a form sees it; the column is text, because the stored
    form is longer (`enc1:<key id>:<base64 of nonce, ciphertext and tag>`). The associated data
    names the model and the field, so a value copied into another column does not decrypt. An empty
    value stays empty. The field cannot be searched: every save encrypts with a fresh nonce.
    """

    def get_internal_type(self) -> str:
        return "TextField"

    def _aad(self) -> bytes:
        return f"opora-field:{self.model._meta.label_lower}.{self.name}".encode()

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if not value:
            return value
        return decrypt_text(value, aad=self._aad())

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if not value:
            return value
        return encrypt_text(value, aad=self._aad())


def encrypt_existing(app_label: str, model_name: str, *fields: str) -> Any:
    """A `RunPython` operation for the migration that turns `fields` into `EncryptedCharField`:
    forwards it encrypts the values already stored; backwards it writes them back as plain text
    (before the column becomes a short `varchar` again)."""
    from django.db import migrations

    def forwards(apps: Any, schema_editor: Any) -> None:
        model = apps.get_model(app_label, model_name)
        for row in model.objects.using(schema_editor.connection.alias).all():
            # Reading gives the plain text (stored before, so unprefixed); saving encrypts it.
            model.objects.filter(pk=row.pk).update(**{f: getattr(row, f) for f in fields})

    def backwards(apps: Any, schema_editor: Any) -> None:
        model = apps.get_model(app_label, model_name)
        qn = schema_editor.quote_name
        columns = {f: model._meta.get_field(f).column for f in fields}
        sets = ", ".join(f"{qn(c)} = %s" for c in columns.values())
        sql = f"UPDATE {qn(model._meta.db_table)} SET {sets} WHERE {qn(model._meta.pk.column)} = %s"  # noqa: S608 - quoted identifiers
        with schema_editor.connection.cursor() as cursor:
            for row in model.objects.using(schema_editor.connection.alias).all():
                cursor.execute(sql, [*(getattr(row, f) for f in fields), row.pk])

    return migrations.RunPython(forwards, backwards)
