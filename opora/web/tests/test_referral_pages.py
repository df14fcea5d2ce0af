"""The referral directory pages and "Send a referral" / counting on the request page."""

from typing import Any

import pytest
from django.urls import reverse

from opora.core.models import Region
from opora.intake.models import Referral, ServiceKind, ServiceRequest
from opora.intake.services import referral_create, request_create
from opora.notifications.models import Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def open_service(service):
    service.eligibility_rule = "none"
    service.save()
    return service


@pytest.fixture
def entry(head):
    return referral_create(
        actor=head,
        name="Центр ранней помощи",
        helps_with="Аутизм, логопед",
        country="KZ",
        phone="+7 727 000 00 00",
    )


def _request(service, operator, **kw):
    defaults: dict[str, Any] = {
        "full_name": "Сидорова Анна",
        "phone": "+7 701 000 00 01",
        "channel": "portal",
    }
    defaults.update(kw)
    return request_create(actor=operator, service=service, **defaults)


def test_head_adds_and_edits_an_entry(client, head, open_service):
    client.force_login(head)
    page = client.get(reverse("referral_new"))
    assert page.status_code == 200 and 'id="referral-form"' in page.content.decode()
    region = Region.objects.filter(country="KZ").first()
    response = client.post(
        reverse("referral_new"),
        {
            "name": "Юридическая клиника",
            "helps_with": "Права, пособия, инвалидность",
            "country": "KZ",
            "region": region.pk,
            "website": "example.org",
            "is_active": "on",
        },
    )
    assert response.status_code == 303, response.content.decode()[:3000]
    entry = Referral.objects.get(name="Юридическая клиника")
    assert entry.website == "https://example.org" and entry.region == region
    response = client.post(
        reverse("referral_edit", args=[entry.pk]),
        {"name": entry.name, "helps_with": entry.helps_with, "country": "KZ"},
    )
    assert response.status_code == 303
    assert not Referral.objects.get(pk=entry.pk).is_active  # the box left unticked: withdrawn
    bad = client.post(reverse("referral_new"), {"name": "", "helps_with": ""})
    assert bad.status_code == 400 and 'class="error-summary"' in bad.content.decode()


def test_operator_and_consultant_search_but_do_not_edit(client, operator, consultant, entry):
    for user in (operator, consultant):
        client.force_login(user)
        html = client.get(reverse("referral_list"), {"q": "логопед"}).content.decode()
        assert f'id="referral-{entry.pk}"' in html
        assert reverse("referral_edit", args=[entry.pk]) not in html
        html = client.get(reverse("referral_list"), {"q": "стоматолог"}).content.decode()
        assert 'id="referral-empty"' in html
        assert client.get(reverse("referral_new")).status_code == 403
        assert client.post(reverse("referral_edit", args=[entry.pk]), {}).status_code == 403


def test_send_a_referral_from_the_request_page(client, operator, open_service, entry):
    request = _request(open_service, operator)
    client.force_login(operator)
    url = reverse("operator_request", args=[request.pk])
    html = client.get(url).content.decode()
    assert 'id="referral-panel"' in html and 'id="referral-send-form"' not in html
    html = client.get(url, {"ref-q": "аутизм"}).content.decode()
    assert f'id="referral-choice-{entry.pk}"' in html
    response = client.post(
        reverse("operator_referral_send", args=[request.pk]),
        {"referral": entry.pk, "via": "channel"},
    )
    assert response.status_code == 303
    stored = ServiceRequest.objects.get(pk=request.pk)
    assert stored.kind == ServiceKind.DISPATCHER and stored.referral == entry
    assert Notification.objects.filter(kind="request_referral", channel="sms").count() == 1
    html = client.get(url).content.decode()
    assert entry.name in html and 'id="referral-panel"' not in html


def test_send_without_a_choice_says_what_is_missing(client, operator, open_service, entry):
    request = _request(open_service, operator)
    client.force_login(operator)
    response = client.post(reverse("operator_referral_send", args=[request.pk]), {"via": "channel"})
    assert response.status_code == 400
    assert 'id="referral-errors"' in response.content.decode()
    assert ServiceRequest.objects.get(pk=request.pk).status == "new"


def test_the_free_text_redirect_form_still_works(client, operator, open_service):
    request = _request(open_service, operator)
    client.force_login(operator)
    response = client.post(
        reverse("operator_request_redirect", args=[request.pk]),
        {"referral_text": "Управление образования, тел. 000"},
    )
    assert response.status_code == 303
    assert ServiceRequest.objects.get(pk=request.pk).status == "redirected"


def test_count_with_another_request_by_number_or_code(client, operator, open_service):
    mother = _request(open_service, operator)
    father = _request(open_service, operator, full_name="Сидоров Иван")
    client.force_login(operator)
    response = client.post(
        reverse("operator_count_with", args=[father.pk]), {"other": mother.public_code.lower()}
    )
    assert response.status_code == 303
    assert ServiceRequest.objects.get(pk=father.pk).counted_with_id == mother.pk
    html = client.get(reverse("operator_request", args=[father.pk])).content.decode()
    assert 'id="counted-with"' in html
    bad = client.post(reverse("operator_count_with", args=[father.pk]), {"other": "99999"})
    assert bad.status_code == 400 and 'id="count-errors"' in bad.content.decode()
    response = client.post(reverse("operator_count_separately", args=[father.pk]))
    assert response.status_code == 303
    assert ServiceRequest.objects.get(pk=father.pk).counted_with_id is None


def test_anonymous_request_page_says_anonymous(client, operator, open_service):
    open_service.allows_anonymous = True
    open_service.save()
    request = _request(open_service, operator, full_name="", is_anonymous=True)
    client.force_login(operator)
    html = client.get(reverse("operator_request", args=[request.pk])).content.decode()
    assert 'id="request-name">Анонимно<' in html and request.public_code in html
