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
