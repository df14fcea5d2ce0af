"""Issue 12: a consultant's answer in a messenger carries a file (a document the client asked
for, regulation 004) through the messengers' outbox: Telegram's sendDocument, WhatsApp's media
upload — against a stand-in HTTP API server; a channel that cannot send files is named."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from opora.core.errors import DomainError
from opora.messengers.models import Conversation, ConversationMessage, OutgoingChatMessage
from opora.messengers.services import conversation_reply
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
    assert line.attachments[0]["file_name"] == "Порядок оказания услуг.pdf"


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


def test_a_channel_without_files_and_an_empty_file_are_named(service, stand_in, consultant):
    viber = make_account(service, "viber", stand_in)
    with pytest.raises(DomainError) as err:
        conversation_reply(
            actor=consultant, conversation=_conversation(viber, "v1"), text="x", file=_file()
        )
    assert err.value.code == "file"
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
