import pytest
from django.core import mail

from opora.notifications.models import Notification
from opora.notifications.services import notification_create, notification_deliver


@pytest.mark.django_db
def test_email_is_stored_then_sent_after_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        n = notification_create(
            channel="email",
            recipient="parent@example.org",
            subject="Запись",
            body="Текст",
            kind="booking",
        )
        assert mail.outbox == []  # nothing leaves before the transaction commits
    n.refresh_from_db()
    assert n.status == Notification.Status.SENT
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["parent@example.org"]


@pytest.mark.django_db
def test_delivery_is_idempotent_and_failures_are_recorded(
    settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        n = notification_create(
            channel="sms", recipient="+77011234567", body="Текст", kind="booking"
        )
    n.refresh_from_db()
    assert n.status == Notification.Status.SENT and n.attempts == 1
    notification_deliver(notification_id=n.pk)
    n.refresh_from_db()
    assert n.attempts == 1  # a sent message is never sent twice

    settings.EMAIL_BACKEND = "opora.notifications.tests.test_notifications.BrokenBackend"
    with django_capture_on_commit_callbacks(execute=True):
        failed = notification_create(channel="email", recipient="x@example.org", body="b", kind="k")
    failed.refresh_from_db()
    # A failed attempt waits for the next one (the one outbox's back-off), with the reason.
    assert failed.status == Notification.Status.QUEUED and failed.attempts == 1
    assert failed.next_attempt_at is not None
    assert failed.last_error == "ConnectionRefusedError"


class BrokenBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("smtp down")


@pytest.mark.django_db
def test_email_attachments_are_sent(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notification_create(
            channel="email",
            recipient="parent@example.org",
            subject="Запись",
            body="Текст",
            kind="booking_created",
            attachments=[("booking.ics", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "text/calendar")],
        )
    (message,) = mail.outbox
    assert message.attachments[0][0] == "booking.ics"
    assert message.attachments[0][2] == "text/calendar"


@pytest.mark.django_db
def test_a_registered_channel_delivers_and_a_dedupe_key_stores_once(
    django_capture_on_commit_callbacks,
):
    from opora.notifications import channels

    delivered = []
    channels.register("testchan", lambda n: delivered.append(n.recipient))
    try:
        with django_capture_on_commit_callbacks(execute=True):
            a = notification_create(
                channel="sms", recipient="+77011234567", body="b", kind="k", dedupe_key="one"
            )
            b = notification_create(
                channel="sms", recipient="+77011234567", body="b", kind="k", dedupe_key="one"
            )
        assert a.pk == b.pk and Notification.objects.count() == 1
        n = Notification(channel="sms", recipient="chat-1", body="b", kind="k")
        n.save()
        Notification.objects.filter(pk=n.pk).update(channel="testchan")
        notification_deliver(notification_id=n.pk)
        assert delivered == ["chat-1"]
    finally:
        channels._senders.pop("testchan", None)


@pytest.mark.django_db
def test_unknown_messenger_channel_fails_and_is_recorded():
    n = Notification.objects.create(channel="sms", recipient="x", body="b", kind="k")
    Notification.objects.filter(pk=n.pk).update(channel="nochannel")
    notification_deliver(notification_id=n.pk)
    n.refresh_from_db()
    assert n.status == Notification.Status.FAILED and n.last_error == "LookupError"
