"""Periodic and queued work of this app."""

from celery import shared_task


@shared_task
def retry_outbox() -> int:
    """Placeholder until implemented in this session; does nothing."""
    return 0
