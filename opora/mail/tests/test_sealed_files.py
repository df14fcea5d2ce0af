"""Issue 15: a letter's raw source and attachments are sealed on storage (`mail.files`), read
back decrypted where they are used, and files stored in clear before are sealed in place by
`opora encrypt_mail_files` (the data migration's step), idempotently. Synthetic letters only."""

import base64
import io
import os
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db import connection

from opora.consultations.recording import DecryptionFailed
from opora.mail import files as mail_files
from opora.mail.models import Attachment, InboundMessage
from opora.mail.services import inbound_store
from opora.mail.tests.factories import make_letter, make_mailbox, make_written_service

pytestmark = pytest.mark.django_db

MARKER = "Синтетическая тайна письма 4815"
FILE_MARKER = b"synthetic-attachment-secret-1623"


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


def _all_bytes(root: Path) -> list[bytes]:
    return [p.read_bytes() for p in root.rglob("*") if p.is_file()]


def _letter(mailbox, n: int = 1):
    return make_letter(
        body=f"{MARKER} {n}",
        attachment=("заключение.txt", FILE_MARKER, "text/plain"),
    ).as_bytes()


def test_the_stored_letter_and_attachment_are_sealed_and_read_back(media):
    service = make_written_service()
    mailbox = make_mailbox(service)
    raw = _letter(mailbox)
    message, created = inbound_store(mailbox=mailbox, raw=raw)
    assert created and message.raw.name.endswith(".eml")
    files = _all_bytes(media)
    assert len(files) == 2 and all(mail_files.is_sealed(b) for b in files)
    assert not any(MARKER.encode() in b or FILE_MARKER in b for b in files)
    assert mail_files.read_plain(message.raw, kind=mail_files.RAW) == raw
    (att,) = Attachment.objects.filter(message=message)
    assert mail_files.read_plain(att.file, kind=mail_files.ATTACHMENT) == FILE_MARKER
    # The sender's file name is neither the stored file's name nor in its column in clear.
    assert att.filename == "заключение.txt" and "заключение" not in str(att.file.name)
    assert not [p for p in media.rglob("*") if "заключение" in p.name]
    with connection.cursor() as cursor:
        cursor.execute("SELECT filename FROM mail_attachment WHERE id = %s", [att.pk])
        (stored,) = cursor.fetchone()
    assert stored.startswith("enc1:") and "заключение" not in stored


def test_a_sealed_file_does_not_pass_for_another_kind_nor_open_without_its_key(settings):
    blob = mail_files.seal(b"letter", kind=mail_files.RAW)
    assert mail_files.unseal(blob, kind=mail_files.RAW) == b"letter"
    with pytest.raises(DecryptionFailed):
        mail_files.unseal(blob, kind=mail_files.ATTACHMENT)
    settings.OPORA_RECORDING_KEY = base64.urlsafe_b64encode(os.urandom(32)).decode()
    with pytest.raises(DecryptionFailed, match="not configured"):
        mail_files.unseal(blob, kind=mail_files.RAW)


def test_files_stored_in_clear_before_are_sealed_in_place_once(media):
    service = make_written_service()
    mailbox = make_mailbox(service)
    message, _ = inbound_store(mailbox=mailbox, raw=_letter(mailbox))
    (att,) = Attachment.objects.filter(message=message)
    raw = mail_files.read_plain(message.raw, kind=mail_files.RAW)
    # As the storage held them before encryption: clear bytes, the attachment under the
    # sender's own file name.
    name = message.raw.name
    assert name
    message.raw.storage.delete(name)
    assert message.raw.storage.save(name, ContentFile(raw)) == name
    assert att.file.name
    att.file.storage.delete(att.file.name)
    legacy = att.file.storage.save(
        "mail/attachments/2026/11/заключение.txt", ContentFile(FILE_MARKER)
    )
    Attachment.objects.filter(pk=att.pk).update(file=legacy)
    att.refresh_from_db()
    assert any(FILE_MARKER in b for b in _all_bytes(media))
    # Still readable meanwhile (a clear file reads as it is).
    assert mail_files.read_plain(att.file, kind=mail_files.ATTACHMENT) == FILE_MARKER

    out = io.StringIO()
    call_command("encrypt_mail_files", "--batch-size", "1", stdout=out)
    assert out.getvalue().strip() == "2 files encrypted"
    files = _all_bytes(media)
    assert len(files) == 2 and all(mail_files.is_sealed(b) for b in files)  # clear ones removed
    message = InboundMessage.objects.get()
    att = Attachment.objects.get()
    assert mail_files.read_plain(message.raw, kind=mail_files.RAW) == raw
    assert mail_files.read_plain(att.file, kind=mail_files.ATTACHMENT) == FILE_MARKER
    assert "заключение" not in str(att.file.name)  # moved to a neutral name
    assert not [p for p in media.rglob("*") if "заключение" in p.name]
    out = io.StringIO()
    call_command("encrypt_mail_files", stdout=out)
    assert out.getvalue().strip() == "0 files encrypted"
