"""Reminders the day before and an hour before each active booking, each sent once."""

import datetime as dt

import pytest
from django.core import mail

from opora.notifications.models import Notification, Reminder, ShortLink
from opora.notifications.sms import sms_segments
from opora.scheduling.models import Booking
from opora.scheduling.reminders import reminders_send_due
from opora.scheduling.tests.factories import future_working_day, make_request, make_slot

pytestmark = pytest.mark.django_db


@pytest.fixture
def booking(service, consultant):
    day = future_working_day(service, days_ahead=5)
    slot = make_slot(service, consultant, day, dt.time(14))
    # As booking_create leaves it: the request is booked while its booking is active.
    request = make_request(service, email="parent@example.org", status="booked")
    return Booking.objects.create(slot=slot, request=request)


def test_day_and_hour_reminders_once_each(booking, django_capture_on_commit_callbacks):
    starts = booking.slot.starts_at
    with django_capture_on_commit_callbacks(execute=True):
        assert reminders_send_due(now=starts - dt.timedelta(hours=30)) == 0  # too early
        assert reminders_send_due(now=starts - dt.timedelta(hours=23)) == 1
        assert reminders_send_due(now=starts - dt.timedelta(hours=22)) == 0
        assert reminders_send_due(now=starts - dt.timedelta(minutes=59)) == 1
        assert reminders_send_due(now=starts - dt.timedelta(minutes=10)) == 0
        assert reminders_send_due(now=starts + dt.timedelta(minutes=1)) == 0
    kinds = sorted(Reminder.objects.values_list("kind", flat=True))
    assert kinds == ["reminder_day", "reminder_hour"]
    sms = Notification.objects.filter(channel="sms", recipient=booking.request.phone)
    assert sorted(sms.values_list("kind", flat=True)) == ["reminder_day", "reminder_hour"]
    assert len(mail.outbox) == 2
    assert "завтра" in mail.outbox[0].body and "14:00" in mail.outbox[0].body
    link = f"/l/{ShortLink.objects.get().code}"
    assert all(link in m.body for m in mail.outbox)
    assert all(link in n.body and sms_segments(n.body) <= 2 for n in sms)


def test_cancelled_booking_and_late_booking_get_no_day_reminder(booking):
    starts = booking.slot.starts_at
    Booking.objects.filter(pk=booking.pk).update(created_at=starts - dt.timedelta(hours=3))
    assert reminders_send_due(now=starts - dt.timedelta(hours=2)) == 0  # booked after the day mark
    Booking.objects.filter(pk=booking.pk).update(status=Booking.Status.CANCELLED)
    assert reminders_send_due(now=starts - dt.timedelta(minutes=30)) == 0
    assert not Reminder.objects.exists()
