"""The room's pages as people read them: times in the service's own zone (a Moscow booking in Moscow
time whatever the server's zone), the topic when the reason is blank, the request beside the video."""

import datetime as dt

import pytest
from django.utils import timezone

from opora.accounts.models import Role
from opora.consultations import selectors
from opora.consultations.services import consultation_for_booking
from opora.consultations.tests.factories import make_live_consultation
from opora.core.models import AuditEvent
from opora.demo.factories import make_district_service, make_user
from opora.scheduling.models import Booking
from opora.scheduling.tests.factories import approved_schedule, make_request, make_slot

pytestmark = pytest.mark.django_db


def district_booking_at_eleven():
    """A district (Moscow) booking at 11:00 Moscow time, a week ahead."""
    service = make_district_service()
    consultant = make_user(Role.CONSULTANT, service=service)
    day = timezone.localtime(timezone.now(), service.tz).date() + dt.timedelta(days=7)
    approved_schedule(service, consultant, day)
    slot = make_slot(service, consultant, day, dt.time(11), is_booked=True)
    request = make_request(
        service, full_name="", iin="", is_anonymous=True, typical_question="education"
    )
    booking = Booking.objects.create(slot=slot, request=request)
    return consultation_for_booking(booking=booking), day


def test_the_join_page_of_a_moscow_booking_shows_moscow_time(client, settings):
    settings.TIME_ZONE = "Asia/Almaty"  # the server's zone is two hours ahead of Moscow
    consultation, day = district_booking_at_eleven()
    page = client.get(f"/c/{consultation.client_token}/").content.decode()
    assert "11:00–12:00" in page
    assert "13:00" not in page
    assert "московское время, UTC+3" in page
    check = client.get(f"/c/{consultation.client_token}/check/").content.decode()
    assert "11:00" in check and "13:00" not in check


def test_the_topic_is_the_typical_question_when_the_reason_is_blank(client):
    consultation, _ = district_booking_at_eleven()
    page = client.get(f"/c/{consultation.client_token}/").content.decode()
    assert "Образование: детский сад, школа, инклюзивное обучение" in page
    request = consultation.booking.request
    assert selectors.request_topic(request) == str(request.get_typical_question_display())
    request.reason = "Трудности с засыпанием"
    assert selectors.request_topic(request) == "Трудности с засыпанием"


def test_the_consultant_room_shows_the_request_and_audits_the_read(client, service, consultant):
    consultation = make_live_consultation(service, consultant)
    request = consultation.booking.request
    request.reason, request.typical_question, request.child_age = "", "development", 7
    request.requester_kind = "parent"
    request.save()
    client.force_login(consultant)
    page = client.get(f"/consultant/room/{consultation.pk}/").content.decode()
    assert "Развитие и поведение ребёнка" in page
    assert "Клиент не назвал причину" not in page
    assert 'id="request-child-age">7 лет' in page
    event = AuditEvent.objects.get(
        event_type="consultation.room_opened", subject_id=str(consultation.pk)
    )
    assert event.extra == {"earlier_protocols": 0}


def test_only_the_booked_consultant_reads_the_summary(service, consultant):
    consultation = make_live_consultation(service, consultant)
    other = make_user(Role.CONSULTANT, service=service)
    with pytest.raises(PermissionError):
        selectors.room_request_summary(actor=other, consultation=consultation)
    assert not AuditEvent.objects.filter(event_type="consultation.room_opened").exists()


def test_the_protocol_page_of_a_moscow_consultation_shows_moscow_time(client, settings):
    settings.TIME_ZONE = "Asia/Almaty"
    consultation, day = district_booking_at_eleven()
    client.force_login(consultation.booking.slot.consultant)
    page = client.get(f"/consultant/consultations/{consultation.pk}/protocol/").content.decode()
    assert f"{day:%d.%m.%Y} 11:00" in page
    # A blank reason: the draft starts from the typical question.
    assert "Образование: детский сад, школа, инклюзивное обучение</textarea>" in page
