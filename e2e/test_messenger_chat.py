"""The consultant answers a Telegram client from Opora: the inbound message (posted to the real
webhook) is on the conversation page, and the reply reaches a stand-in Telegram Bot API."""

import json
import re

import httpx
import pytest
from playwright.sync_api import expect

from opora.messengers.models import ChannelAccount, Conversation
from opora.messengers.testing import StandInApi, telegram_update
from opora.scheduling.tests.factories import make_request

from .conftest import e2e_db, login

pytestmark = e2e_db

CHAT = 515151


@pytest.fixture
def stand_in():
    api = StandInApi().start()
    yield api
    api.stop()


def test_consultant_reads_and_answers_a_telegram_message(
    page, axe_check, live_server, service, consultant, stand_in
):
    account = ChannelAccount.objects.create(
        service=service,
        channel="telegram",
        slug="support-bot",
        name="Бот службы",
        token="123:ABC",
        webhook_secret="hook-secret",
        api_base=stand_in.base_url,
    )
    request = make_request(service, channel="telegram", full_name="Тестова Анна")
    url = f"{live_server.url}/messengers/telegram/support-bot/webhook/"
    headers = {"X-Telegram-Bot-Api-Secret-Token": "hook-secret"}

    def deliver(update):
        body = json.dumps(update, ensure_ascii=False).encode()
        response = httpx.post(
            url, content=body, headers={**headers, "Content-Type": "application/json"}
        )
        assert response.status_code == 200

    deliver(telegram_update(1, CHAT, "/start"))
    conversation = Conversation.objects.get(account=account)
    conversation.request = request
    conversation.save(update_fields=["request"])
    deliver(telegram_update(2, CHAT, "Как подготовить ребёнка к консультации?"))

    login(page, consultant.username)
    page.goto("/messengers/conversations/")
    row = page.locator(f"#conversation-{conversation.pk}")
    expect(row).to_contain_text("Тестова Анна")
    expect(row).to_contain_text("Telegram")
    axe_check(page, where="messenger conversations")

    row.get_by_role("link").click()
    expect(page).to_have_url(re.compile(rf"/messengers/conversations/{conversation.pk}/$"))
    expect(page.locator("#history")).to_contain_text("Как подготовить ребёнка к консультации?")
    axe_check(page, where="conversation")

    page.locator("#reply-send").click()  # empty: the error names the problem, nothing is sent
    expect(page.locator("#reply-errors")).to_contain_text("Напишите ответ")
    axe_check(page, where="conversation with an error")

    page.get_by_label("Ваш ответ").fill("Здравствуйте! Возьмите любимую игрушку.")
    page.locator("#reply-send").click()
    expect(page.locator(".message--success")).to_be_visible()
    expect(page.locator("#history")).to_contain_text("Возьмите любимую игрушку")
    axe_check(page, where="conversation after the reply")

    replies = [c.body for c in stand_in.sent("/bot123:ABC/sendMessage")]
    assert replies[-1] == {"chat_id": CHAT, "text": "Здравствуйте! Возьмите любимую игрушку."}
    page.goto("/messengers/conversations/")
    expect(page.locator("#no-conversations")).to_be_visible()  # answered: off the waiting list
    axe_check(page, where="no unanswered conversations")
