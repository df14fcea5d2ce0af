"""Periodic and queued work of this app."""

from celery import shared_task


@shared_task
def fetch_mailboxes() -> int:
    """Every minute: import new letters of every mailbox. Returns the number newly stored.

    Answers out are retried by the one outbox's sweep (notifications.tasks.sweep_outbox).
    """
    from opora.mail.imap import mailboxes_fetch

    return mailboxes_fetch().stored


@shared_task
def flag_overdue_answers() -> int:
    """Every 15 minutes: tell the heads once about each written request past its deadline."""
    from opora.mail.services import overdue_flag

    return overdue_flag()
