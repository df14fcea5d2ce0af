"""The one outbox under real failures.

1. A real Celery worker on Redis is killed (SIGKILL, by its pid) while the SMTP server holds the
   letter in DATA; a second worker's sweep takes the stale lease over; the server has received
   the letter exactly once and the row is `sent` with both attempts recorded.
2. An SMTP server that refuses: the message is retried on the one policy's back-off, then
   `failed` with the reason, and the head sees it on "Доставка сообщений".

The first needs PostgreSQL and Redis (OPORA_TEST_REDIS_URL, as `make test` sets): it skips
otherwise.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from opora.accounts.models import Role
from opora.demo.factories import make_district_service, make_user
from opora.intake.models import ServiceRequest
from opora.notifications import outbox
from opora.notifications.models import Notification
from opora.notifications.tests.smtp_stub import SmtpStub

REDIS_URL = os.environ.get("OPORA_TEST_REDIS_URL", "")
LABEL = "notifications.notification"
LEASE_SECONDS = 3
ROOT = Path(__file__).resolve().parents[3]


def _database_url() -> str:
    s = connection.settings_dict
    auth = quote(s["USER"] or "")
    if s.get("PASSWORD"):
        auth += ":" + quote(s["PASSWORD"])
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def _start_worker(smtp_port: int, name: str, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "opora.settings.local",
        # The test run's key: the worker decrypts what the test stored (core.fields derives the
        # field key from it when OPORA_FIELD_KEY is not set).
        "OPORA_SECRET_KEY": django_settings.SECRET_KEY,
        "DATABASE_URL": _database_url(),
        "REDIS_URL": REDIS_URL,
        "OPORA_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPORA_EMAIL_HOST": "127.0.0.1",
        "OPORA_EMAIL_PORT": str(smtp_port),
        "OPORA_OUTBOX_LEASE_SECONDS": str(LEASE_SECONDS),
    }
    celery = [sys.executable, "-m", "celery", "-A", "opora", "worker"]
    return subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [*celery, "--pool=solo", "--without-heartbeat", "--without-gossip", "--without-mingle"]
        + ["-n", f"{name}@outbox-test", "--loglevel=INFO"],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


def _wait(predicate, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _stop(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(10)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(5)


@pytest.fixture
def redis_broker():
    if not REDIS_URL:
        pytest.skip("no Redis server (OPORA_TEST_REDIS_URL)")
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL): a worker process shares the database")
    import redis

    from opora.celery import app

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip("the Redis server of OPORA_TEST_REDIS_URL does not answer")
    client.flushdb()  # this session's own database number: stale messages of an earlier run
    saved = {k: app.conf[k] for k in ("broker_url", "task_always_eager")}
    app.conf.update(broker_url=REDIS_URL, task_always_eager=False)
    app._pool = None  # type: ignore[attr-defined]  # Celery's private pool: not in its stubs
    app.amqp._producer_pool = None  # type: ignore[attr-defined]  # kombu's, likewise
    yield app
    app.conf.update(saved)
    app._pool = None  # type: ignore[attr-defined]  # Celery's private pool: not in its stubs
    app.amqp._producer_pool = None  # type: ignore[attr-defined]  # kombu's, likewise
    client.flushdb()


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_send_delivers_exactly_once_after_a_restart(redis_broker, tmp_path):
    from opora.notifications.tasks import deliver_outbox, sweep_outbox

    smtp = SmtpStub(stall_first=True)
    n = Notification.objects.create(
        channel="email", recipient="parent@example.org", subject="Запись", body="Текст", kind="k"
    )
    first = _start_worker(smtp.port, "first", tmp_path / "first.log")
    second = None
    try:
        deliver_outbox.delay(LABEL, [n.pk])
        assert smtp.stalled.wait(60), (tmp_path / "first.log").read_text()
        n.refresh_from_db()
        assert n.status == Notification.Status.SENDING and n.attempts == 1
        assert n.claimed_at is not None

        os.kill(first.pid, signal.SIGKILL)  # mid-DATA: the server has not taken the letter
        first.wait(10)
        assert smtp.received == []
        n.refresh_from_db()
        assert n.status == Notification.Status.SENDING  # the lease of a dead worker

        second = _start_worker(smtp.port, "second", tmp_path / "second.log")
        # The lease expires; the sweep (as beat would run it) takes the row over.
        _wait(
            lambda: timezone.now() > n.claimed_at + dt.timedelta(seconds=LEASE_SECONDS),
            LEASE_SECONDS + 5,
            "the lease",
        )
        sweep_outbox.delay()

        def sent() -> bool:
            n.refresh_from_db()
            return n.status == Notification.Status.SENT

        _wait(sent, 60, "the second delivery: " + (tmp_path / "second.log").read_text()[-2000:])
        sweep_outbox.delay()  # a later sweep finds nothing to do
        time.sleep(2)
        assert len(smtp.received) == 1
        assert b"Subject: =?utf-8?b?" in smtp.received[0]
        n.refresh_from_db()
        assert n.status == Notification.Status.SENT and n.attempts == 2
        assert n.claimed_at is None and n.last_error == ""
    finally:
        for worker in (first, second):
            if worker is not None:
                _stop(worker)
        smtp.close()


@pytest.mark.django_db
def test_a_refusing_smtp_server_is_retried_then_shown_to_the_head_as_failed(
    settings, client, django_capture_on_commit_callbacks
):
    from opora.notifications.services import notification_create

    smtp = SmtpStub(refuse=True)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", smtp.port, 5
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    service = make_district_service()
    request = ServiceRequest.objects.create(
        service=service, full_name="Клиент Тестовый", public_code="KQ4M-2XH9"
    )
    try:
        with django_capture_on_commit_callbacks(execute=True):
            n = notification_create(
                channel="email",
                recipient="parent@example.org",
                subject="Запись",
                body="Секретный текст письма",
                kind="booking_created",
                about=request,
                copy_to_messengers=False,
            )
        n.refresh_from_db()
        waits = []
        while n.status == Notification.Status.QUEUED:
            assert n.attempts < outbox.MAX_ATTEMPTS
            assert outbox.outbox_deliver(LABEL, n.pk) == "queued"  # not due: nothing tried
            waits.append(n.next_attempt_at)
            assert outbox.outbox_sweep(now=n.next_attempt_at) == 1
            n.refresh_from_db()
        assert n.status == Notification.Status.FAILED
        assert n.attempts == outbox.MAX_ATTEMPTS == smtp.connections
        assert n.last_error == "SMTPRecipientsRefused"
        assert smtp.received == []
        # The waits between attempts are the one policy's back-off.
        assert len(waits) == outbox.MAX_ATTEMPTS - 1
        # Never dropped: later sweeps leave it failed, and it stays listed.
        assert outbox.outbox_sweep(now=timezone.now() + outbox.BACKOFF_MAX * 48) == 0
    finally:
        smtp.close()

    head = make_user(Role.HEAD, service=service)
    client.force_login(head)
    page = client.get(reverse("deliveries"))
    assert page.status_code == 200
    html = page.content.decode()
    assert request.public_code in html
    assert "SMTPRecipientsRefused" in html
    assert "Секретный текст письма" not in html and "parent@example.org" not in html
