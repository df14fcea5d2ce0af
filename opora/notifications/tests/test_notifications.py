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
    assert failed.status == Notification.Status.FAILED
    assert failed.error == "ConnectionRefusedError"


class BrokenBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("smtp down")
