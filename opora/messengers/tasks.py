"""Periodic and queued work of this app."""

from celery import shared_task

from opora.messengers.models import OutboundMessage
from opora.messengers.services import (
    MAX_SEND_ATTEMPTS,
    backoff,
    inbound_process,
    outbound_send,
    outbox_retry_due,
)


@shared_task(acks_late=True)
def process_inbound(update_id: int) -> str:
    """Process one stored inbound update (idempotent: a processed one is left alone)."""
    return inbound_process(update_id=update_id).status


@shared_task(bind=True, acks_late=True, max_retries=MAX_SEND_ATTEMPTS)
def send_outbound(self, message_id: int) -> str:
    """Send a queued message; after a retryable failure try again with exponential back-off.

    With the embedded (eager) runner there is no retry here: `retry_outbox` picks it up.
    """
    message = outbound_send(message_id=message_id)
    if message.status == OutboundMessage.Status.FAILED and not self.request.is_eager:
        raise self.retry(countdown=backoff(message.attempts).total_seconds())
    return message.status


@shared_task
def retry_outbox() -> int:
    """Every 2 minutes: resend failed messages whose back-off has passed and stuck queued ones;
    re-run inbound updates that were never processed."""
    return outbox_retry_due()
