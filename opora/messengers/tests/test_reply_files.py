"""Issue 12: a consultant's answer in a messenger carries a file (a document the client asked
for, regulation 004) through the messengers' outbox: Telegram's sendDocument, WhatsApp's media
upload, VK's upload flow, Viber's file message from a signed public link of Opora — against a
stand-in HTTP API server; a channel that cannot send files is named."""

import datetime as dt
import io
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from opora.consultations import sealed_files
from opora.consultations.recording import DecryptionFailed
from opora.core.audit import AuditEventType
from opora.core.errors import DomainError
from opora.core.models import AuditEvent
from opora.messengers import reply_files
from opora.messengers.adapters import _ADAPTERS, ChannelAdapter, register
from opora.messengers.models import Conversation, ConversationMessage, OutgoingChatMessage
from opora.messengers.services import chat_send, conversation_reply
from opora.messengers.testing import VK_DOC_OWNER_ID, VK_UPLOAD_PATH
from opora.messengers.tests.conftest import make_account

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4 synthetic regulation\n" * 10


def _conversation(account, chat_id: str) -> Conversation:
    return Conversation.objects.create(account=account, external_chat_id=chat_id)


def _file(name: str = "Порядок оказания услуг.pdf", content: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def test_telegram_answer_with_a_document(
    service, telegram, stand_in, consultant, django_capture_on_commit_callbacks
):
    conversation = _conversation(telegram, "555001")
    with django_capture_on_commit_callbacks(execute=True):
        message = conversation_reply(
            actor=consultant,
            conversation=conversation,
            text="Высылаю порядок, о котором вы спрашивали.",
            file=_file(),
        )
    message.refresh_from_db()
    assert message.status == OutgoingChatMessage.Status.SENT
    sent = stand_in.sent("/sendDocument")
    assert len(sent) == 1 and sent[0].path == "/bottelegram-token-123/sendDocument"
    body = sent[0].body
    assert body["chat_id"] == "555001"
    assert body["caption"] == "Высылаю порядок, о котором вы спрашивали."
    assert body["document"]["file_name"] == "Порядок оказания услуг.pdf"
    assert body["document"]["content"] == PDF
    assert not stand_in.sent("/sendMessage")
    line = ConversationMessage.objects.get(outbound=message)
    assert line.attachments and line.attachments[0]["file_name"] == "Порядок оказания услуг.pdf"


def test_whatsapp_uploads_the_media_then_sends_the_document(
    service, stand_in, consultant, django_capture_on_commit_callbacks
):
    account = make_account(service, "whatsapp", stand_in)
    conversation = _conversation(account, "77010000001")
    with django_capture_on_commit_callbacks(execute=True):
        conversation_reply(
            actor=consultant, conversation=conversation, text="Документ", file=_file("a.pdf")
        )
    upload = stand_in.sent("/media")
    assert len(upload) == 1 and upload[0].body["file"]["content"] == PDF
    sent = stand_in.sent("/messages")
    assert sent[0].body["type"] == "document"
    assert sent[0].body["document"] == {
        "id": "media.1",
        "filename": "a.pdf",
        "caption": "Документ",
    }


def test_a_failed_send_is_retried_by_the_outbox(
    service, telegram, stand_in, consultant, django_capture_on_commit_callbacks
):
    conversation = _conversation(telegram, "555002")
    stand_in.fail_next(1, 500)
    with django_capture_on_commit_callbacks(execute=True):
        message = conversation_reply(
            actor=consultant, conversation=conversation, text="Файл", file=_file()
        )
    message.refresh_from_db()
    assert message.status != OutgoingChatMessage.Status.SENT
    assert message.file_name and message.file  # kept for the retry


@pytest.fixture
def text_only_channel() -> Iterator[str]:
    """A channel whose adapter sends only text (as every channel did before files)."""

    @register("textonly")
    class TextOnly(ChannelAdapter):
        pass

    yield "textonly"
    _ADAPTERS.pop("textonly", None)


def test_a_channel_without_files_and_an_empty_file_are_named(
    service, stand_in, consultant, text_only_channel
):
    plain = make_account(service, text_only_channel, stand_in)
    with pytest.raises(DomainError) as err:
        conversation_reply(
            actor=consultant, conversation=_conversation(plain, "t1"), text="x", file=_file()
        )
    assert err.value.code == "file"
    assert "textonly" in err.value.message and "ссылку" in err.value.message
    telegram = make_account(service, "telegram", stand_in, slug="tg-2")
    with pytest.raises(DomainError) as err:
        conversation_reply(
            actor=consultant,
            conversation=_conversation(telegram, "555003"),
            text="x",
            file=_file(content=b""),
        )
    assert err.value.code == "file"
    assert not OutgoingChatMessage.objects.exists()


# --- VK: docs.getMessagesUploadServer → upload → docs.save → messages.send --------------------


def test_vk_uploads_the_document_and_attaches_it(
    service, stand_in, consultant, django_capture_on_commit_callbacks
):
    account = make_account(service, "vk", stand_in)
    conversation = _conversation(account, "2000000001")
    with django_capture_on_commit_callbacks(execute=True):
        message = conversation_reply(
            actor=consultant,
            conversation=conversation,
            text="Высылаю порядок, о котором вы спрашивали.",
            file=_file(),
        )
    message.refresh_from_db()
    assert message.status == OutgoingChatMessage.Status.SENT
    [server] = stand_in.sent("/docs.getMessagesUploadServer")
    assert server.body["peer_id"] == "2000000001"
    assert server.body["type"] == "doc"
    assert server.body["access_token"] == "vk-token-123"
    [upload] = [r for r in stand_in.sent() if r.path.startswith(VK_UPLOAD_PATH)]
    assert upload.path == f"{VK_UPLOAD_PATH}?peer_id=2000000001"
    assert upload.body["file"]["file_name"] == "Порядок оказания услуг.pdf"
    assert upload.body["file"]["content"] == PDF
    [saved] = stand_in.sent("/docs.save")
    assert saved.body["file"].startswith("upload.")
    assert saved.body["title"] == "Порядок оказания услуг.pdf"
    [sent] = stand_in.sent("/messages.send")
    doc_id = stand_in.requests.index(saved) + 1  # the stand-in numbers its answers
    assert sent.body["attachment"] == f"doc{VK_DOC_OWNER_ID}_{doc_id}"
    assert sent.body["message"] == "Высылаю порядок, о котором вы спрашивали."
    assert sent.body["peer_id"] == "2000000001"
    # The same random_id a text send takes from the key: VK drops a repeat itself.
    from opora.messengers.adapters.vk import random_id

    assert sent.body["random_id"] == str(random_id(message.idempotency_key))
    assert message.external_id == str(stand_in.requests.index(sent) + 1)


def test_vk_refused_upload_is_not_sent_and_not_retried(
    service, stand_in, consultant, django_capture_on_commit_callbacks
):
    account = make_account(service, "vk", stand_in)
    conversation = _conversation(account, "2000000002")
    stand_in.fail_next(1, 400)  # the upload address is refused: a wrong token or chat
    with django_capture_on_commit_callbacks(execute=True):
        message = conversation_reply(
            actor=consultant, conversation=conversation, text="Файл", file=_file()
        )
    message.refresh_from_db()
    assert message.status != OutgoingChatMessage.Status.SENT
    assert not stand_in.sent("/messages.send")


# --- Viber: a "file" message whose media is a signed, expiring public link ------------------


def _viber_reply(service, stand_in, consultant, capture) -> OutgoingChatMessage:
    account = make_account(service, "viber", stand_in)
    conversation = _conversation(account, "viber-user-1")
    with capture(execute=True):
        message = conversation_reply(
            actor=consultant,
            conversation=conversation,
            text="Высылаю порядок, о котором вы спрашивали.",
            file=_file(),
        )
    message.refresh_from_db()
    return message


def test_viber_sends_the_answer_then_a_file_message_with_a_public_link(
    service, stand_in, consultant, client, django_capture_on_commit_callbacks
):
    message = _viber_reply(service, stand_in, consultant, django_capture_on_commit_callbacks)
    assert message.status == OutgoingChatMessage.Status.SENT
    text, file_message = stand_in.sent("/send_message")
    assert text.body["type"] == "text"
    assert text.body["text"] == "Высылаю порядок, о котором вы спрашивали."
    body = file_message.body
    assert body["type"] == "file"
    assert body["receiver"] == "viber-user-1"
    assert body["file_name"] == "Порядок оказания услуг.pdf"
    assert body["size"] == len(PDF)
    assert file_message.headers["X-Viber-Auth-Token"] == "viber-token-123"
    media = body["media"]
    assert media.startswith(settings.OPORA_PUBLIC_URL.rstrip("/") + "/messengers/f/")
    assert reply_files.reply_file_pk(urlsplit(media).path.split("/")[3]) == message.pk
    # Following the link gives exactly this message's file, as a download never cached.
    response = client.get(urlsplit(media).path)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Disposition"].startswith("attachment;")
    assert "no-store" in response["Cache-Control"]
    assert AuditEvent.objects.filter(
        event_type=AuditEventType.MESSENGERS_REPLY_FILE_DOWNLOADED
    ).exists()


def test_a_tampered_foreign_or_expired_link_is_not_found(
    service, stand_in, consultant, client, django_capture_on_commit_callbacks
):
    message = _viber_reply(service, stand_in, consultant, django_capture_on_commit_callbacks)
    good = reply_files.reply_file_token(message.pk)
    value, stamp, signature = good.split(":")
    other = conversation_reply(
        actor=consultant, conversation=message.conversation, text="Без файла"
    )  # a message without a file
    links = [
        f"{value}:{stamp}:{signature[:-1]}{'A' if signature[-1] != 'A' else 'B'}",  # tampered
        f"{message.pk + 1}:{stamp}:{signature}",  # another message under this signature
        reply_files.reply_file_token(other.pk),  # a message without a file
        signing.TimestampSigner(salt="another.purpose").sign(str(message.pk)),  # other salt
        "no-such-link",
    ]
    for token in links:
        assert client.get(f"/messengers/f/{token}/").status_code == 404, token
    assert client.get(f"/messengers/f/{good}/").status_code == 200


def test_an_expired_link_is_not_found(
    service, stand_in, consultant, client, django_capture_on_commit_callbacks
):
    message = _viber_reply(service, stand_in, consultant, django_capture_on_commit_callbacks)

    class SignedLongAgo(signing.TimestampSigner):
        def timestamp(self) -> str:
            age = reply_files.MAX_AGE + dt.timedelta(hours=1)
            return signing.b62_encode(int(time.time() - age.total_seconds()))

    old = SignedLongAgo(salt=reply_files.SALT).sign(str(message.pk))
    assert reply_files.reply_file_pk(old) is None
    assert client.get(f"/messengers/f/{old}/").status_code == 404


# --- Issue 15: the file is sealed on storage, the provider gets the plain bytes ---------------


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


def _stored(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def test_a_sent_file_is_sealed_on_storage_under_a_neutral_name(
    media, service, telegram, stand_in, consultant, django_capture_on_commit_callbacks
):
    conversation = _conversation(telegram, "555101")
    with django_capture_on_commit_callbacks(execute=True):
        message = conversation_reply(
            actor=consultant, conversation=conversation, text="Файл", file=_file()
        )
    (path,) = _stored(media)
    blob = path.read_bytes()
    assert sealed_files.is_sealed(blob) and b"synthetic regulation" not in blob
    assert "Порядок" not in path.name and path.suffix == ".bin"
    assert "Порядок" not in str(message.file.name)
    # The provider received the plain bytes under the real name.
    (sent,) = stand_in.sent("/sendDocument")
    assert sent.body["document"]["content"] == PDF
    assert sent.body["document"]["file_name"] == "Порядок оказания услуг.pdf"
    assert reply_files.read_reply_file(message.file) == PDF
    # Bound to what it is: a chat file does not open as another kind of sealed file.
    with pytest.raises(DecryptionFailed):
        sealed_files.unseal(blob, aad=b"opora-mail-file:attachment")


def _legacy(message: OutgoingChatMessage) -> OutgoingChatMessage:
    """The message's file as the storage held it before encryption: clear, under its own name."""
    assert message.file.name
    message.file.storage.delete(message.file.name)
    name = message.file.storage.save(
        "messengers/outgoing/2026/11/Порядок оказания услуг.pdf", ContentFile(PDF)
    )
    OutgoingChatMessage.objects.filter(pk=message.pk).update(file=name)
    message.refresh_from_db()
    return message


def test_a_legacy_clear_file_still_sends_and_is_sealed_in_place(
    media, service, telegram, stand_in, consultant, django_capture_on_commit_callbacks
):
    conversation = _conversation(telegram, "555102")
    stand_in.fail_next(1, 500)
    with django_capture_on_commit_callbacks(execute=True):
        message = conversation_reply(
            actor=consultant, conversation=conversation, text="Файл", file=_file()
        )
    message = _legacy(message)
    assert any(PDF in p.read_bytes() for p in _stored(media))
    chat_send(message)  # the outbox's retry of a message stored before encryption
    assert [s.body["document"]["content"] for s in stand_in.sent("/sendDocument")][-1] == PDF

    out = io.StringIO()
    call_command("encrypt_chat_files", "--batch-size", "1", stdout=out)
    assert out.getvalue().strip() == "1 files encrypted"
    (path,) = _stored(media)  # the clear file removed
    assert sealed_files.is_sealed(path.read_bytes()) and "Порядок" not in path.name
    message.refresh_from_db()
    assert reply_files.read_reply_file(message.file) == PDF
    out = io.StringIO()
    call_command("encrypt_chat_files", stdout=out)  # idempotent
    assert out.getvalue().strip() == "0 files encrypted"
    assert _stored(media) == [path]


def test_the_viber_link_serves_a_legacy_clear_file_too(
    media, service, stand_in, consultant, client, django_capture_on_commit_callbacks
):
    message = _legacy(
        _viber_reply(service, stand_in, consultant, django_capture_on_commit_callbacks)
    )
    response = client.get(urlsplit(reply_files.reply_file_url(message.pk)).path)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
