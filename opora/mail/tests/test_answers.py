"""Answers out through a real SMTP server (aiosmtpd), in the same thread; deadlines in working days
of the service's country; overdue answers flagged to the head once (regulation 002 §4.6.3)."""

from __future__ import annotations

import datetime as dt

import pytest

from opora.accounts.models import Role
from opora.core.errors import DomainError, PermissionDenied
from opora.core.models import AuditEvent
from opora.demo.factories import make_user
from opora.intake.models import ServiceRequest
from opora.mail.imap import mailbox_fetch
from opora.mail.models import InboundMessage, OutgoingLetter
from opora.mail.services import (
    answer_due_on,
    outbound_deliver,
    overdue_flag,
    written_answer_create,
)
from opora.mail.tests.conftest import SmtpServer, free_port
from opora.mail.tests.factories import make_letter, make_mailbox, make_written_service
from opora.notifications.models import Notification
from opora.notifications.outbox import outbox_sweep

pytestmark = pytest.mark.django_db


@pytest.fixture
def thread(mail_servers):
    """A letter fetched from the IMAP server: a registered written request."""
    imap, smtp = mail_servers
    service = make_written_service()
    consultant = make_user(Role.CONSULTANT, service=service)
    mailbox = make_mailbox(service, imap=imap, smtp=smtp, consultant=consultant)
    imap.append(
        make_letter(
            message_id="<ask@example.org>",
            references="<older@example.org>",
            subject="Вопрос о пособии",
        )
    )
    mailbox_fetch(mailbox)
    request = ServiceRequest.objects.get()
    return service, consultant, mailbox, request, imap, smtp


def test_answer_leaves_by_smtp_in_the_thread_and_comes_back(
    thread, django_capture_on_commit_callbacks
):
    service, consultant, mailbox, request, imap, smtp = thread
    with django_capture_on_commit_callbacks(execute=True):
        out = written_answer_create(
            actor=consultant, request=request, body="Обратитесь в ПМПК по месту жительства."
        )
    out.refresh_from_db()
    assert out.status == OutgoingLetter.Status.SENT
    assert len(smtp.received) == 1
    sent = smtp.received[0]
    assert sent["From"].addresses[0].addr_spec == mailbox.from_address
    assert sent["To"].addresses[0].addr_spec == "anna.petrova@example.org"
    assert sent["Message-ID"] == out.message_id
    assert sent["In-Reply-To"] == "<ask@example.org>"
    assert sent["References"].split() == ["<older@example.org>", "<ask@example.org>"]
    # (Django folds an encoded subject onto a continuation line; readers drop the fold.)
    assert sent["Subject"].strip() == f"Re: Вопрос о пособии [{request.public_code}]"
    assert "ПМПК" in sent.get_content()
    assert request.public_code in sent.get_content()

    request.refresh_from_db()
    assert request.status == ServiceRequest.Status.DONE
    assert InboundMessage.objects.get().answered_by == out
    audit = AuditEvent.objects.get(event_type="mail.answer_written")
    assert audit.actor == consultant
    assert "ПМПК" not in str(audit.extra)

    # The client answers our letter: it joins the thread and the request waits again.
    imap.append(
        make_letter(
            message_id="<thanks@example.org>",
            subject="Re: " + sent["Subject"].strip(),
            in_reply_to=out.message_id,
            references=f"{out.references} {out.message_id}",
            body="Спасибо! А какие документы нужны?",
        )
    )
    mailbox_fetch(mailbox)
    follow_up = InboundMessage.objects.get(message_id="<thanks@example.org>")
    assert follow_up.request == request
    request.refresh_from_db()
    assert request.status == ServiceRequest.Status.NEW
    assert ServiceRequest.objects.count() == 1


def test_answer_is_sent_once_even_if_delivered_twice(thread, django_capture_on_commit_callbacks):
    _service, consultant, _mailbox, request, _imap, smtp = thread
    with django_capture_on_commit_callbacks(execute=True):
        out = written_answer_create(actor=consultant, request=request, body="Ответ.")
    outbound_deliver(outbound_id=out.pk)
    outbox_sweep(now=dt.datetime.now(dt.UTC) + dt.timedelta(days=1))
    assert len(smtp.received) == 1


def test_the_same_form_submitted_twice_stores_one_answer(thread):
    _service, consultant, _mailbox, request, _imap, _smtp = thread
    a = written_answer_create(actor=consultant, request=request, body="Ответ.", submission_key="k1")
    b = written_answer_create(actor=consultant, request=request, body="Ответ.", submission_key="k1")
    assert a.pk == b.pk
    assert OutgoingLetter.objects.count() == 1


