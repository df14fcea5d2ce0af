"""Periodic and queued work of this app."""

from celery import shared_task


@shared_task
def fetch_mailboxes() -> int:
    """Placeholder until implemented in this session; does nothing."""
    return 0


@shared_task
def flag_overdue_answers() -> int:
    """Placeholder until implemented in this session; does nothing."""
    return 0
