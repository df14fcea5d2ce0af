"""Recording of consultations: the policy × consent gate (checked again for every chunk), chunks
stored once, encryption at rest, every read logged with a reason, hand-over within 3 working days."""

import base64
import datetime as dt
import hashlib
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import FileSystemStorage
from django.urls import reverse
from django.utils import timezone, translation

from opora.accounts.models import Role
from opora.consultations import recording as crypto
from opora.consultations import selectors, services
from opora.consultations.models import (
    Consultation,
    Recording,
    RecordingAccess,
    RecordingChunk,
)
from opora.consultations.tests.factories import make_live_consultation
from opora.core.errors import DomainError
from opora.core.models import AuditEvent, CalendarOverride, Service
from opora.demo.factories import make_user

pytestmark = pytest.mark.django_db

# The first bytes of every WebM file (the EBML header) and some payload that is easy to spot.
WEBM = bytes.fromhex("1a45dfa3") + b"webm-header-" + b"SECRET-VOICE-" * 50


@pytest.fixture(autouse=True)
def _private_storage(settings, tmp_path):
    settings.OPORA_RECORDING_ROOT = str(tmp_path / "recordings")
    with translation.override("en"):
        yield


def _storage_root() -> Path:
    """The directory of the private storage: a disk here (`OPORA_RECORDING_ROOT`)."""
    storage = crypto.private_storage()
    assert isinstance(storage, FileSystemStorage)
    return Path(storage.location)


@pytest.fixture
def live(service, consultant):
    c = make_live_consultation(service, consultant)
    return services.consultation_admit(consultation_id=c.pk, actor=consultant)


def _policy(service, policy):
    Service.objects.filter(pk=service.pk).update(recording_policy=policy)


def _fresh(c):
    return Consultation.objects.select_related("booking__slot__service").get(pk=c.pk)


def _noticed(c):
    return services.consultation_record_notice(consultation=_fresh(c))


class TestGate:
    @pytest.mark.parametrize(
        ("policy", "consent", "notice", "allowed"),
        [
            ("never", True, True, False),
            ("consent", None, True, False),
            ("consent", False, True, False),
            ("consent", True, False, True),
            ("notice", None, False, False),
            ("notice", None, True, True),
        ],
    )
    def test_policy_and_consent(self, service, live, consultant, policy, consent, notice, allowed):
        _policy(service, policy)
        if consent is not None:
            services.consultation_record_consent(consultation=live, consent=consent)
        if notice:
            _noticed(live)
        c = _fresh(live)
        assert (selectors.recording_refusal(c) is None) is allowed
        if allowed:
            r = services.recording_start(actor=consultant, consultation=c, mime_type="video/webm")
            assert r.status == Recording.Status.RECORDING and r.policy == policy
        else:
            with pytest.raises(DomainError) as exc:
                services.recording_start(actor=consultant, consultation=c, mime_type="video/webm")
            assert exc.value.code == "recording_not_allowed"
            assert not Recording.objects.exists()

    def test_declined_consent_is_named(self, service, live):
        _policy(service, "consent")
        services.consultation_record_consent(consultation=live, consent=False)
        refusal = selectors.recording_refusal(_fresh(live))
        assert refusal is not None and "declined" in refusal

    def test_only_the_booked_consultant_and_only_in_progress(self, service, consultant):
        c = make_live_consultation(service, consultant)
        _noticed(c)
        with pytest.raises(DomainError):  # waiting: nobody admitted yet
            services.recording_start(
                actor=consultant, consultation=_fresh(c), mime_type="video/webm"
            )
        services.consultation_admit(consultation_id=c.pk, actor=consultant)
        other = make_user(Role.CONSULTANT, service=service)
        with pytest.raises(PermissionDenied):
            services.recording_start(actor=other, consultation=_fresh(c), mime_type="video/webm")

    def test_every_chunk_is_checked_again(self, service, live, consultant):
        _policy(service, "consent")
        services.consultation_record_consent(consultation=live, consent=True)
        r = services.recording_start(
            actor=consultant, consultation=_fresh(live), mime_type="video/webm"
        )
        services.recording_chunk_store(actor=consultant, recording=r, seq=0, data=WEBM)
        # The client withdraws consent (or the service stops recording): the next chunk is refused
        # and nothing of it is left on disk.
        services.consultation_record_consent(consultation=live, consent=False)
        with pytest.raises(DomainError) as exc:
            services.recording_chunk_store(actor=consultant, recording=r, seq=1, data=b"x" * 10)
        assert exc.value.code == "recording_not_allowed"
        assert list(r.chunks.values_list("seq", flat=True)) == [0]
        files = list(_storage_root().rglob("*.bin"))
        assert len(files) == 1

    def test_chunks_after_the_grace_period_are_refused(self, service, live, consultant):
        _noticed(live)
        r = services.recording_start(
            actor=consultant, consultation=_fresh(live), mime_type="video/webm"
        )
        services.consultation_end(consultation_id=live.pk, actor=consultant)
        # The recorder's last piece arrives just after the end: still taken.
        services.recording_chunk_store(actor=consultant, recording=r, seq=0, data=WEBM)
        ended = timezone.now() - selectors.RECORDING_GRACE - dt.timedelta(seconds=1)
        Consultation.objects.filter(pk=live.pk).update(
            started_at=ended - dt.timedelta(minutes=30), ended_at=ended
        )
        with pytest.raises(DomainError):
            services.recording_chunk_store(actor=consultant, recording=r, seq=1, data=WEBM)

    def test_a_new_start_closes_the_running_one(self, live, consultant):
        _noticed(live)
        first = services.recording_start(
            actor=consultant, consultation=_fresh(live), mime_type="video/webm;codecs=vp8,opus"
        )
        services.recording_chunk_store(actor=consultant, recording=first, seq=0, data=WEBM)
        second = services.recording_start(
            actor=consultant, consultation=_fresh(live), mime_type="video/webm"
        )
        first.refresh_from_db()
        assert first.status == Recording.Status.INTERRUPTED
        assert first.sha256 == hashlib.sha256(WEBM).hexdigest()
        assert second.status == Recording.Status.RECORDING
        with pytest.raises(DomainError):
            services.recording_chunk_store(actor=consultant, recording=first, seq=1, data=WEBM)


