"""Periodic and queued work of this app. Outgoing messages are the one outbox's
(notifications.tasks): no retry loop of our own."""

from celery import shared_task

from opora.messengers.services import inbound_process, inbound_retry_due


@shared_task(acks_late=True)
def process_inbound(update_id: int) -> str:
    """Process one stored inbound update (idempotent: a processed one is left alone)."""
    return inbound_process(update_id=update_id).status


@shared_task
def retry_inbound() -> int:
    """Every 2 minutes: re-run inbound updates that failed or were never processed."""
    return inbound_retry_due()
