"""Issue 12: anonymous on every channel where the service allows it — the operator's form, and
«Mark anonymous» for a letter or a messenger request — with the same code and «Анонимно»."""

import pytest
from django.urls import reverse

from opora.core.models import AuditEvent
from opora.intake.models import Client, ServiceRequest
from opora.intake.services import request_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def open_service(service):
    service.eligibility_rule = "none"
    service.allows_anonymous = True
    service.save()
    return service


def test_the_operator_registers_an_anonymous_call_with_no_card(
    client, operator, head, open_service
):
    client.force_login(operator)
    form = client.get(reverse("operator_console")).content.decode()
    assert 'name="is_anonymous"' in form and 'name="topic"' in form
    response = client.post(
        reverse("operator_request_new"),
        {
            "is_anonymous": "on",
            "full_name": "",
            "phone": "+7 701 555 44 33",
            "reason": "Ребёнок не спит",
            "topic": "1",
            "language": "kk",
        },
    )
    assert response.status_code == 303, response.content.decode()[:500]
    req = ServiceRequest.objects.get()
    assert req.is_anonymous and req.full_name == "" and req.client_id is None
    assert req.public_code and req.channel == "phone"
    assert (req.topic, req.language) == ("1", "kk")
    assert not Client.objects.exists()
    client.force_login(head)
    html = client.get(reverse("registry_appeals")).content.decode()
    assert "Анонимно" in html and "+7 701 555 44 33" not in html


def test_without_the_tick_the_name_is_still_required(client, operator, open_service):
    client.force_login(operator)
    response = client.post(reverse("operator_request_new"), {"phone": "+7 701 555 44 33"})
    assert response.status_code == 200
    assert not ServiceRequest.objects.exists()


def test_a_service_without_anonymity_offers_no_tick(client, operator, service):
    client.force_login(operator)
    assert 'name="is_anonymous"' not in client.get(reverse("operator_console")).content.decode()


def _letter(service, operator, **kw):
    return request_create(
        actor=operator,
        service=service,
        full_name="Сидорова Анна Петровна",
        email="anna@example.org",
        channel="email",
        **kw,
    )


def test_a_letter_is_marked_anonymous_keeping_its_code_and_contacts(client, operator, open_service):
    req = _letter(open_service, operator)
    code = req.public_code
    client.force_login(operator)
    page = client.get(reverse("operator_request", args=[req.pk])).content.decode()
    assert 'id="mark-anonymous-submit"' in page
    response = client.post(reverse("operator_request_anonymous", args=[req.pk]))
    assert response.status_code == 303
    req.refresh_from_db()
    assert req.is_anonymous and req.full_name == "" and req.public_code == code
    assert req.email == "anna@example.org"
    event = AuditEvent.objects.get(event_type="intake.request_marked_anonymous")
    assert event.extra == {"channel": "email"}
    page = client.get(reverse("operator_request", args=[req.pk])).content.decode()
    assert 'id="mark-anonymous-submit"' not in page


def test_a_request_with_a_client_card_is_not_made_anonymous(client, operator, open_service):
    req = _letter(open_service, operator)
    req.client = Client.objects.create(iin="880101300123", last_name="Сидорова", first_name="Анна")
    req.save()
    client.force_login(operator)
    client.post(reverse("operator_request_anonymous", args=[req.pk]))
    req.refresh_from_db()
    assert not req.is_anonymous and req.full_name
    assert not AuditEvent.objects.filter(event_type="intake.request_marked_anonymous").exists()


def test_a_service_without_anonymity_refuses_the_mark(client, operator, service):
    service.eligibility_rule = "none"
    service.save()
    req = _letter(service, operator)
    client.force_login(operator)
    client.post(reverse("operator_request_anonymous", args=[req.pk]))
    req.refresh_from_db()
    assert not req.is_anonymous
