"""The consultant's preparation 30 minutes before an online consultation (regulation 002 §4.2):
stored per item with the measured network; a failed item offers the failure report, prefilled."""

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.urls import reverse

from opora.accounts.models import Role
from opora.consultations import services
from opora.consultations.models import Consultation, Preparation
from opora.consultations.tests.factories import make_live_consultation
from opora.core.errors import DomainError
from opora.demo.factories import make_user

pytestmark = pytest.mark.django_db

GOOD: dict[str, Any] = {
    "camera_ok": True,
    "microphone_ok": True,
    "rtt_ms": 40,
    "download_mbit": Decimal("12.5"),
    "request_read": True,
    "protocols_read": True,
}


@pytest.fixture
def soon(service, consultant):
    return make_live_consultation(service, consultant, starts_in=dt.timedelta(minutes=20))


def test_all_good_passes(soon, consultant):
    p = services.preparation_record(actor=consultant, consultation=soon, **GOOD)
    assert p.passed and p.network_ok and p.rtt_ms == 40


@pytest.mark.parametrize(
    ("change", "item"),
    [
        ({"camera_ok": False}, "camera_ok"),
        ({"microphone_ok": False}, "microphone_ok"),
        ({"rtt_ms": 900}, "network_ok"),
        ({"download_mbit": Decimal("0.3")}, "network_ok"),
        ({"rtt_ms": None}, "network_ok"),
        ({"request_read": False}, "request_read"),
        ({"protocols_read": False}, "protocols_read"),
    ],
)
def test_one_failed_item_fails_the_check(soon, consultant, change, item):
    p = services.preparation_record(actor=consultant, consultation=soon, **{**GOOD, **change})
    assert not p.passed and getattr(p, item) is False


def test_opens_30_minutes_before_and_only_for_the_booked_consultant(service, consultant):
    early = make_live_consultation(service, consultant, starts_in=dt.timedelta(minutes=45))
    with pytest.raises(DomainError) as e:
        services.preparation_record(actor=consultant, consultation=early, **GOOD)
    assert e.value.code == "too_early"
    soon = make_live_consultation(service, consultant, starts_in=dt.timedelta(minutes=29))
    with pytest.raises(PermissionDenied):
        services.preparation_record(
            actor=make_user(Role.CONSULTANT, service=service), consultation=soon, **GOOD
        )
    Consultation.objects.filter(pk=soon.pk).update(mode="phone")
    soon.refresh_from_db()
    with pytest.raises(DomainError) as e:
        services.preparation_record(actor=consultant, consultation=soon, **GOOD)
    assert e.value.code == "phone"


def test_the_database_refuses_a_pass_with_a_failed_item(soon, consultant):
    with pytest.raises(IntegrityError), transaction.atomic():
        Preparation.objects.create(
            consultation=soon,
            consultant=consultant,
            camera_ok=False,
            microphone_ok=True,
            network_ok=True,
            request_read=True,
            protocols_read=True,
            passed=True,
        )


def test_page_stores_the_result_and_a_failure_offers_the_report(client, soon, consultant):
    client.force_login(consultant)
    url = reverse("consultations:preparation", args=[soon.pk])
    html = client.get(url).content.decode()
    assert 'id="prep-form"' in html and "preparation.js" in html
    response = client.post(
        url,
        {
            "camera_ok": "0",
            "microphone_ok": "1",
            "rtt_ms": "35",
            "download_mbit": "20.1",
            "request_read": "1",
            "protocols_read": "1",
        },
    )
    assert response.status_code == 302
    p = Preparation.objects.get()
    assert (p.camera_ok, p.microphone_ok, p.network_ok, p.passed) == (False, True, True, False)
    assert p.download_mbit == Decimal("20.10")
    html = client.get(url).content.decode()
    assert 'id="failure-form"' in html
    assert re.search(r'value="equipment"[^>]*checked', html)
    # The details name the failed item.
    assert re.search(r"<textarea[^>]*>[^<]*(camera|камера)", html)
    assert reverse("consultations:failure", args=[soon.pk]) in html


def test_probe_serves_bytes_to_the_booked_consultant_only(client, service, soon, consultant):
    url = reverse("consultations:preparation_probe", args=[soon.pk])
    client.force_login(consultant)
    assert len(client.get(url + "?bytes=1000").content) == 1000
    assert len(client.get(url + "?bytes=99999999").content) == 1024 * 1024
    client.force_login(make_user(Role.CONSULTANT, service=service))
    assert client.get(url).status_code == 403  # consultation.conduct: not their consultation


def test_from_the_day_by_booking_only_the_booked_consultant(client, service, soon, consultant):
    url = reverse("consultations:preparation_for_booking", args=[soon.booking_id])
    client.force_login(make_user(Role.CONSULTANT, service=service))
    assert client.get(url).status_code == 403  # consultation.conduct: not their booking
    client.force_login(consultant)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == reverse("consultations:preparation", args=[soon.pk])


def test_page_before_the_30_minutes_says_when_it_opens(client, service, consultant):
    early = make_live_consultation(service, consultant, starts_in=dt.timedelta(minutes=90))
    client.force_login(consultant)
    html = client.get(reverse("consultations:preparation", args=[early.pk])).content.decode()
    assert 'id="prep-closed"' in html and 'id="prep-form"' not in html
    assert "preparation.js" not in html
