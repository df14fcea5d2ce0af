"""Issue 10 §9 in a messenger: a chat that gives a known client's IIN and name makes a request with
the chat's phone on it, and nothing more — the client's card keeps its contacts, and the chat is
not linked to the client, so notices about the client's other requests never reach it."""

import datetime as dt

import pytest

from opora.core.models import AuditEvent
from opora.intake.models import Client, ServiceRequest
from opora.intake.services import request_create
from opora.messengers.models import Conversation
from opora.messengers.testing import telegram_update
from opora.scheduling.services import booking_create
from opora.scheduling.tests.factories import future_working_day, make_slot

pytestmark = pytest.mark.django_db

CHAT = 515151
CARD_PHONE, CHAT_PHONE = "+77011234567", "+77779990000"


def _ask_in_telegram(webhook, account, parent) -> None:
    texts = ["/ask", "Нужна помощь логопеда", parent.iin, "Ахметова Айгерим Сериковна"]
    for n, text in enumerate(texts, start=1):
        assert webhook.post(account, telegram_update(n, CHAT, text)).status_code == 200
    update = telegram_update(len(texts) + 1, CHAT, "", contact_phone=CHAT_PHONE)
    assert webhook.post(account, update).status_code == 200


def _chat_texts(stand_in) -> list[str]:
    return [c.body["text"] for c in stand_in.sent("/sendMessage") if c.body["chat_id"] == CHAT]


def test_chat_about_a_known_client_keeps_its_phone_on_the_request(
    service,
    telegram,
    stand_in,
    webhook,
    operator,
    consultant,
    eligible_parent,
    django_capture_on_commit_callbacks,
):
    # The client is known: an operator registered her on the phone earlier.
    earlier = request_create(
        actor=operator,
        service=service,
        full_name="Ахметова Айгерим Сериковна",
        iin=eligible_parent.iin,
        phone=CARD_PHONE,
    )
    known = earlier.client

    _ask_in_telegram(webhook, telegram, eligible_parent)

    request = ServiceRequest.objects.get(channel="telegram")
    assert request.client == known and request.phone == CHAT_PHONE
    known.refresh_from_db()
    assert known.phone == CARD_PHONE
    assert not AuditEvent.objects.filter(event_type="intake.client_updated").exists()
    conversation = Conversation.objects.get()
    assert conversation.request == request and conversation.client is None

    day = future_working_day(service, days_ahead=5)
    before = len(_chat_texts(stand_in))
    # The known client's own request is booked: nothing of it reaches the chat.
    with django_capture_on_commit_callbacks(execute=True):
        booking_create(
            actor=operator, request=earlier, slot=make_slot(service, consultant, day, dt.time(15))
        )
    assert len(_chat_texts(stand_in)) == before
    # The chat's own request is booked: the person who asked hears it there.
    with django_capture_on_commit_callbacks(execute=True):
        booking_create(
            actor=operator, request=request, slot=make_slot(service, consultant, day, dt.time(16))
        )
    new = _chat_texts(stand_in)[before:]
    assert len(new) == 1 and "16:00" in new[0]


def test_chat_of_a_new_client_is_linked_to_the_card(service, telegram, webhook, eligible_parent):
    _ask_in_telegram(webhook, telegram, eligible_parent)
    client = Client.objects.get()
    assert client.phone == CHAT_PHONE  # a new card starts with the contacts given
    assert Conversation.objects.get().client == client
