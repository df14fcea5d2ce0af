"""Issue 10 §9, "the public never overwrites the known": a request from the portal or a letter about
a known client keeps its new contacts on the request; the client's card changes only when staff
say so (audited); booking notices go to the request's contacts; the operator's next check
pre-fills the card's contacts, not the ones a stranger typed."""

import pytest
from django.urls import reverse

from opora.core.models import AuditEvent
from opora.intake.models import Client, ServiceRequest
from opora.intake.services import request_check_eligibility
from opora.mail.models import InboundMessage
from opora.mail.services import inbound_store
from opora.mail.tests.factories import make_letter, make_mailbox
from opora.notifications.models import Notification
from opora.scheduling.services import booking_create

from .conftest import PARENT_NAME, make_slots

pytestmark = pytest.mark.django_db
FULL_NAME = " ".join(PARENT_NAME)
CARD_PHONE, CARD_EMAIL = "+77011234567", "aigerim@example.kz"
NEW_PHONE, NEW_EMAIL = "+77779990000", "someone.else@example.org"


@pytest.fixture
def known_client(registry_parent, parent_iin) -> Client:
    last, first, patronymic = PARENT_NAME
    return Client.objects.create(
        iin=parent_iin,
        last_name=last,
        first_name=first,
        patronymic=patronymic,
        phone=CARD_PHONE,
        email=CARD_EMAIL,
    )


def _card(client: Client) -> tuple[str, str]:
    client.refresh_from_db()
    return client.phone, client.email


def _portal_request(client, service, parent_iin: str) -> ServiceRequest:
    form = client.get(reverse("portal:request", args=[service.code])).content.decode()
    key = form.split('name="form_key" value="')[1].split('"')[0]
    response = client.post(
        reverse("portal:request", args=[service.code]),
        {
            "form_key": key,
            "full_name": FULL_NAME,
            "iin": parent_iin,
            "phone": NEW_PHONE,
            "email": NEW_EMAIL,
            "reply_channel": "email",
            "requester_kind": "parent",
            "reason": "Нужна консультация психолога",
            "preferred_form": "video",
            "consent": "on",
        },
    )
    assert response.status_code == 303, response.content.decode()[:3000]
    return ServiceRequest.objects.get(channel="portal")


def test_portal_request_keeps_new_contacts_on_the_request_only(
    client, service, known_client, parent_iin
):
    request = _portal_request(client, service, parent_iin)
    assert request.client == known_client
    assert (request.phone, request.email) == (NEW_PHONE, NEW_EMAIL)
    assert _card(known_client) == (CARD_PHONE, CARD_EMAIL)
    assert not AuditEvent.objects.filter(event_type="intake.client_updated").exists()


def test_staff_see_the_difference_and_update_the_card_audited(
    client, operator, service, known_client, parent_iin
):
    request = _portal_request(client, service, parent_iin)
    client.force_login(operator)
    page = client.get(reverse("operator_request", args=[request.pk])).content.decode()
    notice = page.split('id="contacts-differ"')[1].split("</section>")[0]
    assert "Новые контакты, указанные в этой заявке, отличаются от карточки клиента" in notice
    assert CARD_PHONE in notice and NEW_PHONE in notice and NEW_EMAIL in notice
    assert 'id="update-card"' in notice

    response = client.post(reverse("operator_request_card_update", args=[request.pk]))
    assert response.status_code == 303
    assert _card(known_client) == (NEW_PHONE, NEW_EMAIL)
    event = AuditEvent.objects.get(event_type="intake.client_updated")
    assert event.actor == operator
    assert event.extra["fields"] == ["email", "phone"] and event.extra["request"] == request.pk
    assert NEW_PHONE not in str(event.extra) and NEW_EMAIL not in str(event.extra)
    # The card now agrees with the request: no notice any more.
    page = client.get(reverse("operator_request", args=[request.pk])).content.decode()
    assert 'id="contacts-differ"' not in page


def test_a_consultant_may_not_update_the_card(
    client, consultant, service, known_client, parent_iin
):
    request = _portal_request(client, service, parent_iin)
    client.force_login(consultant)
    response = client.post(reverse("operator_request_card_update", args=[request.pk]))
    assert response.status_code in (403, 404)
    assert _card(known_client) == (CARD_PHONE, CARD_EMAIL)


def test_booking_notices_go_to_the_request_and_the_next_check_prefills_the_card(
    client,
    operator,
    consultant,
    service,
    slot_day,
    known_client,
    parent_iin,
    django_capture_on_commit_callbacks,
):
    request = _portal_request(client, service, parent_iin)
    slot = make_slots(service, consultant, slot_day, hours=(15,))[0]
    with django_capture_on_commit_callbacks(execute=True):
        booking_create(actor=operator, request=request, slot=slot)
    recipients = set(Notification.objects.values_list("recipient", flat=True))
    assert {NEW_PHONE, NEW_EMAIL} <= recipients  # the person who asked
    assert not recipients & {CARD_PHONE, CARD_EMAIL}

    client.force_login(operator)
    html = client.post(
        reverse("operator_check"), {"iin": parent_iin, "full_name": FULL_NAME}
    ).content.decode()
    assert f'value="{CARD_PHONE}"' in html and f'value="{CARD_EMAIL}"' in html
    assert NEW_PHONE not in html and NEW_EMAIL not in html


def test_operator_on_the_phone_updates_the_card_audited(
    operator_client, operator, known_client, parent_iin
):
    operator_client.post(reverse("operator_check"), {"iin": parent_iin, "full_name": FULL_NAME})
    from opora.registry.models import EligibilityCheck

    response = operator_client.post(
        reverse("operator_request_new"),
        {
            "check_id": EligibilityCheck.objects.latest("pk").pk,
            "full_name": FULL_NAME,
            "iin": parent_iin,
            "phone": NEW_PHONE,
            "email": CARD_EMAIL,
            "reason": "Тревога у ребёнка перед школой",
        },
    )
    assert response.status_code == 303, response.content.decode()[:2000]
    assert _card(known_client) == (NEW_PHONE, CARD_EMAIL)
    event = AuditEvent.objects.get(event_type="intake.client_updated")
    assert event.actor == operator and event.extra == {"fields": ["phone"], "via": "phone"}


def test_letter_about_a_known_client_keeps_its_address_on_the_request(
    service, operator, known_client, parent_iin
):
    # The 1411 service registers a letter for the operator's check (mail/services.py).
    mailbox = make_mailbox(service)
    message, _created = inbound_store(
        mailbox=mailbox,
        raw=make_letter(sender=f"Ахметова Айгерим <{NEW_EMAIL}>").as_bytes(),
    )
    assert message.status != InboundMessage.Status.QUARANTINED
    request = message.request
    assert request is not None
    assert request.client is None and request.email == NEW_EMAIL
    checked = request_check_eligibility(
        actor=operator, request=request, iin=parent_iin, full_name=FULL_NAME
    )
    assert checked.client == known_client and checked.email == NEW_EMAIL
    assert _card(known_client) == (CARD_PHONE, CARD_EMAIL)
    assert not AuditEvent.objects.filter(event_type="intake.client_updated").exists()
