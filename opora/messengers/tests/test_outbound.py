"""The outbound queue: a row first, sent after commit; a failure backs off and the one outbox's
sweep sends it later, once; a permanent refusal is not retried; adapters send the real shapes."""

import datetime as dt
import json

import pytest
from django.utils import timezone

from opora.messengers.adapters import Button, get_adapter
from opora.messengers.models import Conversation, OutgoingChatMessage
from opora.messengers.services import outbound_enqueue
from opora.notifications.outbox import outbox_sweep

from .conftest import make_account

pytestmark = pytest.mark.django_db


def conversation(account, chat="9001"):
    return Conversation.objects.create(account=account, external_chat_id=chat)


def test_failed_send_is_retried_later_and_sent_once(
    service, stand_in, django_capture_on_commit_callbacks
):
    account = make_account(service, "telegram", stand_in)
    stand_in.fail_next(1, status=502)
    with django_capture_on_commit_callbacks(execute=True):
        message = outbound_enqueue(conversation=conversation(account), text="Ответ", key="k1")
    message.refresh_from_db()
    assert message.status == OutgoingChatMessage.Status.QUEUED and message.attempts == 1
    assert message.next_attempt_at > timezone.now()
    assert outbox_sweep() == 0  # not yet due: the back-off holds it
    assert len(stand_in.sent()) == 1

    later = timezone.now() + dt.timedelta(minutes=5)
    assert outbox_sweep(now=later) == 1
    message.refresh_from_db()
    assert message.status == OutgoingChatMessage.Status.SENT and message.attempts == 2
    outbox_sweep(now=later + dt.timedelta(hours=1))
    assert len(stand_in.sent()) == 2  # never sent again once sent

    # The same key queues nothing new.
    again = outbound_enqueue(conversation=message.conversation, text="Ответ", key="k1")
    assert again.pk == message.pk and OutgoingChatMessage.objects.count() == 1


def test_a_refused_message_is_given_up(service, stand_in, django_capture_on_commit_callbacks):
    account = make_account(service, "telegram", stand_in)
    stand_in.fail_next(1, status=403)  # e.g. the client blocked the bot
    with django_capture_on_commit_callbacks(execute=True):
        message = outbound_enqueue(conversation=conversation(account), text="x")
    message.refresh_from_db()
    assert message.status == OutgoingChatMessage.Status.FAILED and message.attempts == 1
    outbox_sweep(now=timezone.now() + dt.timedelta(days=1))
    assert len(stand_in.sent()) == 1


def test_stuck_queued_message_is_picked_up(service, stand_in):
    account = make_account(service, "telegram", stand_in)
    # Queued but its task never ran (no on-commit here: as if the broker lost it).
    message = outbound_enqueue(conversation=conversation(account), text="потерянное")
    assert outbox_sweep(now=timezone.now() + dt.timedelta(minutes=3)) == 1
    message.refresh_from_db()
    assert message.status == OutgoingChatMessage.Status.SENT


@pytest.mark.parametrize("channel", ["telegram", "whatsapp", "viber", "vk"])
def test_each_adapter_sends_the_provider_shape(service, stand_in, channel):
    account = make_account(service, channel, stand_in)
    adapter = get_adapter(account)
    external = adapter.send_text(
        chat_id="12345", text="Привет", buttons=[[Button("Да")]], idempotency_key="key-1"
    )
    assert external
    call = stand_in.sent()[-1]
    if channel == "telegram":
        assert call.path == "/bottelegram-token-123/sendMessage"
        assert call.body["chat_id"] == 12345 and call.body["text"] == "Привет"
        assert call.body["reply_markup"]["keyboard"] == [[{"text": "Да"}]]
    elif channel == "whatsapp":
        assert call.path == "/1234567890/messages"
        assert call.headers["Authorization"] == "Bearer whatsapp-token-123"
        assert call.body["to"] == "12345" and call.body["text"]["body"].startswith("Привет")
    elif channel == "viber":
        assert call.path == "/send_message"
        assert call.headers["X-Viber-Auth-Token"] == "viber-token-123"
        assert call.body["receiver"] == "12345" and call.body["text"] == "Привет"
    else:
        assert call.path == "/messages.send"
        assert call.body["peer_id"] == "12345" and call.body["message"] == "Привет"
        first = call.body["random_id"]
        adapter.send_text(chat_id="12345", text="Привет", idempotency_key="key-1")
        assert stand_in.sent()[-1].body["random_id"] == first  # a resend is the same message
        assert json.loads(call.body["keyboard"])["buttons"][0][0]["action"]["label"] == "Да"
