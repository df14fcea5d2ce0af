"""Periodic and queued work of this app."""

from celery import shared_task

from opora.mail.models import OutboundMessage

MAX_TASK_RETRIES = 8


@shared_task
def fetch_mailboxes() -> int:
    """Every minute: send answers whose retry is due, then import new letters of every mailbox.

    The retry sweep lives here so that an answer left queued by a down SMTP server is sent even in
    the embedded default (eager tasks, no broker to schedule a Celery retry). Returns the number
    of letters newly stored.
    """
    from opora.mail.imap import mailboxes_fetch
    from opora.mail.services import outbound_retry_due

    outbound_retry_due()
    return mailboxes_fetch().stored


@shared_task
def flag_overdue_answers() -> int:
    """Every 15 minutes: tell the heads once about each written request past its deadline."""
    from opora.mail.services import overdue_flag

    return overdue_flag()


@shared_task(bind=True, acks_late=True, max_retries=MAX_TASK_RETRIES)
def send_answer(self, outbound_id: int) -> str:
    """Send a stored written answer; on failure retry with a growing delay.

    Idempotent: the answer row is locked while it is sent, and a sent one is never sent again.
    """
    from opora.mail.services import outbound_deliver

    out = outbound_deliver(outbound_id=outbound_id)
    if out.status == OutboundMessage.Status.QUEUED and not self.request.is_eager:
        raise self.retry(countdown=min(3600, 30 * 2**self.request.retries))
    return out.status
