"""The authority's journals page: every form of the services it supervises, always coded — no
client and no staff member is named on the page or in any file — and the services of another
authority are not offered."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from opora.accounts.models import Role
from opora.demo.factories import make_district_service, make_user
from opora.intake.services import request_create
from opora.journals.catalogue import FORMS

pytestmark = pytest.mark.django_db

NAME = "Сидорова Анна Петровна"


@pytest.fixture
def authority(service):
    return make_user(Role.AUTHORITY, organisation=service.authority)


@pytest.fixture
def named(service, operator):
    service.eligibility_rule = "none"
    service.save()
    return request_create(
        actor=operator,
        service=service,
        full_name=NAME,
        phone="+7 701 000 00 01",
        reason="Ребёнок не спит",
        requester_kind="parent",
        channel="phone",
    )


def test_every_form_is_shown_coded(client, authority, service, named, operator):
    client.force_login(authority)
    home = client.get(reverse("authority_home")).content.decode()
    assert reverse("authority_journal", args=["services-004"]) in home
    for code, form in FORMS.items():
        response = client.get(reverse("authority_journal", args=[code]))
        html = response.content.decode()
        assert response.status_code == 200, code
        assert form.title in html and 'id="coded-note"' in html
        assert NAME not in html and "Ребёнок не спит" not in html, code
        assert operator.last_name not in html, code
    html = client.get(reverse("authority_journal", args=["requests-002"])).content.decode()
    assert f"код {named.public_code}" in html


def test_the_files_are_coded_too(client, authority, service, named):
    client.force_login(authority)
    url = reverse("authority_journal", args=["requests-002"])
    response = client.get(url, {"service": service.pk, "format": "xlsx"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    text = " ".join(str(c) for row in sheet.iter_rows(values_only=True) for c in row if c)
    assert f"код {named.public_code}" in text and NAME not in text
    for fmt in ("csv", "json", "docx", "pdf"):
        response = client.get(url, {"service": service.pk, "format": fmt})
        assert response.status_code == 200, fmt


def test_another_authoritys_service_is_not_offered(client, authority, service):
    other = make_district_service()
    client.force_login(authority)
    url = reverse("authority_journal", args=["services-004"])
    html = client.get(url).content.decode()
    assert f'value="{service.pk}"' in html and f'value="{other.pk}"' not in html
    response = client.get(url, {"service": other.pk})
    assert response.status_code == 400 and 'id="registry-errors"' in response.content.decode()


def test_bad_period_and_unknown_form_are_named(client, authority, service):
    client.force_login(authority)
    url = reverse("authority_journal", args=["services-004"])
    response = client.get(
        url, {"service": service.pk, "date_from": "2026-03-10", "date_to": "2026-03-01"}
    )
    assert response.status_code == 400
    assert "2026-03-01" in response.content.decode()
    response = client.get(reverse("authority_journal", args=["no-such-form"]))
    assert response.status_code == 404


def test_staff_of_the_service_may_not_open_it(client, head):
    client.force_login(head)
    assert client.get(reverse("authority_journal", args=["services-004"])).status_code == 403
