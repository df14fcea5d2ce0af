"""The public pages: the portal lists coming events, registration (phone first), the private
link, the room's plain refusals, the certificate download and /verify/."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from opora.events import services
from opora.events.models import Attendance, Event, Registration
from opora.events.tests.factories import make_event, phone

pytestmark = pytest.mark.django_db


def test_portal_lists_the_coming_event_and_registration_works(client, service, consultant):
    event = make_event(service, consultant, capacity=1)
    page = client.get(reverse("portal:service", args=[service.code]))
    assert event.title_ru in page.content.decode()
    form = client.get(reverse("events:register", args=[event.pk])).content.decode()
    assert form.index('name="phone"') < form.index('name="full_name"')
    response = client.post(
        reverse("events:register", args=[event.pk]),
        {"phone": phone(1), "full_name": "Иванова Анна"},
    )
    registration = Registration.objects.get(event=event)
    assert response.url == reverse("events:registration", args=[registration.token])
    page = client.get(response.url).content.decode()
    assert 'id="join-link"' in page
    # Full: the form offers the waiting list.
    full = client.get(reverse("events:register", args=[event.pk])).content.decode()
    assert 'id="full-notice"' in full and "лист ожидания" in full


def test_room_says_plainly_when_the_link_is_of_another_event_or_too_late(
    client, service, consultant
):
    event = make_event(service, consultant, starts_in=dt.timedelta(minutes=1))
    registration = services.registration_create(
        actor=None, event=event, full_name="Иванова Анна", phone=phone(1)
    ).registration
    url = reverse("events:room", args=[registration.token])
    other = client.get(url + "?event=999999")
    assert other.status_code == 410 and "другое мероприятие" in other.content.decode()
    ok = client.get(url + f"?event={event.pk}")
    assert ok.status_code == 200
    Event.objects.filter(pk=event.pk).update(starts_at=timezone.now() - dt.timedelta(hours=3))
    late = client.get(url)
    assert late.status_code == 410 and "закончилось" in late.content.decode()
    assert client.get(reverse("events:room", args=["x" * 43])).status_code == 404


def test_presence_is_stored(client, service, consultant):
    event = make_event(service, consultant, starts_in=dt.timedelta(minutes=1))
    registration = services.registration_create(
        actor=None, event=event, full_name="Иванова Анна", phone=phone(1)
    ).registration
    url = reverse("events:presence", args=[registration.token])
    client.post(url, '{"action": "join"}', content_type="application/json")
    client.post(url, '{"action": "join"}', content_type="application/json")
    client.post(url, '{"action": "leave"}', content_type="application/json")
    [stay] = Attendance.objects.filter(registration=registration)
    assert stay.left_at is not None


def test_certificate_pdf_and_verify(client, service, consultant):
    event = make_event(service, consultant, starts_in=dt.timedelta(minutes=1))
    registration = services.registration_create(
        actor=None, event=event, full_name="Сейтқалиева Әйгерім", phone=phone(1)
    ).registration
    Event.objects.filter(pk=event.pk).update(starts_at=timezone.now() - dt.timedelta(hours=2))
    event.refresh_from_db()
    Attendance.objects.create(
        event=event, registration=registration, joined_at=event.starts_at, left_at=event.ends_at
    )
    [certificate] = services.certificates_issue(actor=None, event=event)
    pdf = client.get(reverse("events:certificate", args=[registration.token]))
    assert pdf["Content-Type"] == "application/pdf"
    import io

    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Сейтқалиева Әйгерім" in text and certificate.code in text
    page = client.get(reverse("events:verify", args=[certificate.code]))
    assert page.status_code == 200 and "Сейтқалиева Әйгерім" in page.content.decode()
    # Only what the certificate shows: no contact.
    assert phone(1) not in page.content.decode()
    missing = client.get(reverse("events:verify", args=["AAAAAAAAAAAAAAAA"]))
    assert missing.status_code == 404 and certificate.code not in missing.content.decode()


def test_staff_page_notes_announcement_and_certificates(client, service, consultant, head):
    from opora.notifications.models import Notification

    past = make_event(service, consultant, starts_in=dt.timedelta(minutes=1))
    registration = services.registration_create(
        actor=None,
        event=past,
        full_name="Иванова Анна",
        phone=phone(1),
        email="anna@example.org",
        announcements_opt_in=True,
    ).registration
    Event.objects.filter(pk=past.pk).update(starts_at=timezone.now() - dt.timedelta(hours=2))
    Attendance.objects.create(
        event=past,
        registration=registration,
        joined_at=timezone.now() - dt.timedelta(hours=2),
        left_at=timezone.now() - dt.timedelta(hours=1),
    )
    client.force_login(consultant)
    url = reverse("events:staff_event", args=[past.pk])
    assert "Иванова Анна" in client.get(url).content.decode()
    client.post(url, {"action": "note", "registration": registration.pk, "note": "активна"})
    registration.refresh_from_db()
    assert registration.note == "активна"
    client.post(url, {"action": "certificates"})
    assert hasattr(Registration.objects.get(pk=registration.pk), "certificate")
    coming = make_event(service, consultant)
    client.force_login(head)
    client.post(reverse("events:staff_event", args=[coming.pk]), {"action": "announce"})
    announced = Notification.objects.filter(kind="event_announcement")
    assert [n.recipient for n in announced] == ["anna@example.org"]
    assert past.title_ru in client.get(reverse("events:staff_events")).content.decode()
