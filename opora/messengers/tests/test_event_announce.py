"""An event's announcement reaches the service's messenger subscribers who did not opt out, as
one queued chat message per subscriber and event (issue 14)."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from opora.events import services
from opora.events.tests.factories import make_event
from opora.messengers.announce import announcement_key
from opora.messengers.models import Conversation, OutgoingChatMessage

pytestmark = pytest.mark.django_db


def test_subscribers_who_did_not_opt_out_get_it_once(
    service, head, consultant, telegram, django_capture_on_commit_callbacks
):
    on = Conversation.objects.create(account=telegram, external_chat_id="1")
    off = Conversation.objects.create(
        account=telegram, external_chat_id="2", announcements_enabled=False
    )
    event = make_event(service, consultant)
    with django_capture_on_commit_callbacks():
        first = services.event_announcement_send(actor=head, event=event)
        again = services.event_announcement_send(actor=head, event=event)
    assert first.chats == again.chats == 1
    [message] = OutgoingChatMessage.objects.all()
    assert message.conversation == on and "Вебинар о подростках" in message.text
    assert "/events_off" in message.text
    assert not OutgoingChatMessage.objects.filter(conversation=off).exists()
    # The database itself keeps one row per subscriber and announcement.
    with pytest.raises(IntegrityError), transaction.atomic():
        OutgoingChatMessage.objects.create(
            account=telegram,
            conversation=on,
            text="x",
            idempotency_key=announcement_key(event, on),
        )


def test_another_service_s_subscribers_are_not_told(service, head, consultant, telegram):
    from opora.scheduling.tests.factories import other_service

    other = other_service(service, code="other")
    telegram.service = other
    telegram.save()
    Conversation.objects.create(account=telegram, external_chat_id="1")
    sent = services.event_announcement_send(actor=head, event=make_event(service, consultant))
    assert sent.chats == 0 and not OutgoingChatMessage.objects.exists()


def test_events_off_and_on_in_the_bot(telegram):
    from opora.messengers.adapters import InboundMessage
    from opora.messengers.bot import Dialogue
    from opora.messengers.models import InboundUpdate

    conversation = Conversation.objects.create(account=telegram, external_chat_id="1")
    for text, expected in (("/events_off", False), ("/events_on", True)):
        message = InboundMessage(external_id=text, chat_id="1", text=text)
        update = InboundUpdate.objects.create(account=telegram, external_id=text, payload={})
        Dialogue(conversation, message, update).handle()
        conversation.refresh_from_db()
        assert conversation.announcements_enabled is expected