class TestAbandoned:
    """A recorder that stops sending (crashed browser, closed tab) leaves no recording running."""

    def _running(self, live, consultant, chunks=1):
        _noticed(live)
        r = services.recording_start(
            actor=consultant, consultation=_fresh(live), mime_type="video/webm"
        )
        for seq in range(chunks):
            services.recording_chunk_store(actor=consultant, recording=r, seq=seq, data=WEBM)
        return r

    def test_silent_for_fifteen_minutes_is_sealed_as_interrupted(self, live, consultant):
        r = self._running(live, consultant, chunks=2)
        now = timezone.now()
        assert services.recordings_close_abandoned(now=now + dt.timedelta(minutes=14)) == 0
        assert services.recordings_close_abandoned(now=now + dt.timedelta(minutes=16)) == 1
        r.refresh_from_db()
        assert r.status == Recording.Status.INTERRUPTED and r.ended_at is not None
        assert r.chunk_count == 2 and r.sha256 == hashlib.sha256(WEBM * 2).hexdigest()
        assert AuditEvent.objects.filter(
            event_type="recording.abandoned", subject_id=str(r.pk)
        ).exists()
        with pytest.raises(DomainError):  # a late chunk finds it closed
            services.recording_chunk_store(actor=consultant, recording=r, seq=2, data=WEBM)
        assert services.recordings_close_abandoned(now=now + dt.timedelta(minutes=30)) == 0

    def test_a_chunk_keeps_it_alive_and_the_end_of_the_consultation_closes_it(
        self, live, consultant
    ):
        r = self._running(live, consultant, chunks=0)
        Recording.objects.filter(pk=r.pk).update(
            started_at=timezone.now() - dt.timedelta(minutes=20)
        )
        services.recording_chunk_store(actor=consultant, recording=r, seq=0, data=WEBM)
        assert services.recordings_close_abandoned() == 0  # the last chunk is fresh
        services.consultation_end(consultation_id=live.pk, actor=consultant)
        later = timezone.now() + selectors.RECORDING_GRACE + dt.timedelta(seconds=1)
        assert services.recordings_close_abandoned(now=later) == 1
        r.refresh_from_db()
        assert r.status == Recording.Status.INTERRUPTED and r.chunk_count == 1

    def test_a_finished_recording_is_left_alone(self, live, consultant):
        r = self._running(live, consultant)
        services.recording_finish(actor=consultant, recording=r)
        assert services.recordings_close_abandoned(now=timezone.now() + dt.timedelta(hours=1)) == 0
        r.refresh_from_db()
        assert r.status == Recording.Status.FINISHED


