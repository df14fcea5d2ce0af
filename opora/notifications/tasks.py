"""The one outbox's tasks: deliver a batch of rows, and the sweep (see notifications.outbox).

No task retries by itself (no `self.retry`): a failed attempt leaves the row queued with its next
attempt time, and the sweep hands it on when due. One retry policy, whatever the channel.
"""

from celery import shared_task

from opora.notifications.outbox import OutboxStatus, outbox_deliver, outbox_sweep


@shared_task(acks_late=True)
def deliver_outbox(label: str, ids: list[int]) -> int:
    """Deliver rows of the outbox `label` (e.g. "notifications.notification"); returns how many
    were sent now. Rows sent, failed, not yet due or leased to another worker are skipped."""
    sent = 0
    for pk in ids:
        if outbox_deliver(label, pk) == OutboxStatus.SENT:
            sent += 1
    return sent


@shared_task
def sweep_outbox() -> int:
    """Every minute: hand on due retries, lost task messages and stale leases of every outbox.
    Returns how many rows were handed on."""
    from opora.celery import app

    if app.conf.task_always_eager:
        return outbox_sweep()
    return outbox_sweep(hand_on=lambda label, ids: deliver_outbox.delay(label, ids))
