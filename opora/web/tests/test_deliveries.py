"""«Доставка сообщений»: failed deliveries of every outbox (a notice, a written answer, a chat
message) for the heads of their service only; no text, no address; "send again" is audited and
only for a row the head may see."""

import pytest
from django.urls import reverse

from opora.accounts.models import Role
from opora.core.models import AuditEvent
from opora.demo.factories import make_district_service, make_service_1411, make_user
from opora.mail.models import InboundMessage, Mailbox, OutgoingLetter
from opora.messengers.models import ChannelAccount, Conversation, OutgoingChatMessage
from opora.notifications.models import Notification
from opora.scheduling.tests.factories import make_request

pytestmark = pytest.mark.django_db

FAILED = {"status": "failed", "attempts": 10}


@pytest.fixture
def failures():
    service = make_district_service()
    request = make_request(service, public_code="KQ4M-2XH9", email="parent@example.org")
    notice = Notification.objects.create(
        channel="sms",
        recipient="+77010000001",
        body="Текст уведомления",
        kind="booking_created",
        subject_type="intake.servicerequest",
        subject_id=str(request.pk),
        last_error="ConnectionRefusedError",
        **FAILED,
    )
    mailbox = Mailbox.objects.create(
        service=service,
        name="Почта",
        imap_host="127.0.0.1",
        imap_user="u",
        imap_password="p",  # noqa: S106 - a throwaway row
        smtp_host="127.0.0.1",
        from_address="service@example.org",
        assignment=Mailbox.Assignment.LEAST_LOADED,
    )
    InboundMessage.objects.create(
        mailbox=mailbox,
        message_id="<a@example.org>",
        received_at="2026-01-05T10:00:00Z",
        status=InboundMessage.Status.REGISTERED,
        request=request,
    )
    letter = OutgoingLetter.objects.create(
        request=request,
        mailbox=mailbox,
        message_id="<answer@example.org>",
        to_address="parent@example.org",
        subject="Re: вопрос",
        body="Текст письменного ответа",
        last_error="SMTPRecipientsRefused",
        **FAILED,
    )
    account = ChannelAccount.objects.create(
        service=service, channel="telegram", slug="bot", name="Бот", token="t"
    )
    conversation = Conversation.objects.create(
        account=account, external_chat_id="9001", request=request
    )
    chat = OutgoingChatMessage.objects.create(
        account=account,
        conversation=conversation,
        text="Текст в чат",
        idempotency_key="k1",
        last_error="Forbidden: bot was blocked by the user",
        **FAILED,
    )
    return service, notice, letter, chat


def test_the_head_sees_every_channel_without_text_or_address(client, failures):
    service, notice, letter, chat = failures
    client.force_login(make_user(Role.HEAD, service=service))
    html = client.get(reverse("deliveries")).content.decode()
    for reason in ("ConnectionRefusedError", "SMTPRecipientsRefused", "bot was blocked"):
        assert reason in html
    assert html.count("KQ4M-2XH9") >= 3
    for private in ("Текст", "parent@example.org", "+77010000001"):
        assert private not in html


def test_another_service_head_sees_nothing_and_an_operator_is_refused(client, failures):
    _service, notice, _letter, _chat = failures
    other = make_service_1411()
    client.force_login(make_user(Role.HEAD, service=other))
    html = client.get(reverse("deliveries")).content.decode()
    assert "KQ4M-2XH9" not in html
    client.post(reverse("deliveries"), {"row": f"notifications.notification:{notice.pk}"})
    notice.refresh_from_db()
    assert notice.status == Notification.Status.FAILED  # not theirs: nothing retried

    client.force_login(make_user(Role.OPERATOR, service=other))
    assert client.get(reverse("deliveries")).status_code == 403


def test_send_again_is_audited_and_delivers(client, failures, django_capture_on_commit_callbacks):
    service, notice, _letter, _chat = failures
    head = make_user(Role.HEAD, service=service)
    client.force_login(head)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("deliveries"), {"row": f"notifications.notification:{notice.pk}"}
        )
    assert response.status_code == 303
    notice.refresh_from_db()
    assert notice.status == Notification.Status.SENT and notice.attempts == 1
    event = AuditEvent.objects.get(event_type="outbox.delivery_retried")
    assert event.actor == head and event.subject_id == str(notice.pk)
    assert event.extra["last_error"] == "ConnectionRefusedError"
