"""The staff page that creates, edits and cancels events and recurring series (issue 14): who
may, what is created, and bad input named beside its field."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from opora.events import services
from opora.events.models import Event, EventSeries, Registration
from opora.events.tests.factories import make_event, phone
from opora.intake.models import Client
from opora.notifications.models import Notification
from opora.scheduling.tests.factories import make_request

pytestmark = pytest.mark.django_db


def local(service, days: int, hour: int = 18) -> str:
    day = timezone.localtime(timezone.now(), service.tz).date() + dt.timedelta(days=days)
    return f"{day.isoformat()}T{hour:02d}:00"


def form(service, lead, **kw) -> dict:
    data = {
        "kind": Event.Kind.WEBINAR,
        "title_ru": "Сон ребёнка",
        "starts_at": local(service, 3),
        "duration_minutes": "90",
        "capacity": "30",
        "language": "ru",
        "topic": "",
        "audience": "Родители дошкольников",
        "lead": str(lead.pk),
        "repeat": "",
    }
    data.update(kw)
    return data


def service_client(service, last_name: str, n: int) -> Client:
    client = Client.objects.create(last_name=last_name, first_name="Анна", phone=phone(100 + n))
    make_request(service, client=client)
    return client


def test_coordinator_creates_a_webinar_in_the_service_time(
    client, service, coordinator, consultant
):
    client.force_login(coordinator)
    response = client.post(
        reverse("events:staff_event_new"),
        form(service, consultant, presenters=[str(consultant.pk)]),
    )
    event = Event.objects.get()
    assert response.url == reverse("events:staff_event", args=[event.pk])
    assert (event.kind, event.capacity, event.duration_minutes) == ("webinar", 30, 90)
    assert event.audience == "Родители дошкольников" and event.lead == consultant
    assert list(event.presenters.all()) == [consultant]
    assert timezone.localtime(event.starts_at, service.tz).hour == 18


def test_a_consultant_may_not_create_events(client, service, consultant):
    client.force_login(consultant)
    assert client.get(reverse("events:staff_event_new")).status_code == 403
    client.post(reverse("events:staff_event_new"), form(service, consultant))
    assert not Event.objects.exists()


def test_group_consultation_invites_the_chosen_clients_of_the_service(
    client, service, head, consultant
):
    invited = [service_client(service, "Иванова", 1), service_client(service, "Петрова", 2)]
    service_client(service, "Сидорова", 3)  # a client of the service not invited
    stranger = Client.objects.create(last_name="Чужая", first_name="Анна", phone=phone(9))
    client.force_login(head)
    page = client.get(reverse("events:staff_event_new")).content.decode()
    assert "Сидорова" in page and "Чужая" not in page  # only the service's clients
    client.post(
        reverse("events:staff_event_new"),
        form(
            service,
            consultant,
            kind=Event.Kind.GROUP,
            title_ru="Группа поддержки",
            invited=[str(c.pk) for c in invited],
        ),
    )
    event = Event.objects.get()
    registrations = Registration.objects.filter(event=event)
    assert {r.client_id for r in registrations} == {c.pk for c in invited}
    assert {r.status for r in registrations} == {Registration.Status.CONFIRMED}
    # Someone else's client cannot be slipped in.
    response = client.post(
        reverse("events:staff_event_new"),
        form(service, consultant, kind=Event.Kind.GROUP, invited=[str(stranger.pk)]),
    )
    assert response.status_code == 200 and Event.objects.count() == 1


def test_weekly_series_by_count_and_every_n_days_until_a_date(client, service, head, consultant):
    client.force_login(head)
    client.post(
        reverse("events:staff_event_new"), form(service, consultant, repeat="weekly", count="4")
    )
    events = list(Event.objects.order_by("starts_at"))
    assert len(events) == 4 and EventSeries.objects.count() == 1
    gaps = {(b.starts_at - a.starts_at).days for a, b in zip(events, events[1:], strict=False)}
    assert gaps == {7}
    Event.objects.all().delete()
    until = timezone.localtime(timezone.now(), service.tz).date() + dt.timedelta(days=3 + 9)
    client.post(
        reverse("events:staff_event_new"),
        form(service, consultant, repeat="days", every_days="3", until=until.isoformat()),
    )
    assert Event.objects.count() == 4  # days 3, 6, 9, 12


TOO_LONG = "The series is too long: %(n)s events, at most %(max)s."


@pytest.mark.parametrize(
    ("changes", "field", "msgid", "args"),
    [
        (
            {"starts_at": "2020-01-01T10:00"},
            "starts_at",
            "The event's start is in the past: choose a later date and time.",
            None,
        ),
        ({"capacity": "0"}, "capacity", "An event needs at least one place.", None),
        ({"repeat": "weekly", "count": "60"}, "count", TOO_LONG, {"n": 60, "max": 52}),
        (
            {"repeat": "days", "every_days": "30", "until": "2099-01-01"},
            "until",
            TOO_LONG,
            None,
        ),
        (
            {"repeat": "weekly"},
            "count",
            "Give the number of events or the last date of the series.",
            None,
        ),
    ],
)
def test_bad_input_is_named_beside_its_field(
    client, service, head, consultant, changes, field, msgid, args
):
    client.force_login(head)
    response = client.post(reverse("events:staff_event_new"), form(service, consultant, **changes))
    assert response.status_code == 200 and not Event.objects.exists()
    errors = response.context["form"].errors
    assert field in errors, errors
    with translation.override("ru"):
        expected = gettext(msgid)
    if args is not None:
        assert errors[field] == [expected % args]
    elif "%(" in msgid:
        assert errors[field][0].startswith(expected.split("%(")[0])
    else:
        assert errors[field] == [expected]
    assert 'id="form-errors"' in response.content.decode()


def test_edit_moves_the_event_and_more_places_promote_the_waiting(
    client, service, head, consultant
):
    event = make_event(service, consultant, capacity=1)
    first = services.registration_create(
        actor=None, event=event, full_name="Иванова Анна", phone=phone(1)
    ).registration
    second = services.registration_create(
        actor=None, event=event, full_name="Петрова Анна", phone=phone(2)
    ).registration
    assert second.status == Registration.Status.WAITING
    client.force_login(head)
    url = reverse("events:staff_event_edit", args=[event.pk])
    assert "Вебинар о подростках" in client.get(url).content.decode()
    data = form(service, consultant, title_ru="Новое название", capacity="0")
    for name in ("kind", "repeat"):
        data.pop(name)
    refused = client.post(url, data)
    assert "capacity" in refused.context["form"].errors
    client.post(url, {**data, "capacity": "2", "starts_at": local(service, 5, 10)})
    event.refresh_from_db()
    assert event.title_ru == "Новое название" and event.capacity == 2
    assert timezone.localtime(event.starts_at, service.tz).hour == 10
    second.refresh_from_db()
    assert second.status == Registration.Status.CONFIRMED and second.waiting_position is None
    assert first.pk != second.pk


def test_cancel_tells_the_participants_through_the_outbox(client, service, head, consultant):
    event = make_event(service, consultant)
    services.registration_create(
        actor=None, event=event, full_name="Иванова Анна", email="anna@example.org"
    )
    client.force_login(head)
    client.post(reverse("events:staff_event_cancel", args=[event.pk]))
    client.post(reverse("events:staff_event_cancel", args=[event.pk]))  # twice: told once
    event.refresh_from_db()
    assert event.state == Event.State.CANCELLED
    told = Notification.objects.filter(kind="event_cancelled")
    assert [n.recipient for n in told] == ["anna@example.org"]
    page = client.get(reverse("events:staff_events")).content.decode()
    assert 'id="no-coming"' in page and f'id="event-row-{event.pk}"' in page


def test_list_shows_coming_and_past_with_places_taken(client, service, head, consultant):
    coming = make_event(service, consultant, capacity=5)
    services.registration_create(actor=None, event=coming, full_name="А Б", phone=phone(1))
    past = make_event(service, consultant)
    Event.objects.filter(pk=past.pk).update(starts_at=timezone.now() - dt.timedelta(days=3))
    client.force_login(head)
    page = client.get(reverse("events:staff_events")).content.decode()
    upcoming = page.split('id="staff-events"')[1].split('id="past-events"')[0]
    assert f'id="event-row-{coming.pk}"' in upcoming and "1 из 5" in upcoming
    assert f'id="event-row-{past.pk}"' in page.split('id="past-events"')[1]
    assert 'id="new-event"' in page
