"""A letter that reads as a complaint is offered to staff on its thread page and registered as a
complaint with one click (regulation 000 §16 by e-mail; issue 15) — once per letter; a letter
that does not read as one is not offered; a consultant may not register it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from opora.accounts.models import Role
from opora.complaints.models import Complaint
from opora.demo.factories import make_user
from opora.mail.models import InboundMessage
from opora.mail.services import inbound_store
from opora.mail.tests.factories import make_letter, make_mailbox, make_written_service

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    service = make_written_service()
    consultant = make_user(Role.CONSULTANT, service=service)
    head = make_user(Role.HEAD, service=service)
    mailbox = make_mailbox(service, consultant=consultant, smtp_port=1)
    complaint, _ = inbound_store(
        mailbox=mailbox,
        raw=make_letter(
            subject="Жалоба на консультанта", body="Консультация прошла плохо."
        ).as_bytes(),
    )
    plain, _ = inbound_store(
        mailbox=mailbox, raw=make_letter(sender="Иванова Мария <m.ivanova@example.org>").as_bytes()
    )
    return service, consultant, head, complaint, plain


def test_head_registers_the_letter_as_a_complaint_once(client, setup):
    service, _consultant, head, letter, plain = setup
    client.force_login(head)
    page = client.get(reverse("mail:thread", args=[letter.request_id])).content.decode()
    assert f'id="letter-register-complaint-{letter.pk}"' in page
    other_page = client.get(reverse("mail:thread", args=[plain.request_id])).content.decode()
    assert f'id="letter-register-complaint-{plain.pk}"' not in other_page

    url = reverse("mail:letter_complaint", args=[letter.request_id, letter.pk])
    response = client.post(url)
    complaint = Complaint.objects.get()
    assert response.status_code in (302, 303)
    assert response["Location"] == reverse("complaints:detail", args=[complaint.pk])
    assert complaint.channel == "email" and complaint.service == service
    assert complaint.email == "anna.petrova@example.org"
    assert "Консультация прошла плохо" in complaint.text
    assert InboundMessage.objects.get(pk=letter.pk).complaint == complaint

    client.post(url)  # a second click: the same complaint
    assert Complaint.objects.count() == 1
    page = client.get(reverse("mail:thread", args=[letter.request_id])).content.decode()
    assert f'id="letter-complaint-{letter.pk}"' in page
    assert f'id="letter-register-complaint-{letter.pk}"' not in page


def test_a_consultant_is_not_offered_and_may_not_register(client, setup):
    _service, consultant, _head, letter, _plain = setup
    client.force_login(consultant)
    page = client.get(reverse("mail:thread", args=[letter.request_id])).content.decode()
    assert "letter-register-complaint" not in page
    url = reverse("mail:letter_complaint", args=[letter.request_id, letter.pk])
    assert client.post(url).status_code == 403
    assert not Complaint.objects.exists()
