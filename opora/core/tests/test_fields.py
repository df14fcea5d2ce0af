"""Secrets at rest (`core.fields`): encrypted with the field key, bound to their column, rotatable."""

import base64
import secrets

import pytest
from django.core.exceptions import ImproperlyConfigured

from opora.core.fields import PREFIX, decrypt_text, encrypt_text

AAD = b"opora-field:mail.mailbox.imap_password"


def _key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def test_round_trip_and_nothing_plain_is_stored(settings):
    settings.OPORA_FIELD_KEY = _key()
    stored = encrypt_text("пароль-S3cret", aad=AAD)
    assert stored.startswith(PREFIX) and "S3cret" not in stored
    assert encrypt_text("пароль-S3cret", aad=AAD) != stored  # a fresh nonce every time
    assert decrypt_text(stored, aad=AAD) == "пароль-S3cret"


def test_a_value_stored_before_encryption_reads_as_it_is():
    assert decrypt_text("legacy-plain-password", aad=AAD) == "legacy-plain-password"


def test_a_value_moved_to_another_column_or_changed_does_not_decrypt(settings):
    settings.OPORA_FIELD_KEY = _key()
    stored = encrypt_text("token", aad=AAD)
    with pytest.raises(ImproperlyConfigured, match="changed or moved"):
        decrypt_text(stored, aad=b"opora-field:messengers.channelaccount.token")
    tampered = stored[:-4] + ("AAAA" if not stored.endswith("AAAA") else "BBBB")
    with pytest.raises(ImproperlyConfigured):
        decrypt_text(tampered, aad=AAD)


def test_rotation_keeps_old_values_readable_and_names_a_missing_key(settings):
    old, new = _key(), _key()
    settings.OPORA_FIELD_KEY = old
    before = encrypt_text("token", aad=AAD)
    settings.OPORA_FIELD_KEY, settings.OPORA_FIELD_OLD_KEYS = new, [old]
    assert decrypt_text(before, aad=AAD) == "token"
    assert encrypt_text("token", aad=AAD).split(":")[1] != before.split(":")[1]  # new key id
    settings.OPORA_FIELD_OLD_KEYS = []
    with pytest.raises(ImproperlyConfigured, match="OPORA_FIELD_OLD_KEYS"):
        decrypt_text(before, aad=AAD)


def test_a_malformed_key_is_named(settings):
    settings.OPORA_FIELD_KEY = "too-short"
    with pytest.raises(ImproperlyConfigured, match="OPORA_FIELD_KEY must be 32 bytes"):
        encrypt_text("x", aad=AAD)