class TestChunksAndEncryption:
    def test_a_resent_chunk_is_stored_once(self, live, consultant):
        _noticed(live)
        r = services.recording_start(
            actor=consultant, consultation=_fresh(live), mime_type="video/webm"
        )
        _, created = services.recording_chunk_store(actor=consultant, recording=r, seq=0, data=WEBM)
        _, again = services.recording_chunk_store(actor=consultant, recording=r, seq=0, data=WEBM)
        assert created and not again
        assert RecordingChunk.objects.filter(recording=r).count() == 1
        assert len(list(_storage_root().rglob("*.bin"))) == 1

    def test_stored_bytes_are_not_plaintext_and_decrypt_back(self, live, consultant, head):
        _noticed(live)
        r = services.recording_start(
            actor=consultant, consultation=_fresh(live), mime_type="video/webm"
        )
        parts = [WEBM, b"cluster-1-" * 40, b"cluster-2-" * 40]
        # Out of order, as retries may deliver them.
        for seq in (2, 0, 1):
            services.recording_chunk_store(actor=consultant, recording=r, seq=seq, data=parts[seq])
        for chunk in r.chunks.all():
            raw = crypto.read_blob(chunk.storage_name)
            assert raw.startswith(crypto.MAGIC)
            assert b"SECRET-VOICE" not in raw and b"cluster-" not in raw
        r = services.recording_finish(actor=consultant, recording=r)
        whole = b"".join(parts)
        assert (r.status, r.size, r.chunk_count) == ("finished", len(whole), 3)
        assert r.sha256 == hashlib.sha256(whole).hexdigest()
        got = b"".join(services.recording_read(actor=head, recording=r, reason="complaint 7"))
        assert got == whole and got[:4] == bytes.fromhex("1a45dfa3")

    def test_a_changed_or_swapped_chunk_does_not_decrypt(self, live, consultant):
        _noticed(live)
        r = services.recording_start(
            actor=consultant, consultation=_fresh(live), mime_type="video/webm"
        )
        a, _ = services.recording_chunk_store(actor=consultant, recording=r, seq=0, data=WEBM)
        b, _ = services.recording_chunk_store(actor=consultant, recording=r, seq=1, data=b"b" * 99)
        key = crypto.unwrap_key(key_id=r.key_id, wrapped=r.wrapped_key)
        # Chunk 1's blob in chunk 0's place: the associated data (recording, seq) does not match.
        with pytest.raises(crypto.DecryptionFailed):
            crypto.decrypt(key, crypto.read_blob(b.storage_name), aad=crypto.chunk_aad(r.pk, 0))
        blob = bytearray(crypto.read_blob(a.storage_name))
        blob[-1] ^= 1
        with pytest.raises(crypto.DecryptionFailed):
            crypto.decrypt(key, bytes(blob), aad=crypto.chunk_aad(r.pk, 0))

    def test_the_key_comes_from_settings_and_is_needed(self, settings, live, consultant, head):
        settings.OPORA_RECORDING_KEY = base64.urlsafe_b64encode(os.urandom(32)).decode()
        _noticed(live)
        r = services.recording_start(
            actor=consultant, consultation=_fresh(live), mime_type="video/webm"
        )
        services.recording_chunk_store(actor=consultant, recording=r, seq=0, data=WEBM)
        # The data key is wrapped by the configured key, not by the SECRET_KEY fallback.
        master = crypto._decode_key(settings.OPORA_RECORDING_KEY)
        wrapped = bytes(r.wrapped_key)
        AESGCM(master).decrypt(wrapped[:12], wrapped[12:], crypto.WRAP_AAD)
        old = settings.OPORA_RECORDING_KEY
        settings.OPORA_RECORDING_KEY = base64.urlsafe_b64encode(os.urandom(32)).decode()
        with pytest.raises(crypto.DecryptionFailed):
            b"".join(services.recording_read(actor=head, recording=r, reason="check"))
        # After a rotation the old key, kept in OPORA_RECORDING_OLD_KEYS, still opens it.
        settings.OPORA_RECORDING_OLD_KEYS = [old]
        assert b"".join(services.recording_read(actor=head, recording=r, reason="check")) == WEBM