def test_smtp_down_keeps_the_answer_queued_until_a_retry_sends_it(
    thread, django_capture_on_commit_callbacks
):
    _service, consultant, mailbox, request, _imap, _smtp = thread
    # A server of its own on a port of its own, stopped before the answer is written.
    flaky = SmtpServer("127.0.0.1", free_port())
    flaky.start()
    flaky.stop()
    mailbox.smtp_port = flaky.port
    mailbox.save()
    with django_capture_on_commit_callbacks(execute=True):
        out = written_answer_create(actor=consultant, request=request, body="Ответ после сбоя.")
    out.refresh_from_db()
    assert out.status == OutgoingLetter.Status.QUEUED
    assert out.attempts == 1
    assert out.last_error  # the exception's class name
    assert out.next_attempt_at > out.created_at
    # Not due yet: nothing is tried.
    assert outbox_sweep() == 0
    flaky.start()
    try:
        assert outbox_sweep(now=out.next_attempt_at + dt.timedelta(seconds=1)) == 1
    finally:
        flaky.stop()
    out.refresh_from_db()
    assert out.status == OutgoingLetter.Status.SENT
    assert out.attempts == 2
    assert len(flaky.received) == 1
    assert flaky.received[0]["Message-ID"] == out.message_id


def test_only_the_responsible_consultant_or_the_head_answers(thread):
    service, _consultant, _mailbox, request, _imap, _smtp = thread
    other = make_user(Role.CONSULTANT, service=service)
    with pytest.raises(PermissionDenied):
        written_answer_create(actor=other, request=request, body="Ответ.")
    with pytest.raises(DomainError) as err:
        written_answer_create(
            actor=make_user(Role.HEAD, service=service), request=request, body=" "
        )
    assert err.value.code == "answer_required"


# --- Deadlines: working days of the service's country -----------------------------------------


@pytest.mark.parametrize(
    ("country", "received_local", "due"),
    [
        # Friday → Wednesday: Mon, Tue, Wed.
        ("RU", dt.datetime(2025, 3, 14, 16, 0), dt.date(2025, 3, 19)),
        # Friday → Thursday in Kazakhstan: Republic Day (Sat 25 Oct) moves to Monday 27 Oct.
        ("KZ", dt.datetime(2025, 10, 24, 11, 0), dt.date(2025, 10, 30)),
        # Russia, May 2025: Thursday 8 and Friday 9 May are days off.
        ("RU", dt.datetime(2025, 5, 7, 10, 0), dt.date(2025, 5, 14)),
        # A letter on a Saturday: the three working days start on Monday.
        ("RU", dt.datetime(2025, 3, 15, 10, 0), dt.date(2025, 3, 19)),
    ],
)
def test_deadline_counts_working_days_of_the_country(db, country, received_local, due):
    service = make_written_service(country=country)
    received = received_local.replace(tzinfo=service.tz)
    assert answer_due_on(service, received) == due


def test_deadline_uses_the_services_local_day(db):
    service = make_written_service(country="RU")  # Europe/Moscow, UTC+3
    thursday_late = dt.datetime(2025, 3, 13, 20, 30, tzinfo=dt.UTC)  # Thursday 23:30 in Moscow
    friday_early = dt.datetime(2025, 3, 13, 21, 30, tzinfo=dt.UTC)  # Friday 00:30 in Moscow
    assert answer_due_on(service, thursday_late) == dt.date(2025, 3, 18)
    assert answer_due_on(service, friday_early) == dt.date(2025, 3, 19)


def test_overdue_answer_is_flagged_to_the_head_once(thread):
    service, _consultant, _mailbox, request, _imap, _smtp = thread
    head = make_user(Role.HEAD, service=service, email="head@example.org")
    make_user(Role.HEAD, service=make_written_service(), email="other-head@example.org")
    letter = InboundMessage.objects.get()
    on_time = dt.datetime.combine(letter.due_on, dt.time(12), tzinfo=service.tz)
    assert overdue_flag(now=on_time) == 0
    late = dt.datetime.combine(letter.due_on + dt.timedelta(days=1), dt.time(9), tzinfo=service.tz)
    assert overdue_flag(now=late) == 1
    assert overdue_flag(now=late) == 0
    assert overdue_flag(now=late + dt.timedelta(hours=2)) == 0
    notices = Notification.objects.filter(kind="written_overdue")
    assert [n.recipient for n in notices] == [head.email]
    assert request.public_code in notices[0].subject
    assert "Петрова" not in notices[0].body
    assert AuditEvent.objects.filter(event_type="mail.answer_overdue").count() == 1


def test_answered_in_time_is_never_flagged(thread):
    service, consultant, _mailbox, request, _imap, _smtp = thread
    make_user(Role.HEAD, service=service, email="head@example.org")
    written_answer_create(actor=consultant, request=request, body="Ответ.")
    letter = InboundMessage.objects.get()
    late = dt.datetime.combine(letter.due_on + dt.timedelta(days=5), dt.time(9), tzinfo=service.tz)
    assert overdue_flag(now=late) == 0
    assert not Notification.objects.filter(kind="written_overdue").exists()
