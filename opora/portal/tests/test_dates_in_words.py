"""Dates on the parent's pages in the language's own form (`core.dates`): Kazakh «2026 жылғы
5 желтоқсан», Russian and Kazakh month and weekday names in lower case inside a sentence."""

import datetime as dt
import secrets

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.dates import MONTHS, MONTHS_ALT

from opora.consultations.tests.factories import make_live_consultation
from opora.core.crypto import blind_index
from opora.core.dates import human_date
from opora.intake.models import ServiceRequest

pytestmark = pytest.mark.django_db


def _get(client, url: str, lang: str) -> str:
    client.cookies["django_language"] = lang
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def _in(lang: str, service, value: dt.datetime, style: str = "long") -> str:
    with translation.override(lang), timezone.override(service.tz):
        return human_date(value, style)


def _capitalised_month(lang: str, month: int) -> list[str]:
    with translation.override(lang):
        return [str(MONTHS[month]), str(MONTHS_ALT[month]).capitalize()]


@pytest.fixture
def booked(district, district_consultant):
    c = make_live_consultation(district, district_consultant, starts_in=dt.timedelta(days=2))
    token = secrets.token_urlsafe(32)
    ServiceRequest.objects.filter(pk=c.booking.request_id).update(
        public_token=token,
        public_token_hash=blind_index("token", token),
        public_code=f"T{c.booking.request_id:07d}",
    )
    return c, token


def test_the_private_page_in_kazakh_writes_the_year_first(client, district, booked):
    c, token = booked
    html = _get(client, reverse("portal:follow", args=[token]), "kk")
    when = _in("kk", district, c.booking.slot.starts_at, "weekday")
    local = timezone.localtime(c.booking.slot.starts_at, district.tz)
    assert f"{local.year} жылғы {local.day} " in when
    assert when in html
    registered = _in("kk", district, ServiceRequest.objects.get(pk=c.booking.request_id).created_at)
    assert registered in html
    for capitalised in _capitalised_month("kk", local.month):
        assert f"{local.day} {capitalised}" not in html


def test_the_private_page_in_russian_keeps_month_and_weekday_lower_case(client, district, booked):
    c, token = booked
    html = _get(client, reverse("portal:follow", args=[token]), "ru")
    when = _in("ru", district, c.booking.slot.starts_at, "weekday")
    assert when == when.lower() and when in html


def test_the_room_pages_in_kazakh(client, district, district_consultant):
    c = make_live_consultation(district, district_consultant, starts_in=dt.timedelta(minutes=5))
    day = _in("kk", district, c.booking.slot.starts_at)
    for name in ("client_entry", "device_check"):
        html = _get(client, reverse(f"consultations:{name}", args=[c.client_token]), "kk")
        assert f"{day}," in html or f"{day} " in html, name


def test_the_service_page_lists_days_and_months_in_words(client, district, district_slots):
    html = _get(client, reverse("portal:service", args=[district.code]), "kk")
    first = district_slots[0].starts_at
    assert _in("kk", district, first, "day_month") in html
    assert _in("kk", district, first, "month_year").capitalize() in html
