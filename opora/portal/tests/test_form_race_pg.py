"""Five identical portal submissions sent at the same moment (one form, one key): one request,
and all five answers lead to the same "received" page (the database's unique form key decides).
Two forms sent at once still make two requests."""

import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from opora.demo.factories import make_district_service
from opora.intake.models import ServiceRequest

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

DATA = {
    "full_name": "Тестова Анна Петровна",
    "phone": "+7 927 000 11 22",
    "email": "anna@example.org",
    "reply_channel": "email",
    "requester_kind": "parent",
    "typical_question": "education",
    "reason": "Как выбрать инклюзивную школу?",
    "preferred_form": "video",
    "consent": "on",
}


def _send_at_once(url: str, keys: list[str]) -> tuple[list[str], list[str]]:
    barrier = threading.Barrier(len(keys))
    locations: list[str] = []
    errors: list[str] = []
    lock = threading.Lock()

    def submit(key: str) -> None:
        try:
            barrier.wait(timeout=30)
            response = Client().post(url, {**DATA, "form_key": key})
            with lock:
                if response.status_code == 303:
                    locations.append(response["Location"])
                else:
                    errors.append(f"HTTP {response.status_code}")
        except Exception as exc:  # noqa: BLE001 - any failure is reported below
            with lock:
                errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(key,)) for key in keys]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return locations, errors


def test_five_identical_submissions_at_once_make_one_request():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")
    service = make_district_service()
    url = reverse("portal:request", args=[service.code])
    locations, errors = _send_at_once(url, ["one-form-key-0123456789abcdef"] * 5)
    assert errors == []
    assert len(locations) == 5 and len(set(locations)) == 1 and "/received/" in locations[0]
    assert ServiceRequest.objects.count() == 1


def test_two_forms_sent_at_once_make_two_requests():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")
    service = make_district_service()
    url = reverse("portal:request", args=[service.code])
    locations, errors = _send_at_once(
        url, ["first-form-key-0123456789abcdef", "second-form-key-0123456789abcd"]
    )
    assert errors == []
    assert len(set(locations)) == 2
    assert ServiceRequest.objects.count() == 2
