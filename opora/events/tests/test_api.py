"""The events API: create (staff), register (201 / 409 with the waiting place / 200 again),
attendance, certificates (facts or a bare 404)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from opora.accounts.models import Role
from opora.accounts.services import api_token_create
from opora.demo.factories import make_district_service, make_user
from opora.events import services
from opora.events.models import Attendance, Event
from opora.events.tests.factories import make_event, phone

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    _, raw = api_token_create(user=user)
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}", HTTP_ACCEPT_LANGUAGE="en")


def test_staff_create_an_event(service, head, operator):
    body = {
        "service": service.code,
        "kind": "webinar",
        "title_ru": "Вебинар",
        "starts_at": (timezone.now() + dt.timedelta(days=3)).isoformat(),
        "duration_minutes": 90,
        "capacity": 30,
    }
    response = client_for(head).post("/api/v1/events", body, content_type="application/json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["places_left"] == 30 and data["register_url"].endswith(
        f"/events/{data['id']}/register/"
    )
    assert Event.objects.get(pk=data["id"]).lead == head
    refused = client_for(operator).post("/api/v1/events", body, content_type="application/json")
    assert refused.status_code == 403


def test_register_then_full_then_again(service, consultant):
    event = make_event(service, consultant, capacity=1)
    api = client_for(consultant)
    url = f"/api/v1/events/{event.pk}/registrations"
    first = api.post(
        url, {"full_name": "Иванова Анна", "phone": phone(1)}, content_type="application/json"
    )
    assert first.status_code == 201, first.content
    assert "/e/" in first.json()["join_link"]
    again = api.post(
        url, {"full_name": "Иванова Анна", "phone": phone(1)}, content_type="application/json"
    )
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    full = api.post(
        url,
        {"full_name": "Петрова Ольга", "email": "o@example.org"},
        content_type="application/json",
    )
    assert full.status_code == 409
    assert full.json()["waiting_position"] == 1 and full.json()["code"] == "waiting_list"


def test_another_services_event_is_not_found(service, consultant):
    other = make_district_service()
    lead = make_user(Role.CONSULTANT, service=other)
    event = make_event(other, lead)
    response = client_for(consultant).post(
        f"/api/v1/events/{event.pk}/registrations",
        {"full_name": "Иванова Анна", "phone": phone(1)},
        content_type="application/json",
    )
    assert response.status_code == 404


def test_attendance_and_certificate(service, consultant):
    event = make_event(service, consultant, starts_in=dt.timedelta(minutes=1))
    registration = services.registration_create(
        actor=None, event=event, full_name="Иванова Анна", phone=phone(1)
    ).registration
    Event.objects.filter(pk=event.pk).update(starts_at=timezone.now() - dt.timedelta(hours=2))
    event.refresh_from_db()
    Attendance.objects.create(
        event=event,
        registration=registration,
        joined_at=event.starts_at,
        left_at=event.ends_at,
    )
    api = client_for(consultant)
    rows = api.get(f"/api/v1/events/{event.pk}/attendance").json()["items"]
    assert [r["name"] for r in rows] == ["Иванова Анна"] and rows[0]["left_at"]
    [certificate] = services.certificates_issue(actor=consultant, event=event)
    facts = api.get(f"/api/v1/certificates/{certificate.code}")
    assert facts.status_code == 200 and facts.json()["full_name"] == "Иванова Анна"
    unknown = api.get("/api/v1/certificates/AAAAAAAAAAAAAAAA")
    assert unknown.status_code == 404 and certificate.code not in unknown.content.decode()
