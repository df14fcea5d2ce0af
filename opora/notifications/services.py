"""Writes for notifications: store first, deliver after commit, retry safely."""

import logging

from django.core.mail import EmailMessage
from django.db import models, transaction
from django.utils import timezone

from opora.notifications.models import Notification
from opora.notifications.sms import get_sms_backend

logger = logging.getLogger(__name__)


@transaction.atomic
def notification_create(
    *,
    channel: str,
    recipient: str,
    body: str,
    kind: str,
    subject: str = "",
    about: models.Model | None = None,
    attachments: list[tuple[str, bytes, str]] | None = None,
) -> Notification:
    """Store a message for a client and deliver it once the surrounding transaction commits.

    Attachments are not stored (they are rebuilt by the caller when needed); they go with the
    first delivery attempt only.
    """
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
    transaction.on_commit(lambda: notification_deliver(notification_id=notification.pk, attachments=attachments))
    return notification


def notification_deliver(
    *, notification_id: int, attachments: list[tuple[str, bytes, str]] | None = None
) -> Notification:
    """Send one stored notification. Safe to call twice: a sent one is not sent again."""
    with transaction.atomic():
        n = Notification.objects.select_for_update().get(pk=notification_id)
        if n.status == Notification.Status.SENT:
            return n
        n.attempts += 1
        try:
            if n.channel == Notification.Channel.EMAIL:
                message = EmailMessage(subject=n.subject, body=n.body, to=[n.recipient])
                for name, content, mimetype in attachments or []:
                    message.attach(name, content, mimetype)
                message.send(fail_silently=False)
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
