"""Delivery is handed on in batches through a real Redis broker, and the sweep finds what was not."""

import base64
import datetime as dt
import json
import os
import secrets
import time

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from opora.celery import app
from opora.notifications import tasks
from opora.notifications.models import Notification
from opora.notifications.services import notification_create

REDIS_URL = os.environ.get("OPORA_TEST_REDIS_URL", "")


def _store(n: int) -> list[int]:
    return [
        notification_create(
            channel="email", recipient=f"p{i}@example.org", body="Текст", kind="booking"
        ).pk
        for i in range(n)
    ]


@pytest.fixture
def broker():
    """Celery as in production for one test: a Redis broker, tasks not run in-process; a queue
    of its own, so that nothing else reads or writes it."""
    import redis

    queue = f"opora-test-{secrets.token_hex(4)}"
    saved = {k: app.conf[k] for k in ("broker_url", "task_always_eager", "task_default_queue")}
    app.conf.update(broker_url=REDIS_URL, task_always_eager=False, task_default_queue=queue)
    _new_broker_connections()
    client = redis.Redis.from_url(REDIS_URL)
    yield client, queue
    client.delete(queue)
    app.conf.update(saved)
    _new_broker_connections()


def _new_broker_connections() -> None:
    # What Celery does after a fork: the next publish takes its pool for the current broker URL
    # (kombu keeps one pool per URL; none is closed, as other tests use them).
    app._pool = None
    app.amqp._producer_pool = None


def _messages(client, queue: str, want: int, timeout: float = 5.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while client.llen(queue) < want and time.monotonic() < deadline:
        time.sleep(0.02)
    raw = client.lrange(queue, 0, -1)
    return [json.loads(m) for m in raw]


@pytest.mark.skipif(not REDIS_URL, reason="no Redis server (OPORA_TEST_REDIS_URL)")
@pytest.mark.django_db(transaction=True)
def test_notifications_of_one_moment_go_to_the_broker_as_one_message(broker):
    client, queue = broker
    with transaction.atomic():
        ids = _store(3)
        time.sleep(0.1)
        assert client.llen(queue) == 0  # nothing is handed on before the commit
    messages = _messages(client, queue, 1)
    assert len(messages) == 1
    message = messages[0]
    assert message["headers"]["task"] == "opora.notifications.tasks.deliver_outbox"
    args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
    assert args == ["notifications.notification", ids]
    assert set(Notification.objects.filter(pk__in=ids).values_list("status", flat=True)) == {
        Notification.Status.QUEUED
    }


@pytest.mark.skipif(not REDIS_URL, reason="no Redis server (OPORA_TEST_REDIS_URL)")
@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_hands_nothing_on(broker):
    client, queue = broker
    with pytest.raises(RuntimeError), transaction.atomic():
        _store(2)
        raise RuntimeError("the booking failed")
    time.sleep(0.2)
    assert client.llen(queue) == 0
    assert not Notification.objects.exists()


@pytest.mark.django_db
def test_the_batch_task_delivers_each_once_and_skips_a_vanished_one(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=False):
        ids = _store(2)
    label = "notifications.notification"
    assert tasks.deliver_outbox(label, ids + [10**9]) == 2
    assert tasks.deliver_outbox(label, ids) == 2  # already sent: reported, not sent again
    assert len(mail.outbox) == 2
    assert set(Notification.objects.filter(pk__in=ids).values_list("status", flat=True)) == {
        Notification.Status.SENT
    }


@pytest.mark.django_db
def test_the_sweep_hands_on_what_stayed_queued(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):  # as if the message were lost
        old, fresh = _store(2)
    Notification.objects.filter(pk=old).update(created_at=timezone.now() - dt.timedelta(minutes=3))

    assert tasks.sweep_outbox() == 1  # eager here: delivered in-process

    statuses = dict(Notification.objects.values_list("pk", "status"))
    assert statuses == {old: Notification.Status.SENT, fresh: Notification.Status.QUEUED}
    assert [m.to for m in mail.outbox] == [["p0@example.org"]]
    assert tasks.sweep_outbox() == 0
