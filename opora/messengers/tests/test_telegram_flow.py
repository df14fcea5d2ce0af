"""The whole client journey in Telegram against a real HTTP server standing in for the Bot API:
/start → ask → request created → an operator books → the booking message arrives in Telegram →
reminders (once each) → the client cancels through the bot."""

import datetime as dt

import pytest

from opora.intake.models import ServiceRequest
from opora.messengers.models import Conversation
from opora.messengers.testing import telegram_update
from opora.notifications.models import ShortLink
from opora.registry.scripts import SCRIPTS
from opora.scheduling.models import Booking
from opora.scheduling.reminders import reminders_send_due
from opora.scheduling.services import booking_create
from opora.scheduling.tests.factories import future_working_day, make_slot

pytestmark = pytest.mark.django_db

CHAT = 424242


class Client:
    def __init__(self, webhook, account):
        self.webhook, self.account, self.n = webhook, account, 100

    def says(self, text="", **kw):
        self.n += 1
        response = self.webhook.post(self.account, telegram_update(self.n, CHAT, text, **kw))
        assert response.status_code == 200


def sent_to_chat(stand_in):
    calls = stand_in.sent("/sendMessage")
    assert all(c.path == "/bottelegram-token-123/sendMessage" for c in calls)
    assert all(c.body["chat_id"] == CHAT for c in calls)
    return [c.body for c in calls]


def test_start_ask_book_remind_cancel(
    service,
    telegram,
    stand_in,
    webhook,
    operator,
    consultant,
    eligible_parent,
    django_capture_on_commit_callbacks,
    settings,
):
    settings.OPORA_PUBLIC_URL = "https://opora.example.kz"
    service.allows_self_booking = True
    service.save()
    client = Client(webhook, telegram)

    client.says("/start")
    start = sent_to_chat(stand_in)[-1]
    buttons = [b["text"] for row in start["reply_markup"]["keyboard"] for b in row]
    assert "Записаться на консультацию" in buttons and "Моя запись" in buttons
    assert "Отменить запись" in buttons and "Отключить напоминания" in buttons

    client.says("Записаться на консультацию")
    assert "своими словами" in sent_to_chat(stand_in)[-1]["text"]
    client.says("Сын не разговаривает, нужна помощь психолога")
    assert "ИИН" in sent_to_chat(stand_in)[-1]["text"]
    client.says("12345")  # not an IIN: the bot says what is wrong and asks again
    assert Conversation.objects.get().state == Conversation.State.ASK_IIN
    client.says(eligible_parent.iin)
    client.says("Ахметова Айгерим Сериковна")
    phone_prompt = sent_to_chat(stand_in)[-1]
    assert phone_prompt["reply_markup"]["keyboard"][0][0]["request_contact"] is True
    client.says(contact_phone="+77011112233")

    request = ServiceRequest.objects.get()
    assert request.channel == "telegram" and request.phone == "+77011112233"
    assert request.reason == "Сын не разговаривает, нужна помощь психолога"
    assert request.public_code in sent_to_chat(stand_in)[-1]["text"]
    conversation = Conversation.objects.get()
    assert conversation.request == request and conversation.draft == {}  # IIN not kept

    # The operator books from the console; the client hears it in Telegram.
    day = future_working_day(service, days_ahead=5)
    slot = make_slot(service, consultant, day, dt.time(15))
    before = len(stand_in.sent())
    with django_capture_on_commit_callbacks(execute=True):
        booking = booking_create(actor=operator, request=request, slot=slot)
    new = sent_to_chat(stand_in)[before:]
    assert len(new) == 1 and f"{day:%d.%m.%Y}" in new[0]["text"] and "15:00" in new[0]["text"]
    # The notice's link, in the text and as a link button under it.
    link = f"https://opora.example.kz/l/{ShortLink.objects.get().code}"
    assert link in new[0]["text"]
    assert new[0]["reply_markup"] == {
        "inline_keyboard": [[{"text": "Открыть мою запись", "url": link}]]
    }

    client.says("Моя запись")
    mine = sent_to_chat(stand_in)[-1]["text"]
    assert f"{day:%d.%m.%Y}" in mine and "15:00" in mine and "/c/" in mine

    # Reminders: the day before and an hour before, each exactly once.
    starts = slot.starts_at
    for now in (starts - dt.timedelta(hours=20), starts - dt.timedelta(hours=19)):
        with django_capture_on_commit_callbacks(execute=True):
            reminders_send_due(now=now)
    for now in (starts - dt.timedelta(minutes=50), starts - dt.timedelta(minutes=40)):
        with django_capture_on_commit_callbacks(execute=True):
            reminders_send_due(now=now)
    texts = [b["text"] for b in sent_to_chat(stand_in)]
    assert sum("завтра" in t for t in texts) == 1
    assert sum("через час" in t for t in texts) == 1

    client.says("Отменить запись")
    assert "Отменить вашу консультацию" in sent_to_chat(stand_in)[-1]["text"]
    client.says("Да, отменить")
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    request.refresh_from_db()
    assert request.status == ServiceRequest.Status.CANCELLED
    cancelled = [b["text"] for b in sent_to_chat(stand_in) if "отменена" in b["text"]]
    assert len(cancelled) == 1  # the notice, not repeated by the bot


def test_ineligible_caller_gets_the_scripted_refusal(service, telegram, stand_in, webhook):
    from opora.registry.iin import make_iin

    serial = 777
    while (iin := make_iin(dt.date(1990, 1, 1), "F", serial)) is None:
        serial += 1
    client = Client(webhook, telegram)
    for text in ("/ask", "Вопрос о пособии", iin, "Тестова Мария Ивановна", "Пропустить"):
        client.says(text)
    assert not ServiceRequest.objects.exists()
    from django.utils import translation

    with translation.override("ru"):
        refusal = str(SCRIPTS["not_registered"])
    assert sent_to_chat(stand_in)[-1]["text"] == refusal
    assert Conversation.objects.get().state == ""


def test_a_client_message_waits_for_the_consultant_and_the_reply_goes_out(
    service, telegram, stand_in, webhook, consultant, django_capture_on_commit_callbacks
):
    from opora.messengers.services import conversation_reply
    from opora.scheduling.tests.factories import make_request

    request = make_request(service, channel="telegram")
    client = Client(webhook, telegram)
    client.says("/start")
    conversation = Conversation.objects.get()
    conversation.request = request
    conversation.save()
    client.says("Здравствуйте, у меня вопрос")
    client.says("И ещё один")
    conversation.refresh_from_db()
    assert conversation.awaiting_reply_since is not None
    history = [m.text for m in conversation.messages.filter(direction="in")]
    assert history == ["/start", "Здравствуйте, у меня вопрос", "И ещё один"]
    with django_capture_on_commit_callbacks(execute=True):
        conversation_reply(actor=consultant, conversation=conversation, text="Добрый день!")
    assert sent_to_chat(stand_in)[-1]["text"] == "Добрый день!"
    conversation.refresh_from_db()
    assert conversation.awaiting_reply_since is None
