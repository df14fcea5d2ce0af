"""A yes in the room is a recording consent record; its withdrawal stops the recording."""

import pytest

from opora.consultations import services as room
from opora.consultations.models import Consultation
from opora.consultations.tests.factories import make_live_consultation
from opora.core.errors import DomainError
from opora.core.models import Service
from opora.intake import consents
from opora.intake.models import ConsentKind, ConsentRecord

pytestmark = pytest.mark.django_db


class TestRecording:
    @pytest.fixture(autouse=True)
    def _storage(self, settings, tmp_path):
        settings.OPORA_RECORDING_ROOT = str(tmp_path / "rec")

    def test_room_yes_is_a_record_and_withdrawal_stops_recording(
        self, service, consultant, operator
    ):
        Service.objects.filter(pk=service.pk).update(recording_policy="consent")
        live = make_live_consultation(service, consultant)
        live = room.consultation_admit(consultation_id=live.pk, actor=consultant)
        room.consultation_record_consent(consultation=live, consent=True)
        request = live.booking.request
        record = ConsentRecord.objects.get(request=request, kind=ConsentKind.RECORDING)
        assert record.channel == "room"
        fresh = Consultation.objects.select_related("booking__slot__service").get(pk=live.pk)
        rec = room.recording_start(actor=consultant, consultation=fresh, mime_type="video/webm")
        room.recording_chunk_store(
            actor=consultant, recording=rec, seq=0, data=bytes.fromhex("1a45dfa3") + b"x" * 64
        )
        consents.consent_withdraw(actor=operator, record=record, channel="phone")
        with pytest.raises(DomainError) as exc:
            room.recording_chunk_store(actor=consultant, recording=rec, seq=1, data=b"y" * 10)
        assert exc.value.code == "recording_not_allowed"
        fresh = Consultation.objects.select_related("booking__slot__service").get(pk=live.pk)
        with pytest.raises(DomainError):
            room.recording_start(actor=consultant, consultation=fresh, mime_type="video/webm")
