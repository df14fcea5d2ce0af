"""Writes for notifications: store first, deliver after commit through a task, retry safely."""

import logging

from django.core.mail import EmailMessage
from django.db import models, transaction
from django.utils import timezone

from opora.notifications.models import Notification
from opora.notifications.sms import get_sms_backend

logger = logging.getLogger(__name__)


@transaction.atomic(savepoint=False)
def notification_create(
    *,
    channel: str,
    recipient: str,
    body: str,
    kind: str,
    subject: str = "",
    about: models.Model | None = None,
) -> Notification:
    """Store a message for a client; it is delivered by a task once the transaction commits.

    With a broker (production) the caller's transaction is not slowed by SMTP or an SMS gateway;
    in the embedded default the task runs in-process right after the commit.
    """
    from opora.notifications.tasks import deliver_notification

    notification = Notification(
        channel=channel,
        recipient=recipient,
        subject=subject,
        body=body,
        kind=kind,
        subject_type=about._meta.label_lower if about is not None else "",
        subject_id=str(about.pk) if about is not None else "",
    )
    notification.full_clean()
    notification.save()
    transaction.on_commit(lambda: deliver_notification.delay(notification.pk))
    return notification


def notification_deliver(*, notification_id: int) -> Notification:
    """Send one stored notification. Safe to call twice: a sent one is not sent again."""
    with transaction.atomic():
        n = Notification.objects.select_for_update().get(pk=notification_id)
        if n.status == Notification.Status.SENT:
            return n
        n.attempts += 1
        try:
            if n.channel == Notification.Channel.EMAIL:
                EmailMessage(subject=n.subject, body=n.body, to=[n.recipient]).send()
            else:
                get_sms_backend().send(phone=n.recipient, text=n.body)
        except Exception as exc:  # noqa: BLE001 - any transport failure is recorded, then retried
            n.status = Notification.Status.FAILED
            n.error = type(exc).__name__
            logger.warning("notification %s failed: %s", n.pk, type(exc).__name__)
        else:
            n.status = Notification.Status.SENT
            n.sent_at = timezone.now()
            n.error = ""
        n.save(update_fields=["status", "attempts", "error", "sent_at"])
    return n
