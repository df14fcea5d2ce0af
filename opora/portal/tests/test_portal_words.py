"""The demo services on the portal in ru/kk/en: their names and texts in the page's language, and
the time zone by name — never "Europe/Moscow" or "Asia/Almaty"."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from opora.core.models import Service
from opora.intake.models import ServiceRequest
from opora.scheduling.models import Booking
from opora.scheduling.selectors import slot_nearest_free

pytestmark = pytest.mark.django_db

RAW_ZONES = ("Europe/Moscow", "Asia/Almaty")
LABELS = {
    "mordovia": {
        "ru": "московское время (UTC+3)",
        "kk": "Мәскеу уақыты (UTC+3)",
        "en": "Moscow time (UTC+3)",
    },
    "kz-1411": {
        "ru": "время Астаны (UTC+5)",
        "kk": "Астана уақыты (UTC+5)",
        "en": "Astana time (UTC+5)",
    },
}

AFTER_A_TIME = {
    "mordovia": {"ru": "по московскому времени", "kk": "Мәскеу уақытымен", "en": "Moscow time"},
    "kz-1411": {"ru": "по времени Астаны", "kk": "Астана уақытымен", "en": "Astana time"},
}


def _private_request(service: Service, token: str, *, book: bool) -> str:
    request = ServiceRequest.objects.create(
        service=service,
        full_name="Тестова Анна Петровна",
        phone="+7 927 000 11 22",
        channel="portal",
        public_code=token[:8].upper(),
        public_token=token,
    )
    if book:
        slot = slot_nearest_free(service=service)
        assert slot is not None
        Booking.objects.create(slot=slot, request=request)
        slot.is_booked = True
        slot.save(update_fields=["is_booked"])
        request.status = ServiceRequest.Status.BOOKED
        request.save(update_fields=["status"])
    return token


def test_demo_services_show_their_names_and_zones_by_name_in_every_language(client):
    call_command("demo", "--registry-rows", "100", "--consultants", "1", stdout=StringIO())
    district = Service.objects.get(code="mordovia")
    choose_token = _private_request(district, "w" * 43, book=False)
    booked_token = _private_request(district, "b" * 43, book=True)
    pages = {
        "mordovia": [
            reverse("portal:service", args=["mordovia"]),
            reverse("portal:book", args=["mordovia"]),
            reverse("portal:choose", args=[choose_token]),
            reverse("portal:follow", args=[booked_token]),
        ],
        "kz-1411": [reverse("portal:service", args=["kz-1411"])],
    }
    for lang in ("ru", "kk", "en"):
        client.cookies["django_language"] = lang
        index = client.get(reverse("portal:index")).content.decode()
        for code in pages:
            assert Service.objects.get(code=code).text("name", lang) in index, (lang, code)
        for code, urls in pages.items():
            name = Service.objects.get(code=code).text("name", lang)
            for url in urls:
                response = client.get(url)
                assert response.status_code == 200, url
                html = response.content.decode()
                for raw in RAW_ZONES:
                    assert raw not in html, (lang, url, raw)
                # The private page says the zone after the time («11:00 по московскому времени»).
                labels = (
                    AFTER_A_TIME[code][lang]
                    if url.endswith(f"/r/{booked_token}/")
                    else LABELS[code][lang]
                )
                assert labels in html, (lang, url)
                assert name in html, (lang, url)
    # The names differ per language, so the assertions above would catch a Russian-only page.
    assert len({district.text("name", lang) for lang in ("ru", "kk", "en")}) == 3
