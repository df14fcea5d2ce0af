"""Every channel's webhook: the signature or secret decides (good → 200, bad → 403 and a log line
without content), and a retried delivery is stored once."""

import logging

import pytest

from opora.intake.models import ServiceRequest
from opora.messengers.models import ConversationMessage, InboundUpdate
from opora.messengers.testing import telegram_update

from .conftest import make_account

pytestmark = pytest.mark.django_db

SECRET_TEXT = "Очень личный вопрос 900101400123"


def whatsapp_payload(msg_id="wamid.A1", text=SECRET_TEXT):
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "1",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"phone_number_id": "1234567890"},
                            "contacts": [{"wa_id": "77011234567", "profile": {"name": "Тест"}}],
                            "messages": [
                                {
                                    "from": "77011234567",
                                    "id": msg_id,
                                    "timestamp": "1700000000",
                                    "type": "text",
                                    "text": {"body": text},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }


def viber_payload(token=5491234567, text=SECRET_TEXT):
    return {
        "event": "message",
        "timestamp": 1700000000000,
        "message_token": token,
        "sender": {"id": "01234567890A=", "name": "Тест", "language": "ru"},
        "message": {"type": "text", "text": text},
    }


def vk_payload(event_id="ev-1", secret="vk-secret", text=SECRET_TEXT):  # noqa: S107
    return {
        "type": "message_new",
        "event_id": event_id,
        "v": "5.199",
        "group_id": 1234567890,
        "secret": secret,
        "object": {"message": {"id": 1, "from_id": 2000001, "peer_id": 2000001, "text": text}},
    }


def payload_for(channel, n=1):
    if channel == "telegram":
        return telegram_update(1000 + n, 555001, SECRET_TEXT)
    if channel == "whatsapp":
        return whatsapp_payload(f"wamid.{n}")
    if channel == "viber":
        return viber_payload(5490000000 + n)
    return vk_payload(f"ev-{n}")


@pytest.mark.parametrize("channel", ["telegram", "whatsapp", "viber", "vk"])
def test_good_signature_is_accepted_and_stored(service, stand_in, webhook, channel):
    account = make_account(service, channel, stand_in)
    response = webhook.post(account, payload_for(channel))
    assert response.status_code == 200
    update = InboundUpdate.objects.get(account=account)
    assert update.status == InboundUpdate.Status.PROCESSED
    assert ConversationMessage.objects.get(direction="in").text == SECRET_TEXT


@pytest.mark.parametrize("channel", ["telegram", "whatsapp", "viber", "vk"])
def test_bad_signature_is_refused_logged_without_content(
    service, stand_in, webhook, caplog, channel
):
    account = make_account(service, channel, stand_in)
    payload = payload_for(channel)
    if channel == "vk":
        payload = vk_payload(secret="wrong")
    with caplog.at_level(logging.WARNING, logger="opora.messengers"):
        response = webhook.post(account, payload, good=False)
    assert response.status_code == 403
    assert not InboundUpdate.objects.exists()
    assert "bad signature" in caplog.text and channel in caplog.text
    assert "Очень личный" not in caplog.text and "900101400123" not in caplog.text


def test_whatsapp_subscription_handshake(service, stand_in, client):
    account = make_account(service, "whatsapp", stand_in)
    url = f"/messengers/whatsapp/{account.slug}/webhook/"
    ok = client.get(
        url, {"hub.mode": "subscribe", "hub.verify_token": "whatsapp-secret", "hub.challenge": "42"}
    )
    assert ok.status_code == 200 and ok.content == b"42"
    bad = client.get(
        url, {"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "42"}
    )
    assert bad.status_code == 403


def test_vk_confirmation_answers_the_string_only_with_the_secret(service, stand_in, webhook):
    account = make_account(service, "vk", stand_in)
    confirmation = {"type": "confirmation", "group_id": 1234567890, "secret": "vk-secret"}
    response = webhook.post(account, confirmation)
    assert response.status_code == 200 and response.content == b"a1b2c3d4"
    response = webhook.post(account, {**confirmation, "secret": "guess"})
    assert response.status_code == 403


def test_unknown_account_is_404(client):
    response = client.post(
        "/messengers/telegram/nobody/webhook/", data=b"{}", content_type="application/json"
    )
    assert response.status_code == 404


@pytest.mark.parametrize("channel", ["whatsapp", "viber", "vk"])
def test_retried_delivery_gives_one_message(service, stand_in, webhook, channel):
    account = make_account(service, channel, stand_in)
    for _ in range(3):
        assert webhook.post(account, payload_for(channel, 7)).status_code == 200
    assert InboundUpdate.objects.filter(account=account).count() == 1
    assert ConversationMessage.objects.filter(direction="in").count() == 1
    # The bot answered once (the menu hint), not three times.
    assert len(stand_in.sent()) == 1


def test_same_telegram_update_three_times_creates_one_request(service, telegram, stand_in, webhook):
    service.eligibility_rule = "none"
    service.save()
    chat = 777001
    steps = [
        telegram_update(1, chat, "/start"),
        telegram_update(2, chat, "Записаться на консультацию"),
        telegram_update(3, chat, "Ребёнок плохо спит, нужен совет"),
        telegram_update(4, chat, "Тестова Мария Ивановна"),
    ]
    for update in steps:
        assert webhook.post(telegram, update).status_code == 200
    last = telegram_update(5, chat, "Пропустить")
    for _ in range(3):
        assert webhook.post(telegram, last).status_code == 200
    assert InboundUpdate.objects.filter(account=telegram, external_id="5").count() == 1
    request = ServiceRequest.objects.get()
    assert request.channel == "telegram" and request.reason == "Ребёнок плохо спит, нужен совет"
    assert request.full_name == "Тестова Мария Ивановна"
    assert sum("зарегистрирован" in t for t in stand_in.texts()) == 1
