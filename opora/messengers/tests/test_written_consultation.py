"""A messenger conversation taken up as a written consultation (issue 12): answered through the
one outbox, closed with a protocol, counted once; a request another consultant holds is refused."""

import pytest

from opora.consultations import services as consultations
from opora.consultations.models import Consultation, Protocol, Topic
from opora.core.errors import DomainError
from opora.demo.factories import make_consultant
from opora.intake.models import ServiceRequest
from opora.messengers.models import Conversation
from opora.messengers.services import (
    conversation_close,
    conversation_reply,
    conversation_take_up,
)
from opora.messengers.tests.test_telegram_flow import Client
from opora.scheduling.tests.factories import make_request

pytestmark = pytest.mark.django_db


def test_conversation_taken_up_answered_and_closed(
    service, telegram, webhook, consultant, django_capture_on_commit_callbacks
):
    request = make_request(service, channel="telegram", assigned_to=consultant)
    client = Client(webhook, telegram)
    client.says("/start")
    conversation = Conversation.objects.get()
    conversation.request = request
    conversation.save()
    client.says("Здравствуйте, у меня вопрос")

    with pytest.raises(DomainError) as e:
        conversation_take_up(actor=make_consultant(service), conversation=conversation)
    assert e.value.code == "held_by_other"

    c = conversation_take_up(actor=consultant, conversation=conversation)
    assert (c.form, c.status) == ("messenger", Consultation.Status.IN_PROGRESS)
    with pytest.raises(DomainError) as e:
        conversation_close(actor=consultant, conversation=conversation)
    assert e.value.code == "no_answer"
    with django_capture_on_commit_callbacks(execute=True):
        conversation_reply(actor=consultant, conversation=conversation, text="Добрый день!")
        conversation_reply(
            actor=consultant, conversation=conversation, text="Ссылка: https://example.org"
        )
    c = conversation_close(actor=consultant, conversation=conversation)
    consultations.protocol_save(
        actor=consultant,
        consultation=c,
        reason="Вопрос",
        topic=Topic.FAMILY,
        solution="Совет",
        kind=Protocol.Kind.PRIMARY,
    )
    request.refresh_from_db()
    assert request.status == ServiceRequest.Status.DONE
    assert Consultation.objects.filter(booking__request=request).count() == 1