class TestAccess:
    def test_every_read_is_logged_with_who_and_why(self, live, consultant, head):
        _noticed(live)
        r = services.recording_start(
            actor=consultant, consultation=_fresh(live), mime_type="video/webm"
        )
        services.recording_chunk_store(actor=consultant, recording=r, seq=0, data=WEBM)
        with pytest.raises(ValidationError):
            services.recording_read(actor=head, recording=r, reason="  ")
        b"".join(services.recording_read(actor=head, recording=r, reason="complaint 12 review"))
        access = RecordingAccess.objects.get(recording=r)
        assert (access.user, access.reason, access.kind) == (
            head,
            "complaint 12 review",
            "download",
        )
        assert AuditEvent.objects.filter(
            event_type="recording.accessed", subject_id=str(r.pk)
        ).exists()

    def test_consultants_and_heads_of_other_services_cannot_read(self, live, consultant):
        _noticed(live)
        r = services.recording_start(
            actor=consultant, consultation=_fresh(live), mime_type="video/webm"
        )
        stranger = make_user(Role.HEAD)
        for actor in (consultant, stranger):
            with pytest.raises(PermissionDenied):
                services.recording_read(actor=actor, recording=r, reason="curious")
        assert not RecordingAccess.objects.exists()

    def test_head_pages_list_and_download(self, client, live, consultant, head):
        _noticed(live)
        r = services.recording_start(
            actor=consultant, consultation=_fresh(live), mime_type="video/webm"
        )
        services.recording_chunk_store(actor=consultant, recording=r, seq=0, data=WEBM)
        services.recording_finish(actor=consultant, recording=r)
        client.force_login(consultant)
        assert client.get(reverse("consultations:recordings")).status_code == 403
        client.force_login(head)
        page = client.get(reverse("consultations:recordings"))
        assert page.status_code == 200 and f"№ {r.pk}" in page.content.decode()
        url = reverse("consultations:recording_detail", args=[r.pk])
        assert client.post(url, {"action": "download", "access-reason": ""}).status_code == 400
        response = client.post(url, {"action": "download", "access-reason": "complaint 3"})
        body = b"".join(response.streaming_content)
        assert body == WEBM and response["Content-Disposition"].startswith("attachment")
        assert RecordingAccess.objects.get().reason == "complaint 3"


class TestRelease:
    def test_due_in_three_working_days_by_the_service_calendar(self, live, consultant, head):
        _noticed(live)
        r = services.recording_start(
            actor=consultant, consultation=_fresh(live), mime_type="video/webm"
        )
        service = live.booking.slot.service
        # A Friday, with the next Monday made a day off: due on Thursday.
        friday = dt.date(2031, 5, 16)
        assert friday.weekday() == 4
        CalendarOverride.objects.create(
            service=service, date=dt.date(2031, 5, 19), is_working_day=False, note="test"
        )
        release = services.recording_release_create(
            actor=head,
            recording=r,
            recipient="Ministry, complaints department",
            complaint_ref="Ж-2031-17",
            reason="Complaint review",
            requested_on=friday,
        )
        assert release.due_on == dt.date(2031, 5, 22)
        done = services.recording_release_mark_released(actor=head, release=release)
        assert done.released_at is not None
        access = RecordingAccess.objects.get(recording=r)
        assert access.kind == "release" and "Ж-2031-17" in access.reason

    def test_only_a_head_registers_it(self, live, consultant):
        _noticed(live)
        r = services.recording_start(
            actor=consultant, consultation=_fresh(live), mime_type="video/webm"
        )
        with pytest.raises(PermissionDenied):
            services.recording_release_create(
                actor=consultant,
                recording=r,
                recipient="x",
                complaint_ref="1",
                reason="x",
                requested_on=dt.date(2031, 5, 16),
            )


class TestEndpoints:
    def test_upload_start_chunk_finish_over_http(self, client, live, consultant):
        _noticed(live)
        client.force_login(consultant)
        start = client.post(
            reverse("consultations:recording_start", args=[live.pk]), {"mime_type": "video/webm"}
        ).json()
        assert start["ok"]
        url = start["chunkUrl"][:-2] + "0/"
        for _ in range(2):
            response = client.post(url, WEBM, content_type="application/octet-stream")
            assert response.status_code == 200
        assert response.json()["duplicate"] is True
        done = client.post(start["finishUrl"]).json()
        assert done["chunks"] == 1 and done["sha256"] == hashlib.sha256(WEBM).hexdigest()
        status = client.get(
            reverse("consultations:client_recording_status", args=[live.client_token])
        )
        assert status.json() == {"on": False}

    def test_refusal_says_why(self, client, service, live, consultant):
        _policy(service, "consent")
        services.consultation_record_consent(consultation=live, consent=False)
        client.force_login(consultant)
        response = client.post(
            reverse("consultations:recording_start", args=[live.pk]), {"mime_type": "video/webm"}
        )
        assert response.status_code == 409
        # The page's language (Russian by default) names the reason.
        assert response.json()["code"] == "recording_not_allowed"
        assert "отказался от записи" in response.json()["error"]

    def test_the_entry_page_stores_the_notice(self, client, live):
        client.post(reverse("consultations:client_entry", args=[live.client_token]))
        assert _fresh(live).recording_notice_at is not None

    def test_room_shows_the_indicator_only_while_recording(self, client, live, consultant):
        _noticed(live)
        client.force_login(consultant)
        room = reverse("consultations:consultant_room", args=[live.pk])
        assert 'id="recording-indicator" class="recording-indicator" role="status" hidden' in (
            client.get(room).content.decode()
        )
        services.recording_start(
            actor=consultant, consultation=_fresh(live), mime_type="video/webm"
        )
        html = client.get(room).content.decode()
        assert 'id="recording-indicator" class="recording-indicator" role="status">' in html
