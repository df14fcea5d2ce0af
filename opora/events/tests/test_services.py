"""Places, the waiting list, one place per contact, and certificates by attendance."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from opora.core.errors import DomainError, PermissionDenied
from opora.events import selectors, services
from opora.events.models import Attendance, Certificate, Event, EventPolicy, Registration
from opora.events.tests.factories import make_event, phone
from opora.notifications.models import Notification

pytestmark = pytest.mark.django_db


def register(event, i, **kw):
    return services.registration_create(
        actor=None, event=event, full_name=f"Иванова Анна {i}", phone=phone(i), **kw
    )


def test_places_then_waiting_list_in_order(service, consultant):
    event = make_event(service, consultant, capacity=2)
    results = [register(event, i) for i in range(4)]
    assert [r.registration.status for r in results] == ["confirmed"] * 2 + ["waiting"] * 2
    assert [r.registration.waiting_position for r in results[2:]] == [1, 2]
    assert selectors.places_left(event) == 0


def test_same_contact_keeps_one_place(service, consultant):
    event = make_event(service, consultant, capacity=5)
    first = services.registration_create(
        actor=None, event=event, full_name="Иванова Анна", phone="+7 701 234 56 78"
    )
    again = services.registration_create(
        actor=None, event=event, full_name="Иванова А.", phone="8 (701) 234-56-78"
    )
    assert first.created and not again.created
    assert again.registration.pk == first.registration.pk
    assert Registration.objects.filter(event=event).count() == 1


def test_cancel_frees_the_place_and_promotes_the_first_waiting(service, consultant):
    event = make_event(service, consultant, capacity=1)
    holder = register(event, 1).registration
    first_waiting = register(event, 2).registration
    second_waiting = register(event, 3).registration
    services.registration_cancel(actor=None, registration=holder)
    first_waiting.refresh_from_db()
    second_waiting.refresh_from_db()
    assert first_waiting.status == "confirmed" and first_waiting.waiting_position is None
    assert second_waiting.status == "waiting" and second_waiting.waiting_position == 1
    # The promoted one is told, with the calendar file.
    told = Notification.objects.filter(subject_id=str(first_waiting.pk), kind="event_registered")
    assert told.filter(channel="sms").count() == 1
    # A cancelled contact may register again (and waits behind the others).
    again = register(event, 1).registration
    assert again.status == "waiting" and again.waiting_position == 2


def test_confirmation_is_stored_with_ics_and_link(service, consultant):
    event = make_event(service, consultant)
    registration = services.registration_create(
        actor=None, event=event, full_name="Иванова Анна", phone=phone(1), email="a@example.org"
    ).registration
    mail = Notification.objects.get(channel="email", subject_id=str(registration.pk))
    assert registration.token in mail.body
    assert mail.attachments.get().filename == "event.ics"
    assert Notification.objects.filter(channel="sms", subject_id=str(registration.pk)).exists()


def test_contact_and_name_are_required_and_anonymity_follows_the_policy(service, consultant):
    event = make_event(service, consultant)
    with pytest.raises(DomainError):
        services.registration_create(actor=None, event=event, full_name="Анна")
    with pytest.raises(DomainError):
        services.registration_create(actor=None, event=event, phone=phone(1))
    with pytest.raises(DomainError):
        services.registration_create(actor=None, event=event, phone=phone(1), anonymous=True)
    EventPolicy.objects.create(service=service, allows_anonymous=True)
    service.refresh_from_db()
    event.refresh_from_db()
    anonymous = services.registration_create(
        actor=None, event=event, phone=phone(1), anonymous=True, full_name="ignored"
    ).registration
    assert anonymous.full_name == "" and anonymous.display_name == anonymous.code
    assert len(anonymous.code) == 16 and len(anonymous.token) >= 43


def test_group_consultation_is_by_invitation(service, consultant):
    event = make_event(service, consultant, kind=Event.Kind.GROUP)
    with pytest.raises(PermissionDenied):
        register(event, 1)
    assert services.registration_create(
        actor=consultant, event=event, full_name="Иванова Анна", phone=phone(1)
    ).created


def test_closed_after_the_end(service, consultant):
    event = make_event(service, consultant, starts_in=-dt.timedelta(hours=2))
    with pytest.raises(DomainError):
        register(event, 1)


def _stay(event, registration, start_min, end_min):
    Attendance.objects.create(
        event=event,
        registration=registration,
        joined_at=event.starts_at + dt.timedelta(minutes=start_min),
        left_at=event.starts_at + dt.timedelta(minutes=end_min),
    )


def test_certificates_from_the_minimum_share(service, consultant):
    event = make_event(service, consultant, starts_in=dt.timedelta(minutes=1))
    enough, overlapping, short = (register(event, i).registration for i in range(3))
    Event.objects.filter(pk=event.pk).update(starts_at=timezone.now() - dt.timedelta(hours=2))
    event.refresh_from_db()
    _stay(event, enough, -10, 45)  # before the start counts from the start: 45 of 60
    _stay(event, overlapping, 0, 30)
    _stay(event, overlapping, 20, 40)  # overlapping stays count once: 40 of 60 < 0.7
    _stay(event, short, 0, 41)  # 41/60 = 0.683
    issued = services.certificates_issue(actor=consultant, event=event)
    assert [c.registration_id for c in issued] == [enough.pk]
    assert services.attended_share(Registration.objects.get(pk=overlapping.pk)) == Decimal("0.667")
    # Issued once; a lower threshold adds the others only.
    EventPolicy.objects.create(service=service, certificate_min_share=Decimal("0.6"))
    event.service.refresh_from_db()
    issued_again = services.certificates_issue(actor=consultant, event=event)
    assert sorted(c.registration_id for c in issued_again) == sorted([overlapping.pk, short.pk])
    certificate = Certificate.objects.get(registration=enough)
    assert certificate.full_name == enough.full_name and certificate.hours == Decimal("1.0")
    assert len(certificate.code) == 16
    assert Notification.objects.filter(kind="event_certificate", channel="sms").count() == 3


def test_reminders_the_day_and_the_hour_before_once(service, consultant):
    event = make_event(service, consultant, starts_in=dt.timedelta(hours=20))
    register(event, 1)
    assert services.reminders_send_due() == 1
    assert services.reminders_send_due() == 1  # stored once (dedupe): the same row returned
    assert Notification.objects.filter(kind="event_reminder").count() == 1
    later = event.starts_at - dt.timedelta(minutes=50)
    services.reminders_send_due(now=later)
    assert Notification.objects.filter(kind="event_reminder").count() == 2


def test_registry_rows_and_counting(service, consultant):
    event = make_event(
        service, consultant, kind=Event.Kind.GROUP, starts_in=dt.timedelta(minutes=1)
    )
    both = services.registration_create(
        actor=consultant,
        event=event,
        full_name="Иванова Анна",
        second_full_name="Иванов Пётр",
        phone=phone(1),
    ).registration
    absent = services.registration_create(
        actor=consultant, event=event, full_name="Петрова Ольга", phone=phone(2)
    ).registration
    _stay(event, both, 0, 30)
    _stay(event, both, 35, 60)
    services.registration_note_set(actor=consultant, registration=both, note="пришли вдвоём")
    day = timezone.localtime(event.starts_at, service.tz).date()
    rows = list(selectors.participants_rows(service, day, day))
    assert len(rows) == 1 and absent.pk not in [r["pk"] for r in rows]
    row = rows[0]
    assert row["full_name"] == "Иванова Анна" and row["second_full_name"] == "Иванов Пётр"
    assert row["note"] == "пришли вдвоём" and row["topic"] == ""
    counted = list(selectors.services_rows(service, day, day))
    assert [(r["pk"], r["counted_as"]) for r in counted] == [(both.pk, "content")]
