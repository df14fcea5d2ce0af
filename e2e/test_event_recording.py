"""Recording a group room on Janus (issue 14), on a 360-px phone with real taps: under the consent
policy the lead's start is refused naming the participant who has not consented; once they agree,
the lead records for a few seconds, everyone sees the indicator, and an encrypted chunk is stored."""

from __future__ import annotations

import datetime as dt
import time

from django.utils import timezone
from playwright.sync_api import expect

from opora.core.models import Service
from opora.events import services
from opora.events.models import Attendance, Event, EventRecording, EventRecordingChunk

from .conftest import e2e_db, login
from .test_events import fits, janus_server, phone_context  # noqa: F401 (fixtures)

pytestmark = e2e_db


def _wait(check, *, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.25)
    raise AssertionError("the condition did not come true in time")


def test_the_lead_records_only_after_everyone_present_consented(
    janus_server,  # noqa: F811
    phone_context,  # noqa: F811
    axe_check,
    service,
    consultant,
    settings,
    tmp_path,
):
    settings.OPORA_RECORDING_ROOT = str(tmp_path / "recordings")
    Service.objects.filter(pk=service.pk).update(recording_policy=Service.RecordingPolicy.CONSENT)
    event = services.event_create(
        actor=consultant,
        service=service,
        kind=Event.Kind.WEBINAR,
        title_ru="Вебинар с записью",
        starts_at=timezone.now() - dt.timedelta(minutes=5),
        duration_minutes=90,
        capacity=10,
        lead=consultant,
    )
    registration = services.registration_create(
        actor=None, event=event, full_name="Участник Запись", phone="+77015554499"
    ).registration

    participant = phone_context()
    participant.goto(f"/e/{registration.token}/room/?event={event.pk}")
    expect(participant.locator("#recording-consent-form")).to_be_visible()
    expect(participant.locator("#room")).to_have_attribute("data-connected", "1", timeout=30_000)
    _wait(
        lambda: Attendance.objects.filter(registration=registration, left_at__isnull=True).exists()
    )

    lead = phone_context()
    login(lead, consultant.username)
    lead.goto(f"/staff/events/{event.pk}/room/")
    expect(lead.locator("#room")).to_have_attribute("data-connected", "1", timeout=30_000)
    button = lead.locator("#recording-button")
    expect(button).to_be_enabled()
    button.click()
    # Refused: the participant in the room has not consented, and is named.
    expect(lead.locator("#recording-note")).to_contain_text("Участник Запись")
    assert not EventRecording.objects.exists()

    participant.locator("#consent-yes").check()
    participant.locator("#consent-send").click()
    expect(participant.locator("#recording-consent-answer")).to_be_visible()
    expect(participant.locator("#room")).to_have_attribute("data-connected", "1", timeout=30_000)
    fits(participant)
    axe_check(participant, where="group room with the recording consent")
    registration.refresh_from_db()
    assert registration.recording_consent is True

    button.click()
    expect(lead.locator("#recording-indicator")).to_be_visible()
    expect(participant.locator("#recording-indicator")).to_be_visible(timeout=10_000)
    fits(lead)
    axe_check(lead, where="group room (lead) recording")
    _wait(lambda: EventRecordingChunk.objects.exists(), timeout=30)
    button.click()  # stop: the last piece is sent and the recording sealed
    _wait(lambda: EventRecording.objects.filter(status="finished").exists())
    recording = EventRecording.objects.get()
    assert recording.chunk_count >= 1 and recording.size > 0 and recording.sha256
    stored = (tmp_path / "recordings" / recording.chunks.first().storage_name).read_bytes()
    assert stored.startswith(b"OPR1")  # encrypted at rest
    expect(participant.locator("#recording-indicator")).to_be_hidden(timeout=10_000)
