"""Portal forms and IIN checks past their limits (opora.core.ratelimit): 429, what was typed kept,
the message in the visitor's language."""

import datetime as dt

import pytest
from django.urls import reverse

from opora.intake.models import ServiceRequest
from opora.registry.models import EligibilityCheck

from .test_portal import BOOKER, NAMED, _iin

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_counts():
    """Earlier tests of this process counted from the same address in the same cache."""
    from django.core.cache import cache

    cache.clear()


def test_the_request_form_past_its_limit_keeps_what_was_typed(client, district, settings):
    settings.OPORA_RATE_LIMITS = {"portal-form": (2, 3600)}
    url = reverse("portal:request", args=["district"])
    no_consent = {k: v for k, v in NAMED.items() if k != "consent"}
    for _ in range(2):
        assert client.post(url, no_consent).status_code == 400  # counted all the same
    response = client.post(url, NAMED)
    html = response.content.decode()
    assert response.status_code == 429
    assert "Слишком много запросов с этого адреса" in html
    assert "Как выбрать инклюзивную школу?" in html  # what was typed is still there
    assert not ServiceRequest.objects.exists()
    # Another address sends its request.
    assert client.post(url, NAMED, REMOTE_ADDR="192.0.2.8").status_code == 303


def test_iin_checks_from_one_address_are_limited(client, service, settings):
    service.allows_self_booking = True
    service.save()
    settings.OPORA_RATE_LIMITS = {"portal-iin-check": (2, 3600)}
    url = reverse("portal:book", args=["kz-1411"])
    for n in range(2):
        stranger = {**BOOKER, "iin": _iin(dt.date(1990, 1, 1), "F", 77 + n * 10)}
        assert client.post(url, stranger).status_code == 400  # refused by the registry
    assert EligibilityCheck.objects.count() == 2
    third = client.post(url, {**BOOKER, "iin": _iin(dt.date(1991, 1, 1), "F", 5)})
    assert third.status_code == 429
    assert EligibilityCheck.objects.count() == 2  # the registry was not asked


def test_a_complaint_form_past_its_limit_gets_the_429_page(client, district, settings):
    settings.OPORA_RATE_LIMITS = {"portal-form": (1, 3600)}
    url = reverse("complaints:portal_new", args=["district"])
    client.post(url, {})
    response = client.post(url, {}, HTTP_ACCEPT_LANGUAGE="kk")
    assert response.status_code == 429 and 'id="rate-limited"' in response.content.decode()
    assert int(response["Retry-After"]) > 0
