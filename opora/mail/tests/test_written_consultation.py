"""A letter thread taken up as a consultation (issue 12): answered with a file through the one
outbox, closed with a protocol, counted once; a thread held by another consultant is refused;
a booking letter answers the request in time (regulation 002 §3.2)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from opora.accounts.models import Role
from opora.consultations import services as consultations
from opora.consultations.models import Consultation, Protocol, Topic
from opora.core.errors import DomainError
from opora.demo.factories import make_user
from opora.intake.models import ServiceRequest
from opora.mail import files as mail_files
from opora.mail import selectors
from opora.mail.imap import mailbox_fetch
from opora.mail.models import InboundMessage, OutgoingAttachment
from opora.mail.services import (
    overdue_flag,
    written_answer_create,
    written_close,
    written_take_up,
)
from opora.mail.tests.factories import make_letter, make_mailbox, make_written_service
from opora.notifications.models import Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def thread(mail_servers):
    imap, smtp = mail_servers
    service = make_written_service()
    consultant = make_user(Role.CONSULTANT, service=service)
    mailbox = make_mailbox(service, imap=imap, smtp=smtp, consultant=consultant)
    imap.append(make_letter(message_id="<ask-forms@example.org>", subject="Вопрос о школе"))
    mailbox_fetch(mailbox)
    request = ServiceRequest.objects.get()
    return service, consultant, request, smtp


def test_taken_up_answered_with_a_file_closed_with_a_protocol(
    thread, django_capture_on_commit_callbacks
):
    service, consultant, request, smtp = thread
    c = written_take_up(actor=consultant, request=request)
    assert (c.form, c.status) == ("email", Consultation.Status.IN_PROGRESS)
    with django_capture_on_commit_callbacks(execute=True):
        written_answer_create(
            actor=consultant,
            request=request,
            body="Положение об инклюзии: https://example.org/inclusion",
            files=[SimpleUploadedFile("pamyatka.pdf", b"%PDF-1.4 test", "application/pdf")],
        )
        written_answer_create(actor=consultant, request=request, body="И ещё одно уточнение.")
    sent = OutgoingAttachment.objects.get()
    assert sent.filename == "pamyatka.pdf"
    # On storage: sealed, under a name that says nothing of the file.
    with sent.file.open("rb") as fh:
        stored = fh.read()
    assert mail_files.is_sealed(stored) and b"%PDF-1.4 test" not in stored
    assert "pamyatka" not in str(sent.file.name)
    assert len(smtp.received) == 2
    parts = list(smtp.received[0].iter_attachments())
    assert [part.get_filename() for part in parts] == ["pamyatka.pdf"]
    assert parts[0].get_content() == b"%PDF-1.4 test"  # the family gets the file itself
    request.refresh_from_db()
    # Taken up: the protocol, not the answer, closes the request.
    assert request.status == ServiceRequest.Status.BOOKED
    assert selectors.waiting_due_on(request=request) is None
    c = written_close(actor=consultant, request=request)
    consultations.protocol_save(
        actor=consultant,
        consultation=c,
        reason="Школа",
        topic=Topic.LEARNING,
        solution="Инклюзивное обучение",
        kind=Protocol.Kind.PRIMARY,
        materials="pamyatka.pdf",
        materials_pages=2,
    )
    request.refresh_from_db()
    assert request.status == ServiceRequest.Status.DONE
    # Two letters, one consultation, one protocol: counted once.
    assert Consultation.objects.filter(booking__request=request).count() == 1


def test_a_thread_held_by_another_consultant_is_refused(thread):
    service, consultant, request, _smtp = thread
    other = make_user(Role.CONSULTANT, service=service)
    with translation.override("en"), pytest.raises(DomainError) as e:
        written_take_up(actor=other, request=request)
    assert e.value.code == "held_by_other"
    assert "another consultant" in str(e.value.message)
    assert not Consultation.objects.exists()
    written_take_up(actor=consultant, request=request)
    with pytest.raises(DomainError) as e:
        written_take_up(actor=consultant, request=request)
    assert e.value.code == "already_taken"


def test_closing_needs_an_answer(thread):
    _service, consultant, request, _smtp = thread
    written_take_up(actor=consultant, request=request)
    with pytest.raises(DomainError) as e:
        written_close(actor=consultant, request=request)
    assert e.value.code == "no_answer"


def test_a_booking_letter_answers_in_time(thread):
    from opora.scheduling.models import Booking, Slot

    service, consultant, request, _smtp = thread
    make_user(Role.HEAD, service=service, email="head@example.org")
    letter = InboundMessage.objects.get()
    assert letter.due_on is not None
    # A booking made (its letter with date and time sent) before the due day ends.
    start = dt.datetime.combine(letter.due_on, dt.time(11), tzinfo=service.tz)
    slot = Slot.objects.create(
        service=service,
        consultant=consultant,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
    )
    Booking.objects.create(slot=slot, request=request)
    late = dt.datetime.combine(letter.due_on + dt.timedelta(days=2), dt.time(9), tzinfo=service.tz)
    assert overdue_flag(now=late) == 0
    assert not Notification.objects.filter(kind="written_overdue").exists()
    assert selectors.waiting_due_on(request=request) is None
