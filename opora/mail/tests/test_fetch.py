"""Letters in, against a real IMAP server (dovecot): regulation 002 §4.6.2 — a letter is registered
on the day it is received, with its attachments, addressed to the responsible consultant."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from opora.accounts.models import Role
from opora.core.models import AuditEvent, Service
from opora.demo.factories import make_user
from opora.intake.models import ServiceRequest
from opora.mail import files as mail_files
from opora.mail.imap import mailbox_fetch, mailboxes_fetch
from opora.mail.models import Attachment, InboundMessage, Mailbox
from opora.mail.services import inbound_release, inbound_store
from opora.mail.tests.factories import make_letter, make_mailbox, make_written_service
from opora.scheduling.calendar import add_working_days, to_local

pytestmark = pytest.mark.django_db


@pytest.fixture
def written(mail_servers):
    imap, smtp = mail_servers
    service = make_written_service()
    consultant = make_user(Role.CONSULTANT, service=service)
    mailbox = make_mailbox(service, imap=imap, smtp=smtp, consultant=consultant)
    return service, consultant, mailbox, imap, smtp


def test_letter_becomes_request_on_the_day_of_receipt_with_attachment(written):
    service, consultant, mailbox, imap, _smtp = written
    pdf = b"%PDF-1.4 synthetic medical certificate"
    imap.append(
        make_letter(
            message_id="<first@example.org>",
            attachment=("справка.pdf", pdf, "application/pdf"),
        )
    )

    result = mailbox_fetch(mailbox)

    assert (result.seen, result.stored, result.failed) == (1, 1, 0)
    letter = InboundMessage.objects.get()
    request = letter.request
    assert letter.status == InboundMessage.Status.REGISTERED
    assert request.channel == "email"
    assert request.preferred_form == "written"
    assert request.email == "anna.petrova@example.org"
    assert request.full_name == "Петрова Анна"
    assert request.reason == "Вопрос о развитии ребёнка"
    assert request.assigned_to == consultant
    assert request.status == ServiceRequest.Status.NEW
    # Registered on the day of receipt, in the service's time zone; the receipt time is kept.
    assert (
        to_local(service, request.created_at).date() == to_local(service, letter.received_at).date()
    )
    assert abs((letter.received_at - request.created_at).total_seconds()) < 120
    assert letter.due_on == add_working_days(
        service, to_local(service, letter.received_at).date(), 3
    )
    assert "плохо говорит" in letter.body_text
    attachment = Attachment.objects.get(message=letter)
    assert attachment.filename == "справка.pdf"
    assert attachment.content_type == "application/pdf"
    # Stored sealed (issue 15): the file on storage is not the PDF; it reads back decrypted.
    with attachment.file.open("rb") as fh:
        assert mail_files.is_sealed(stored := fh.read()) and pdf not in stored
    assert mail_files.read_plain(attachment.file, kind=mail_files.ATTACHMENT) == pdf
    # Marked read on the server only now that it is stored.
    assert imap.unseen_count() == 0
    events = set(AuditEvent.objects.values_list("event_type", flat=True))
    assert {"intake.request_created", "mail.letter_registered"} <= events
    # No letter text in the audit log.
    for extra in AuditEvent.objects.values_list("extra", flat=True):
        assert "плохо" not in str(extra) and "Петрова" not in str(extra)


def test_receipt_time_is_the_servers_arrival_time(written):
    _service, _consultant, mailbox, imap, _smtp = written
    arrived = time.time() - 3600
    imap.append(make_letter(), when=arrived)
    mailbox_fetch(mailbox)
    letter = InboundMessage.objects.get()
    assert abs(letter.received_at.timestamp() - arrived) < 2


def test_same_message_id_fetched_three_times_is_one_request(written):
    _service, _consultant, mailbox, imap, _smtp = written
    letter = make_letter(message_id="<same@example.org>")
    for _ in range(3):
        imap.append(letter)  # e.g. a client's mail program sending it again
        mailbox_fetch(mailbox)
    # And once more with nothing new on the server, as if the server forgot the \Seen flags.
    mailbox.refresh_from_db()
    Mailbox.objects.filter(pk=mailbox.pk).update(last_uid=0)
    mailbox.refresh_from_db()
    mailbox_fetch(mailbox)
    assert InboundMessage.objects.count() == 1
    assert ServiceRequest.objects.count() == 1


def test_letter_without_message_id_gets_a_stable_id(written):
    _service, _consultant, mailbox, imap, _smtp = written
    raw = make_letter(message_id=None).as_bytes()
    imap.append(raw)
    imap.append(raw)
    mailbox_fetch(mailbox)
    letter = InboundMessage.objects.get()
    assert letter.message_id.endswith("@hash.opora>")
    assert ServiceRequest.objects.count() == 1


def test_reply_joins_the_thread_by_references_and_by_code(written):
    _service, _consultant, mailbox, imap, _smtp = written
    imap.append(make_letter(message_id="<q1@example.org>"))
    mailbox_fetch(mailbox)
    request = ServiceRequest.objects.get()
    imap.append(
        make_letter(
            message_id="<q2@example.org>",
            subject="Re: Вопрос о развитии ребёнка",
            in_reply_to="<q1@example.org>",
            references="<q1@example.org>",
            body="Забыла написать: ему 5 лет и 3 месяца.",
        )
    )
    # A new letter quoting the request code in its subject, from the same address.
    imap.append(make_letter(message_id="<q3@example.org>", subject=f"Заявка {request.public_code}"))
    # The same code from a stranger opens a request of its own.
    imap.append(
        make_letter(
            sender="other@example.net",
            message_id="<q4@example.org>",
            subject=f"Заявка {request.public_code}",
        )
    )
    mailbox_fetch(mailbox)
    assert list(
        InboundMessage.objects.filter(request=request).values_list("message_id", flat=True)
    ) == ["<q1@example.org>", "<q2@example.org>", "<q3@example.org>"]
    assert ServiceRequest.objects.count() == 2
    assert InboundMessage.objects.get(message_id="<q4@example.org>").request != request


@pytest.mark.parametrize(
    "headers",
    [{"X-Spam-Flag": "YES"}, {"X-Spam-Status": "Yes, score=12.3 required=5.0"}],
)
def test_spam_goes_to_quarantine_and_can_be_released(written, headers):
    service, _consultant, mailbox, imap, _smtp = written
    imap.append(make_letter(headers=headers))
    mailbox_fetch(mailbox)
    letter = InboundMessage.objects.get()
    assert letter.status == InboundMessage.Status.QUARANTINED
    assert letter.quarantine_reason == "spam"
    assert letter.request is None
    assert ServiceRequest.objects.count() == 0
    assert imap.unseen_count() == 0  # stored, so not fetched again
    head = make_user(Role.HEAD, service=service)
    released = inbound_release(actor=head, message=letter)
    assert released.status == InboundMessage.Status.RELEASED
    assert released.request.channel == "email"
    assert released.released_by == head


def test_oversized_goes_to_quarantine_with_its_attachment_kept(written):
    _service, _consultant, mailbox, imap, _smtp = written
    mailbox.max_message_bytes = 2000
    mailbox.save()
    imap.append(make_letter(attachment=("scan.bin", b"\x00" * 5000, "application/octet-stream")))
    mailbox_fetch(mailbox)
    letter = InboundMessage.objects.get()
    assert (letter.status, letter.quarantine_reason) == ("quarantined", "oversized")
    assert letter.size > 5000
    with letter.raw.open("rb") as fh:
        assert mail_files.is_sealed(fh.read())
    assert len(mail_files.read_plain(letter.raw, kind=mail_files.RAW)) == letter.size
    assert ServiceRequest.objects.count() == 0


def test_service_with_registry_check_registers_the_letter_for_the_operators_check(
    mail_servers, service
):
    imap, smtp = mail_servers
    assert service.eligibility_rule == Service.Eligibility.KZ_REGISTRY
    mailbox = make_mailbox(service, imap=imap, smtp=smtp)
    imap.append(make_letter())
    mailbox_fetch(mailbox)
    letter = InboundMessage.objects.get()
    assert letter.status != InboundMessage.Status.QUARANTINED and letter.request is not None
    request = letter.request
    # Registered on the day of receipt, not yet checked: it cannot be booked until the operator
    # checks the IIN (see intake tests of request_check_eligibility).
    assert request.status == ServiceRequest.Status.NEW and request.eligibility_check is None


def test_least_loaded_consultant_gets_the_letter(mail_servers):
    imap, smtp = mail_servers
    service = make_written_service()
    busy = make_user(Role.CONSULTANT, service=service)
    free = make_user(Role.CONSULTANT, service=service)
    make_user(Role.CONSULTANT, service=service, is_active=False)
    mailbox = make_mailbox(service, imap=imap, smtp=smtp)
    assert mailbox.assignment == Mailbox.Assignment.LEAST_LOADED
    ServiceRequest.objects.create(
        service=service, full_name="Синтетический Клиент", channel="email", assigned_to=busy
    )
    imap.append(make_letter())
    mailbox_fetch(mailbox)
    assert InboundMessage.objects.get().request.assigned_to == free


def test_a_crash_mid_letter_leaves_nothing_and_the_next_run_resumes(written, monkeypatch):
    _service, _consultant, mailbox, imap, _smtp = written
    imap.append(
        make_letter(message_id="<crash@example.org>", attachment=("a.txt", b"x", "text/plain"))
    )
    import opora.mail.services as mail_services

    def boom(*args, **kwargs):
        raise RuntimeError("simulated crash while storing attachments")

    monkeypatch.setattr(mail_services, "_store_attachments", boom)
    result = mailbox_fetch(mailbox)
    assert result.failed == 1
    assert InboundMessage.objects.count() == 0
    assert ServiceRequest.objects.count() == 0
    assert imap.unseen_count() == 1  # still new on the server
    monkeypatch.undo()
    result = mailbox_fetch(mailbox)
    assert (result.stored, result.failed) == (1, 0)
    assert InboundMessage.objects.get().attachments.count() == 1


def test_a_down_server_is_recorded_without_secrets(written):
    _service, _consultant, mailbox, _imap, _smtp = written
    mailbox.imap_password = "wrong-Secret-77"
    mailbox.save()
    assert mailboxes_fetch().stored == 0
    mailbox.refresh_from_db()
    assert mailbox.last_error
    assert "wrong-Secret-77" not in mailbox.last_error


def test_inbound_store_is_idempotent_without_a_server(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    service = make_written_service()
    mailbox = make_mailbox(service, consultant=make_user(Role.CONSULTANT, service=service))
    raw = make_letter(message_id="<direct@example.org>").as_bytes()
    first, created = inbound_store(mailbox=mailbox, raw=raw, received_at=dt.datetime.now(dt.UTC))
    again, created_again = inbound_store(mailbox=mailbox, raw=raw)
    assert created and not created_again and first.pk == again.pk
