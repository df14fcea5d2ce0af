"""One outbox: every outgoing message of every app is a stored row, delivered by this module.

Notifications (SMS, e-mail, messenger copies, the daily hand-off), written answers (mail) and chat
messages (messengers) keep their own tables — each has columns of its own and foreign keys into
its app — but every one of them is an `OutboxRow` (status, attempts, next_attempt_at, claimed_at,
last_error, sent_at) and is delivered here, with:

- ONE retry policy: `MAX_ATTEMPTS` attempts, the back-off of `backoff()`; a refusal no retry can
  mend (an exception with `retryable = False`) fails at once;
- ONE claim step: the row is taken under `select_for_update(skip_locked=True)` and leased
  (status `sending`, `claimed_at`); the provider is called *outside* any transaction, so no
  database lock is held over a network call; a lease older than `lease()` is a worker that died
  mid-send, and the sweep takes the row over;
- ONE dispatch function, `outbox_deliver(label, pk)`, that calls the channel's adapter, records
  the attempt and the error, schedules the next attempt or marks the row `failed`;
- ONE sweep, `outbox_sweep()` (every minute: CELERY_BEAT_SCHEDULE and `opora scheduler`), that
  hands on due retries, rows whose task message was lost, and stale leases of every outbox.

A channel plugs in with `register(model, send=...)` from its AppConfig.ready; this module imports
no app above it. `send(row)` delivers one row and raises on failure; it may return a dict of
fields to store with the `sent` mark (a provider's message id).

Exactly once: a row is sent by one worker at a time (the claim), and never after `sent`. The one
gap left is a worker killed after the provider took the message but before our commit: the lease
expires and the message goes again (at least once, there). An SMTP server has not taken a letter
until it answered the final dot, so a worker killed mid-DATA leaves nothing delivered; the mail's
fixed Message-ID and VK's random_id let the far side drop the rare repeat.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.db.models import F, Q
from django.utils import timezone

from opora.notifications.locks import outbox_rows_select_for_update
from opora.notifications.models import OutboxRow, OutboxStatus

logger = logging.getLogger("opora.outbox")

# --- the one retry policy ----------------------------------------------------------------------
# Attempts before a message is shown to the heads as not delivered: with the back-off below the
# last one is about three hours after the first (30 s, 1, 2, 4, 8, 16, 32 min, then hourly).
MAX_ATTEMPTS = 10
BACKOFF_FIRST = dt.timedelta(seconds=30)
BACKOFF_MAX = dt.timedelta(hours=1)
# A row whose task message never arrived (broker down, process killed before publishing) is
# handed on by the sweep this long after it was stored.
SWEEP_AFTER = dt.timedelta(minutes=2)
SWEEP_BATCH = 500
# Longer than any adapter's own timeout (SMTP 20 s, messenger HTTP 10 s): a lease this old is a
# worker that died mid-send. OPORA_OUTBOX_LEASE_SECONDS shortens it (tests).
DEFAULT_LEASE_SECONDS = 300


def backoff(attempts: int) -> dt.timedelta:
    """The wait after the n-th failed attempt: 30 s, doubling, at most an hour."""
    return min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** max(0, attempts - 1))


def lease() -> dt.timedelta:
    return dt.timedelta(
        seconds=int(getattr(settings, "OPORA_OUTBOX_LEASE_SECONDS", DEFAULT_LEASE_SECONDS))
    )


# --- channels plug in --------------------------------------------------------------------------

Send = Callable[[Any], "dict[str, Any] | None"]


@dataclass(frozen=True)
class Outbox:
    label: str  # "app_label.modelname"
    model: type[OutboxRow]
    send: Send
    # Called in the transaction that marks the row sent (e.g. mail's audit record).
    on_sent: Callable[[Any], None] | None = None
    # Related rows the adapter reads, fetched with the claim.
    select_related: tuple[str, ...] = ()


_outboxes: dict[str, Outbox] = {}


def label_of(model: type[models.Model]) -> str:
    return model._meta.label_lower


def register(
    model: type[OutboxRow],
    *,
    send: Send,
    on_sent: Callable[[Any], None] | None = None,
    select_related: Iterable[str] = (),
) -> None:
    """Deliver rows of `model` with `send` (from the channel app's AppConfig.ready)."""
    label = label_of(model)
    _outboxes[label] = Outbox(label, model, send, on_sent, tuple(select_related))


def outboxes() -> list[Outbox]:
    return list(_outboxes.values())


def get_outbox(label: str) -> Outbox:
    try:
        return _outboxes[label]
    except KeyError:
        raise LookupError(f"no outbox registered for {label!r}") from None


# --- claim, send, record -----------------------------------------------------------------------


def _claimable(now: dt.datetime) -> Q:
    due = Q(status=OutboxStatus.QUEUED) & (
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )
    stale = Q(status=OutboxStatus.SENDING, claimed_at__lt=now - lease())
    return due | stale


def _claim(box: Outbox, pk: int, now: dt.datetime) -> OutboxRow | None:
    """Lease the row to this worker, or None when it is not due, sent, failed or leased."""
    with transaction.atomic():
        row = (
            outbox_rows_select_for_update(box.model)
            .filter(_claimable(now), pk=pk)
            .select_related(*box.select_related)
            .first()
        )
        if row is None:
            return None
        # The same condition again in the UPDATE: where the database has no row locks (the
        # embedded SQLite), the write itself decides which of two workers got the row.
        claimed = box.model.objects.filter(_claimable(now), pk=pk).update(
            status=OutboxStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1
        )
        if not claimed:
            return None
        if row.status == OutboxStatus.SENDING:
            logger.warning("outbox: %s#%s lease expired, taken over", box.label, pk)
        row.status = OutboxStatus.SENDING
        row.claimed_at = now
        row.attempts += 1
    return row


def _record(
    box: Outbox, row: OutboxRow, *, error: BaseException | None, extra: dict[str, Any]
) -> OutboxRow:
    """Store the outcome, unless the lease was taken over meanwhile (then the other worker's
    outcome is the one that counts)."""
    now = timezone.now()
    with transaction.atomic():
        current = (
            outbox_rows_select_for_update(box.model, skip_locked=False)
            .select_related(*box.select_related)
            .get(pk=row.pk)
        )
        if current.status != OutboxStatus.SENDING or current.claimed_at != row.claimed_at:
            return current
        current.claimed_at = None
        fields = ["status", "claimed_at", "last_error", "next_attempt_at", "sent_at"]
        if error is None:
            current.status = OutboxStatus.SENT
            current.sent_at = now
            current.last_error = ""
            current.next_attempt_at = None
            for name, value in extra.items():
                setattr(current, name, value)
                fields.append(name)
        else:
            current.last_error = _reason(error)
            retryable = getattr(error, "retryable", True)
            if retryable and current.attempts < MAX_ATTEMPTS:
                current.status = OutboxStatus.QUEUED
                current.next_attempt_at = now + backoff(current.attempts)
            else:
                current.status = OutboxStatus.FAILED
                current.next_attempt_at = None
            logger.warning(
                "outbox: %s#%s attempt %d failed (%s)%s",
                box.label,
                current.pk,
                current.attempts,
                current.last_error,
                "; gave up" if current.status == OutboxStatus.FAILED else "",
            )
        current.save(update_fields=fields)
        if error is None and box.on_sent is not None:
            box.on_sent(current)
    return current


def _reason(error: BaseException) -> str:
    # A provider's short reason (messengers' SendError) or the exception's class: never str(exc)
    # of an arbitrary exception, which may echo an address or the message.
    reason = getattr(error, "reason", "") or type(error).__name__
    return str(reason)[:200]


def outbox_deliver(label: str, pk: int, *, now: dt.datetime | None = None) -> str:
    """Deliver one row of the outbox `label` if it is due; returns its status afterwards.

    Safe to call any number of times from any number of workers: only the worker that claims the
    row sends it, and a sent or failed row is left alone. A row not yet due (back-off) or leased
    to a live worker is left too ("sending"/"queued" is returned).
    """
    box = get_outbox(label)
    row = _claim(box, pk, now or timezone.now())
    if row is None:
        status = box.model.objects.filter(pk=pk).values_list("status", flat=True).first()
        return status or "missing"
    try:
        extra = box.send(row) or {}
    except Exception as exc:  # noqa: BLE001 - any transport failure is recorded, then retried
        return _record(box, row, error=exc, extra={}).status
    return _record(box, row, error=None, extra=extra).status


def outbox_due_ids(box: Outbox, *, now: dt.datetime, limit: int = 5000) -> list[int]:
    """Rows the sweep hands on: retries that are due, rows whose task message was lost, and
    leases of workers that died."""
    qs = box.model.objects.filter(
        (Q(status=OutboxStatus.QUEUED) & Q(next_attempt_at__lte=now))
        | Q(
            status=OutboxStatus.QUEUED,
            next_attempt_at__isnull=True,
            created_at__lt=now - SWEEP_AFTER,
        )
        | Q(status=OutboxStatus.SENDING, claimed_at__lt=now - lease())
    )
    return list(qs.order_by("pk").values_list("pk", flat=True)[:limit])


def outbox_sweep(
    *, now: dt.datetime | None = None, hand_on: Callable[[str, list[int]], None] | None = None
) -> int:
    """Hand on every due row of every registered outbox; returns how many.

    `hand_on(label, ids)` publishes a batch (the Celery task, see tasks.py); without it the rows
    are delivered here, in this process.
    """
    now = now or timezone.now()
    total = 0
    for box in outboxes():
        ids = outbox_due_ids(box, now=now)
        total += len(ids)
        for start in range(0, len(ids), SWEEP_BATCH):
            batch = ids[start : start + SWEEP_BATCH]
            if hand_on is not None:
                hand_on(box.label, batch)
            else:
                for pk in batch:
                    outbox_deliver(box.label, pk, now=now)
    return total


def outbox_failed(*, label: str | None = None) -> list[tuple[Outbox, models.QuerySet]]:
    """The rows each outbox gave up on (newest first), for the heads' "deliveries" page."""
    return [
        (box, box.model.objects.filter(status=OutboxStatus.FAILED).order_by("-pk"))
        for box in outboxes()
        if label is None or box.label == label
    ]


def outbox_requeue(label: str, pk: int) -> OutboxRow | None:
    """Give a failed row a fresh round of attempts (the head's "retry"); None if not failed.

    The caller audits it and hands the row on after commit.
    """
    box = get_outbox(label)
    with transaction.atomic():
        row = (
            outbox_rows_select_for_update(box.model, skip_locked=False)
            .filter(pk=pk, status=OutboxStatus.FAILED)
            .first()
        )
        if row is None:
            return None
        row.status = OutboxStatus.QUEUED
        row.attempts = 0
        row.next_attempt_at = None
        row.claimed_at = None
        row.save(update_fields=["status", "attempts", "next_attempt_at", "claimed_at"])
    return row
