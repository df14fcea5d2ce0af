from celery import shared_task

from opora.notifications.models import Notification
from opora.notifications.services import notification_deliver

MAX_ATTEMPTS = 6


@shared_task(bind=True, acks_late=True, max_retries=MAX_ATTEMPTS)
def deliver_notification(self, notification_id: int) -> str:
    """Deliver a stored notification; on a transport failure retry with a growing delay.

    Idempotent: the notification row is the unit of work, and a sent one is never sent again.
    """
    n = notification_deliver(notification_id=notification_id)
    if n.status == Notification.Status.FAILED and not self.request.is_eager:
        raise self.retry(countdown=min(3600, 30 * 2**self.request.retries))
    return n.status


@shared_task(acks_late=True)
def deliver_notifications(notification_ids: list[int]) -> int:
    """Deliver a batch handed on by `notifications.dispatch`; a notification that fails goes on
    to `deliver_notification`, which retries it with a growing delay. Returns how many were sent.
    """
    sent = 0
    for notification_id in notification_ids:
        try:
            n = notification_deliver(notification_id=notification_id)
        except Notification.DoesNotExist:
            continue  # its transaction was rolled back after all
        if n.status == Notification.Status.SENT:
            sent += 1
        elif n.status == Notification.Status.FAILED:
            deliver_notification.apply_async((notification_id,), countdown=30)
    return sent


@shared_task
def sweep_queued_notifications() -> int:
    """Hand on every notification still queued `SWEEP_AFTER` after it was stored (its message was
    lost with a broker outage or a killed process). Returns how many were handed on."""
    from django.utils import timezone

    from opora.notifications.dispatch import SWEEP_AFTER

    ids = list(
        Notification.objects.filter(
            status=Notification.Status.QUEUED,
            attempts=0,
            created_at__lt=timezone.now() - SWEEP_AFTER,
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:5000]
    )
    for start in range(0, len(ids), 500):
        deliver_notifications.delay(ids[start : start + 500])
    return len(ids)
