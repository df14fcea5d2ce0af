"""The one outbox's rules, in-process: one policy for every registered outbox, a row leased to a
live worker is left to it, a stale lease is taken over by the sweep, a refusal no retry mends
fails at once."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone

from opora.notifications import channels, outbox
from opora.notifications.models import Notification

LABEL = "notifications.notification"


@pytest.fixture
def testchan():
    calls: list[int] = []
    channels.register("testchan", lambda n: calls.append(n.pk))
    yield calls
    channels._senders.pop("testchan", None)


def _row(**kw) -> Notification:
    n = Notification.objects.create(channel="sms", recipient="chat-1", body="b", kind="k", **kw)
    Notification.objects.filter(pk=n.pk).update(channel="testchan")
    return n


def test_every_outbox_is_registered_with_the_one_policy():
    labels = {box.label for box in outbox.outboxes()}
    assert {
        "notifications.notification",
        "mail.outgoingletter",
        "messengers.outgoingchatmessage",
    } <= labels
    waits = [outbox.backoff(n) for n in range(1, outbox.MAX_ATTEMPTS)]
    assert waits[0] == dt.timedelta(seconds=30) and waits[1] == dt.timedelta(minutes=1)
    assert max(waits) == outbox.BACKOFF_MAX and waits == sorted(waits)


@pytest.mark.django_db
def test_a_stale_lease_is_taken_over_by_the_sweep_and_a_live_one_is_not(testchan):
    now = timezone.now()
    live = _row(status="sending", claimed_at=now - dt.timedelta(seconds=10), attempts=1)
    dead = _row(status="sending", claimed_at=now - outbox.lease() - dt.timedelta(seconds=1))
    assert outbox.outbox_deliver(LABEL, live.pk) == "sending"  # its worker is still at it
    assert outbox.outbox_sweep(now=now) == 1
    assert testchan == [dead.pk]
    dead.refresh_from_db()
    assert dead.status == "sent" and dead.claimed_at is None


@pytest.mark.django_db
def test_a_refusal_no_retry_mends_fails_at_once():
    n = _row()
    Notification.objects.filter(pk=n.pk).update(channel="nochannel")
    assert outbox.outbox_deliver(LABEL, n.pk) == "failed"
    n.refresh_from_db()
    assert n.attempts == 1 and n.last_error == "LookupError" and n.next_attempt_at is None
    assert outbox.outbox_sweep(now=timezone.now() + dt.timedelta(days=2)) == 0


@pytest.mark.django_db(transaction=True)
def test_a_second_worker_skips_a_row_being_sent_instead_of_sending_it_again():
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL (DATABASE_URL)")
    entered, release, calls = threading.Event(), threading.Event(), []

    def slow(n):
        calls.append(n.pk)
        entered.set()
        assert release.wait(10)

    channels.register("testchan", slow)
    n = _row()
    results: list[str] = []
    worker = threading.Thread(target=lambda: results.append(outbox.outbox_deliver(LABEL, n.pk)))
    try:
        worker.start()
        assert entered.wait(10)
        assert outbox.outbox_deliver(LABEL, n.pk) == "sending"  # no wait, no second send
    finally:
        release.set()
        worker.join(10)
        channels._senders.pop("testchan", None)
    assert results == ["sent"] and calls == [n.pk]
