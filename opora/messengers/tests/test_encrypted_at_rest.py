"""Issue 15: what a client writes in a messenger is sealed at rest — the stored webhook delivery
(`InboundUpdate.payload`) and the unfinished dialogue (`Conversation.draft`) — while every
webhook, the de-duplication by the delivery's id, and the dialogue keep working. Synthetic."""

import json

import pytest
from django.db import connection

from opora.core.fields import encrypt_rows
from opora.messengers.models import Conversation, InboundUpdate

from .conftest import make_account
from .test_webhooks import SECRET_TEXT, payload_for

pytestmark = pytest.mark.django_db

REASON = "Дочь не спит третью неделю, нужна помощь"


def _raw(table: str, column: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT CAST("{column}" AS TEXT) FROM "{table}" ORDER BY id')  # noqa: S608 - constants
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.parametrize("channel", ["telegram", "whatsapp", "viber", "vk"])
def test_every_webhook_stores_the_delivery_sealed_and_reads_it_back(
    service, stand_in, webhook, channel
):
    account = make_account(service, channel, stand_in)
    for _ in range(2):  # a retried delivery is still stored once: external_id is in clear
        assert webhook.post(account, payload_for(channel, 3)).status_code == 200
    update = InboundUpdate.objects.get(account=account)
    assert update.status == InboundUpdate.Status.PROCESSED
    assert update.payload["text"] == SECRET_TEXT
    (stored,) = _raw("messengers_inboundupdate", "payload")
    assert stored.startswith("enc1:")
    assert "Очень личный" not in stored and "900101400123" not in stored


def test_the_dialogue_draft_is_sealed_while_the_bot_asks(service, telegram, webhook):
    from opora.messengers.testing import telegram_update

    for n, text in enumerate(["/start", "Записаться на консультацию", REASON], start=1):
        assert webhook.post(telegram, telegram_update(n, 777, text)).status_code == 200
    conversation = Conversation.objects.get()
    assert conversation.state == Conversation.State.ASK_IIN
    assert conversation.draft["reason"] == REASON
    (stored,) = _raw("messengers_conversation", "draft")
    assert stored.startswith("enc1:") and "Дочь" not in stored


def test_json_stored_before_encryption_reads_and_the_migration_helper_seals_it(service, stand_in):
    account = make_account(service, "telegram", stand_in)
    update = InboundUpdate.objects.create(account=account, external_id="1", payload={"text": "x"})
    conversation = Conversation.objects.create(account=account, external_chat_id="9")
    legacy = {"text": REASON, "chat_id": "9", "attachments": []}
    with connection.cursor() as cursor:  # as the columns held it before (JSON text)
        cursor.execute(
            "UPDATE messengers_inboundupdate SET payload = %s WHERE id = %s",
            [json.dumps(legacy, ensure_ascii=False), update.pk],
        )
        cursor.execute(
            "UPDATE messengers_conversation SET draft = %s WHERE id = %s",
            [json.dumps({"reason": REASON}, ensure_ascii=False), conversation.pk],
        )
    assert InboundUpdate.objects.get().payload == legacy
    assert encrypt_rows(InboundUpdate, ["payload"]) == 1
    assert encrypt_rows(Conversation, ["draft"]) == 1
    assert encrypt_rows(InboundUpdate, ["payload"]) == 0  # resumable: nothing left
    assert InboundUpdate.objects.get().payload == legacy
    assert Conversation.objects.get().draft == {"reason": REASON}
    for table, column in (
        ("messengers_inboundupdate", "payload"),
        ("messengers_conversation", "draft"),
    ):
        (stored,) = _raw(table, column)
        assert stored.startswith("enc1:") and "Дочь" not in stored


def test_an_empty_draft_is_sealed_too_and_nothing_inside_can_be_queried(service, stand_in):
    from django.core.exceptions import FieldError

    account = make_account(service, "telegram", stand_in)
    Conversation.objects.create(account=account, external_chat_id="1")
    assert Conversation.objects.get().draft == {}
    (stored,) = _raw("messengers_conversation", "draft")
    assert stored.startswith("enc1:")
    with pytest.raises(FieldError, match="encrypted"):
        list(InboundUpdate.objects.filter(**{"payload__contains": "x"}))  # mypy asks get_lookup too


def test_a_whatsapp_id_the_phone_number_is_sealed_and_still_finds_its_chat(
    service, stand_in, webhook
):
    from .test_webhooks import whatsapp_payload

    account = make_account(service, "whatsapp", stand_in)
    for n in range(1, 3):  # two messages from the same number: one conversation
        assert webhook.post(account, whatsapp_payload(f"wamid.{n}")).status_code == 200
    conversation = Conversation.objects.get()
    assert conversation.external_chat_id == "77011234567"
    assert conversation.messages.filter(direction="in").count() == 2
    assert Conversation.objects.filter(account=account, external_chat_id="77011234567").exists()
    for column in ("external_chat_id", "external_user_id", "external_chat_id_bidx"):
        (stored,) = _raw("messengers_conversation", column)
        assert "77011234567" not in stored and "7011234567" not in stored
    (stored,) = _raw("messengers_conversation", "external_chat_id")
    assert stored.startswith("enc1:")
    # The bot's answers went to the number, decrypted for the provider only.
    assert all(c.body["to"] == "77011234567" for c in stand_in.sent("/messages"))
    assert stand_in.sent("/messages")


def test_the_migration_reversed_writes_the_json_back_in_clear(service, stand_in):
    from django.apps import apps

    from opora.core.fields import encrypt_existing

    account = make_account(service, "telegram", stand_in)
    payload = {"text": REASON, "chat_id": "9", "attachments": [{"type": "photo"}]}
    InboundUpdate.objects.create(account=account, external_id="1", payload=payload)
    operation = encrypt_existing("messengers", "inboundupdate", "payload")
    with connection.schema_editor() as editor:
        operation.reverse_code(apps, editor)
    (stored,) = _raw("messengers_inboundupdate", "payload")
    assert json.loads(stored) == payload  # JSON text again, for the column to become jsonb
    assert InboundUpdate.objects.get().payload == payload
