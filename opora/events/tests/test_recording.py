"""Recording an event's room (issue 14): only under the service's policy and the participants'
consents, made by the lead, stored encrypted like a 1:1 recording, read by the head with a reason."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from opora.accounts.models import Role
from opora.consultations import recording as crypto
from opora.core.audit import AuditEvent
from opora.core.errors import DomainError, PermissionDenied
from opora.core.models import Service
from opora.demo.factories import make_user
from opora.events import recording as rec
from opora.events import services
from opora.events.models import Event, EventRecording, EventRecordingAccess, RoomMessage
from opora.events.tests.factories import make_event, phone
from opora.scheduling.tests.factories import other_service

pytestmark = pytest.mark.django_db

WEBM = b"\x1aE\xdf\xa3" + b"synthetic webm bytes " * 10


@pytest.fixture(autouse=True)
def _private_storage(settings, tmp_path):
    settings.OPORA_RECORDING_ROOT = str(tmp_path / "recordings")


def _policy(service: Service, policy: str) -> None:
    Service.objects.filter(pk=service.pk).update(recording_policy=policy)
    service.recording_policy = policy


@pytest.fixture
def room(service, consultant):
    """An event going on now, with two participants in the room."""
    event = make_event(service, consultant, starts_in=dt.timedelta(minutes=-5))
    people = [
        services.registration_create(
            actor=None, event=event, full_name=f"Участник {i}", phone=phone(i)
        ).registration
        for i in (1, 2)
    ]
    for person in people:
        services.attendance_join(event=event, registration=person)
    return event, people


def test_a_service_that_never_records_refuses(service, consultant, room):
    event, _people = room
    _policy(service, Service.RecordingPolicy.NEVER)
    with pytest.raises(DomainError) as refused:
        rec.event_recording_start(actor=consultant, event=event, mime_type="video/webm")
    assert refused.value.code == "recording_not_allowed"
    assert not EventRecording.objects.exists()


def test_consent_policy_names_who_has_not_consented(service, consultant, room):
    event, (first, second) = room
    _policy(service, Service.RecordingPolicy.CONSENT)
    rec.registration_recording_consent(registration=first, consent=True)
    rec.registration_recording_consent(registration=second, consent=False)
    with pytest.raises(DomainError) as refused:
        rec.event_recording_start(actor=consultant, event=event, mime_type="video/webm")
    assert "Участник 2" in str(refused.value.message)
    assert "Участник 1" not in str(refused.value.message)
    # Once the one who refused has left, the room may be recorded.
    services.attendance_leave(attendance=second.attendances.get())
    recording = rec.event_recording_start(actor=consultant, event=event, mime_type="video/webm")
    assert recording.policy == Service.RecordingPolicy.CONSENT
    second.refresh_from_db()
    assert second.recording_consent is False and second.recording_consent_at is not None
    assert AuditEvent.objects.filter(event_type="event.recording_consent").count() == 2


def test_notice_policy_needs_the_notice_shown_to_everyone_present(service, consultant, room):
    event, (first, second) = room
    _policy(service, Service.RecordingPolicy.NOTICE)
    rec.registration_recording_notice(registration=first)
    with pytest.raises(DomainError) as refused:
        rec.event_recording_start(actor=consultant, event=event, mime_type="video/webm")
    assert "Участник 2" in str(refused.value.message)
    rec.registration_recording_notice(registration=second)
    assert rec.event_recording_start(actor=consultant, event=event, mime_type="video/webm")


def test_a_non_lead_is_refused(service, consultant, room):
    event, people = room
    _policy(service, Service.RecordingPolicy.NOTICE)
    for person in people:
        rec.registration_recording_notice(registration=person)
    other = make_user(Role.CONSULTANT, service=service, organisation=service.provider_organisation)
    with pytest.raises(PermissionDenied):
        rec.event_recording_start(actor=other, event=event, mime_type="video/webm")
    with pytest.raises(PermissionDenied):
        rec.event_recording_start(actor=None, event=event, mime_type="video/webm")
    # A presenter may record.
    event.presenters.add(other)
    assert rec.event_recording_start(actor=other, event=event, mime_type="video/webm")


def test_a_chunk_is_stored_encrypted_and_read_back_with_a_reason(
    service, consultant, head, room, tmp_path
):
    event, people = room
    _policy(service, Service.RecordingPolicy.CONSENT)
    for person in people:
        rec.registration_recording_consent(registration=person, consent=True)
    recording = rec.event_recording_start(actor=consultant, event=event, mime_type="video/webm")
    chunk, created = rec.event_recording_chunk_store(
        actor=consultant, recording=recording, seq=0, data=WEBM
    )
    assert created
    _again, created = rec.event_recording_chunk_store(
        actor=consultant, recording=recording, seq=0, data=WEBM
    )
    assert not created  # a re-sent chunk is stored once
    stored = Path(tmp_path / "recordings" / chunk.storage_name).read_bytes()
    assert stored.startswith(crypto.MAGIC) and b"synthetic webm" not in stored
    # Someone else (even the head) does not upload into the lead's recording.
    with pytest.raises(PermissionDenied):
        rec.event_recording_chunk_store(actor=head, recording=recording, seq=1, data=WEBM)
    finished = rec.event_recording_finish(actor=consultant, recording=recording)
    assert finished.status == EventRecording.Status.FINISHED
    assert finished.chunk_count == 1 and finished.size == len(WEBM)
    with pytest.raises(DomainError):
        rec.event_recording_chunk_store(actor=consultant, recording=finished, seq=1, data=WEBM)
    # The lead does not read it back; the head does, with a reason, and it is logged.
    with pytest.raises(PermissionDenied):
        rec.event_recording_read(actor=consultant, recording=finished, reason="x")
    with pytest.raises(ValidationError):
        rec.event_recording_read(actor=head, recording=finished, reason=" ")
    assert b"".join(rec.event_recording_read(actor=head, recording=finished, reason="Жалоба 1"))
    assert EventRecordingAccess.objects.get().user == head
    kinds = set(AuditEvent.objects.values_list("event_type", flat=True))
    assert {"recording.started", "recording.finished", "recording.accessed"} <= kinds


def test_who_did_not_consent_cannot_take_the_floor_while_recording(
    client, service, consultant, room
):
    event, (first, second) = room
    _policy(service, Service.RecordingPolicy.CONSENT)
    rec.registration_recording_consent(registration=first, consent=True)
    rec.registration_recording_consent(registration=second, consent=True)
    rec.event_recording_start(actor=consultant, event=event, mime_type="video/webm")
    # A latecomer who says no: watches and writes, but no hand (their voice would be recorded).
    late = services.registration_create(
        actor=None, event=event, full_name="Участник 3", phone=phone(3)
    ).registration
    client.post(reverse("events:recording_consent", args=[late.token]), {"consent": "no"})
    url = reverse("events:messages", args=[late.token])
    hand = client.post(url, json.dumps({"kind": "hand", "mid": "0"}), "application/json")
    assert hand.status_code == 400
    assert not RoomMessage.objects.filter(kind="hand").exists()
    polled = client.get(url).json()
    assert polled["recording"] is True


def test_the_views_start_upload_finish_and_the_staff_page_lists_it(
    client, service, consultant, head, room
):
    event, _people = room
    _policy(service, Service.RecordingPolicy.NOTICE)
    for person in _people:
        rec.registration_recording_notice(registration=person)
    client.force_login(consultant)
    started = client.post(
        reverse("events:staff_recording_start", args=[event.pk]), {"mime_type": "video/webm"}
    ).json()
    assert started["ok"], started
    stored = client.post(started["chunkUrl"], WEBM, content_type="application/octet-stream")
    assert stored.status_code == 200
    assert client.post(started["finishUrl"]).json()["chunks"] == 1
    # The lead does not see the recordings' list; the head does, and downloads with a reason.
    assert (
        b"event-recordings"
        not in client.get(reverse("events:staff_event", args=[event.pk])).content
    )
    client.force_login(head)
    page = client.get(reverse("events:staff_event", args=[event.pk]))
    detail = reverse("events:staff_recording", args=[started["id"]])
    assert detail.encode() in page.content
    assert client.post(detail, {"access-reason": ""}).status_code == 400
    download = client.post(detail, {"access-reason": "Проверка качества"})
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == WEBM


def test_the_participant_s_room_page_asks_for_consent_and_stores_the_notice(
    client, service, room, monkeypatch
):
    event, (first, _second) = room
    monkeypatch.delenv("OPORA_JANUS_URL", raising=False)
    _policy(service, Service.RecordingPolicy.CONSENT)
    page = client.get(reverse("events:room", args=[first.token]))
    assert b'id="recording-consent-form"' in page.content
    answer = client.post(
        reverse("events:recording_consent", args=[first.token]), {"consent": "yes"}
    )
    assert answer.status_code == 302
    first.refresh_from_db()
    assert first.recording_consent is True
    assert first.recording_consent_at <= timezone.now()
    _policy(service, Service.RecordingPolicy.NOTICE)
    page = client.get(reverse("events:room", args=[first.token]))
    assert b'id="recording-notice"' in page.content
    first.refresh_from_db()
    assert first.recording_notice_at is not None


def _recording_with_a_chunk(service, consultant, room) -> EventRecording:
    """A recording running under the notice policy, with its first chunk stored."""
    event, people = room
    _policy(service, Service.RecordingPolicy.NOTICE)
    for person in people:
        rec.registration_recording_notice(registration=person)
    recording = rec.event_recording_start(actor=consultant, event=event, mime_type="video/webm")
    rec.event_recording_chunk_store(actor=consultant, recording=recording, seq=0, data=WEBM)
    return recording


def test_a_recording_left_running_is_closed_as_interrupted(service, consultant, room):
    recording = _recording_with_a_chunk(service, consultant, room)
    assert rec.event_recordings_close_abandoned() == 0  # still going
    later = timezone.now() + rec.RECORDING_ABANDONED_AFTER + dt.timedelta(minutes=1)
    assert rec.event_recordings_close_abandoned(now=later) == 1
    recording.refresh_from_db()
    assert recording.status == EventRecording.Status.INTERRUPTED
    assert recording.chunk_count == 1 and recording.sha256
    assert AuditEvent.objects.filter(event_type="recording.abandoned").count() == 1


def test_the_end_of_the_event_closes_a_recording_that_still_gets_chunks(service, consultant, room):
    event, _people = room
    recording = _recording_with_a_chunk(service, consultant, room)
    length = dt.timedelta(minutes=event.duration_minutes)
    # Ended within the grace: the recorder's last pieces are still awaited.
    ended = timezone.now() - rec.RECORDING_GRACE + dt.timedelta(minutes=1)
    Event.objects.filter(pk=event.pk).update(starts_at=ended - length)
    assert rec.event_recordings_close_abandoned() == 0
    # Ended longer ago than the grace: closed, though its last chunk is fresh.
    ended = timezone.now() - rec.RECORDING_GRACE - dt.timedelta(minutes=1)
    Event.objects.filter(pk=event.pk).update(starts_at=ended - length)
    assert rec.event_recordings_close_abandoned() == 1
    recording.refresh_from_db()
    assert recording.status == EventRecording.Status.INTERRUPTED and recording.chunk_count == 1


def test_another_service_s_head_does_not_see_the_recording(client, service, consultant, room):
    event, people = room
    for person in people:
        rec.registration_recording_notice(registration=person)
    recording = rec.event_recording_start(actor=consultant, event=event, mime_type="video/webm")
    other = other_service(service)
    stranger = make_user(Role.HEAD, service=other, organisation=other.provider_organisation)
    assert rec.recording_get(actor=stranger, recording_id=recording.pk) is None
    with pytest.raises(PermissionDenied):
        rec.event_recording_read(actor=stranger, recording=recording, reason="Жалоба")
    client.force_login(stranger)
    assert client.get(reverse("events:staff_recording", args=[recording.pk])).status_code == 404
