"""The retention job (issue 15) on records on both sides of their term: requests anonymised
(counts kept), chat deleted, recording media deleted, letters blanked; idempotent, batched,
audited with counts only; `--dry-run` changes nothing. Here (mail's rank) because it spans the
apps that register purgers."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from opora.consultations import services as room
from opora.consultations.models import ChatMessage, Consultation, Recording, RecordingChunk
from opora.consultations.tests.factories import make_live_consultation
from opora.core.models import AuditEvent, RetentionRule, Service
from opora.core.retention import retention_run
from opora.demo.factories import make_consultant
from opora.intake.models import ServiceRequest
from opora.mail.models import InboundMessage
from opora.mail.services import inbound_store
from opora.mail.tests.factories import make_letter, make_mailbox, make_written_service

pytestmark = pytest.mark.django_db

OLD = dt.timedelta(days=40)
TERM = 30


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.OPORA_RECORDING_ROOT = str(tmp_path / "rec")
    return tmp_path


def _consultation_with_chat_and_recording(service, consultant, age: dt.timedelta) -> Consultation:
    Service.objects.filter(pk=service.pk).update(recording_policy="notice")
    live = make_live_consultation(service, consultant)
    live = room.consultation_admit(consultation_id=live.pk, actor=consultant)
    room.consultation_record_notice(
        consultation=Consultation.objects.select_related("booking__slot__service").get(pk=live.pk)
    )
    fresh = Consultation.objects.select_related("booking__slot__service").get(pk=live.pk)
    rec = room.recording_start(actor=consultant, consultation=fresh, mime_type="video/webm")
    for seq in range(3):
        room.recording_chunk_store(
            actor=consultant, recording=rec, seq=seq, data=bytes.fromhex("1a45dfa3") + b"v" * 32
        )
    room.recording_finish(actor=consultant, recording=rec)
    ChatMessage.objects.create(consultation=live, seq=1, sender="client", text="секрет чата")
    then = timezone.now() - age
    ChatMessage.objects.filter(consultation=live).update(created_at=then)
    Recording.objects.filter(pk=rec.pk).update(started_at=then)
    ServiceRequest.objects.filter(pk=live.booking.request_id).update(created_at=then)
    return live


def test_records_past_the_term_go_and_the_others_stay(media, service, consultant):
    old = _consultation_with_chat_and_recording(service, consultant, OLD)
    new = _consultation_with_chat_and_recording(
        service, make_consultant(service), dt.timedelta(days=2)
    )
    for kind in ("requests", "chat", "recordings"):
        RetentionRule.objects.create(service=None, kind=kind, days=TERM)
    old_request = ServiceRequest.objects.get(pk=old.booking.request_id)
    assert old_request.full_name and old_request.status == "booked"
    old_phone = old_request.phone
    assert old_phone and ServiceRequest.objects.filter(phone=old_phone).exists()

    dry = {(r.kind): r.handled for r in retention_run(dry_run=True) if r.service == service.code}
    assert dry == {"requests": 1, "chat": 1, "recordings": 3}
    assert ChatMessage.objects.count() == 2  # a dry run changes nothing

    results = retention_run(batch_size=2)  # smaller than the 3 chunks: batched
    handled = {r.kind: r.handled for r in results if r.service == service.code}
    assert handled == {"requests": 1, "chat": 1, "recordings": 3}

    old_request.refresh_from_db()
    assert old_request.full_name == old_request.phone == old_request.reason == ""
    assert old_request.client is None and old_request.anonymised_at is not None
    # Nor can the old phone find it through its blind index.
    assert old_request.phone_bidx == old_request.iin_bidx == old_request.email_bidx == ""
    assert not ServiceRequest.objects.filter(pk=old_request.pk, phone=old_phone).exists()
    # What reports count stays: the row, its status, kind, channel and date.
    assert old_request.status == "booked" and old_request.created_at < timezone.now() - OLD / 2
    assert not ChatMessage.objects.filter(consultation=old).exists()
    assert not RecordingChunk.objects.filter(recording__consultation=old).exists()
    assert Recording.objects.filter(consultation=old).exists()  # the row (when, size) stays
    assert not list(Path(media / "rec").rglob(f"{old.recordings.get().storage_path}*/*.bin"))
    # The new ones are untouched.
    new_request = ServiceRequest.objects.get(pk=new.booking.request_id)
    assert new_request.full_name and new_request.anonymised_at is None
    assert ChatMessage.objects.filter(consultation=new).count() == 1
    assert RecordingChunk.objects.filter(recording__consultation=new).count() == 3

    events = AuditEvent.objects.filter(event_type="retention.applied")
    assert sorted(e.extra["kind"] for e in events) == ["chat", "recordings", "requests"]
    assert all(set(e.extra) == {"kind", "days", "count"} for e in events)

    # Idempotent: a second run finds nothing more.
    again = {r.kind: r.handled for r in retention_run() if r.service == service.code}
    assert again == {"requests": 0, "chat": 0, "recordings": 0}
    assert events.count() == 3


def test_letters_and_a_per_service_term(media):
    service = make_written_service()
    mailbox = make_mailbox(service)
    old, _ = inbound_store(mailbox=mailbox, raw=make_letter(subject="старое").as_bytes())
    new, _ = inbound_store(mailbox=mailbox, raw=make_letter(subject="новое").as_bytes())
    InboundMessage.objects.filter(pk=old.pk).update(received_at=timezone.now() - OLD)
    RetentionRule.objects.create(service=None, kind="letters", days=1000)
    RetentionRule.objects.create(service=service, kind="letters", days=TERM)  # the service's wins
    out = StringIO()
    call_command("retention_run", stdout=out)
    assert f"{service.code} letters ({TERM} days): handled 1" in out.getvalue()
    old.refresh_from_db()
    new.refresh_from_db()
    assert old.subject == old.body_text == old.from_address == "" and not old.raw
    assert old.status and old.received_at  # counted by the SLA still
    assert new.subject == "новое" and new.body_text


def test_no_term_no_change(media, service, consultant):
    live = _consultation_with_chat_and_recording(service, consultant, OLD)
    assert retention_run() == []
    assert ChatMessage.objects.count() == 1
    assert ServiceRequest.objects.get(pk=live.booking.request_id).anonymised_at is None
