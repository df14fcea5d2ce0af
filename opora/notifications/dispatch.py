"""Handing stored outbox rows (notifications, letters, chat messages) to the delivery task, after
commit, in batches.

A message is a row first; the task message only says "deliver these". Publishing one
Celery message per notification inside the web request cost more than the rest of a booking
(measured in bench/run.py: ~1 ms of Python and two Redis round trips each, worse when many
requests publish at once). So, with a broker, a web process hands the ids to one background
thread that sends them as one `deliver_outbox` message per outbox and batch: whatever arrived
within `BATCH_WINDOW` seconds, at most `BATCH_MAX` ids.

A message that never left (broker down, process killed) is not a lost message: the row stays
"queued", and `outbox_sweep` (every minute) hands on every row still queued after
`outbox.SWEEP_AFTER`. Delivery claims the row (`outbox.outbox_deliver`), so a row handed on twice
is delivered once.

Without a broker (the embedded default, tests: `task_always_eager`) each row is delivered right
after the commit, in the process, as before.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time

from django.db import models, transaction

logger = logging.getLogger(__name__)

BATCH_WINDOW = 0.02  # seconds a batch waits for more ids
BATCH_MAX = 500


class _Batcher:
    """One daemon thread per process that publishes ids in batches (started on first use; a
    forked child starts its own)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: queue.SimpleQueue[tuple[str, int]] = queue.SimpleQueue()
        self._pid: int | None = None

    def put(self, label: str, pk: int) -> None:
        if self._pid != os.getpid():
            with self._lock:
                if self._pid != os.getpid():
                    self._queue = queue.SimpleQueue()
                    threading.Thread(
                        target=self._run, name="opora-notify", args=(self._queue,), daemon=True
                    ).start()
                    self._pid = os.getpid()
        self._queue.put((label, pk))

    @staticmethod
    def _run(ids_in: queue.SimpleQueue[tuple[str, int]]) -> None:
        from opora.notifications.tasks import deliver_outbox

        while True:
            ids = [ids_in.get()]
            deadline = time.monotonic() + BATCH_WINDOW
            while len(ids) < BATCH_MAX:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                try:
                    ids.append(ids_in.get(timeout=left))
                except queue.Empty:
                    break
            by_label: dict[str, list[int]] = {}
            for label, pk in ids:
                by_label.setdefault(label, []).append(pk)
            for label, pks in by_label.items():
                try:
                    deliver_outbox.delay(label, pks)
                except Exception as exc:  # noqa: BLE001 - the sweep hands them on later
                    logger.warning(
                        "could not queue %d message(s) for delivery: %s; the sweep will",
                        len(pks),
                        type(exc).__name__,
                    )


_batcher = _Batcher()


def _eager() -> bool:
    from opora.celery import app

    return bool(app.conf.task_always_eager)


def deliver_after_commit(model: type[models.Model], pk: int) -> None:
    """Have the stored outbox row delivered once the current transaction commits."""
    label = model._meta.label_lower

    def hand_on() -> None:
        if _eager():
            from opora.notifications.outbox import outbox_deliver

            outbox_deliver(label, pk)
        else:
            _batcher.put(label, pk)

    transaction.on_commit(hand_on)
