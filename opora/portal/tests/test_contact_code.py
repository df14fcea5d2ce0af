"""The client confirms new contacts with a code sent to the contact already on their card (issue
10 §9): the code goes to the card's phone (a stored notification), is kept only as a keyed hash,
expires, allows five attempts and at most three sends an hour; right, and the card takes the
request's contacts (audited); the public page never shows the card's contacts."""

import datetime as dt
import re

import pytest
from django.urls import reverse

from opora.core.models import AuditEvent
from opora.intake.models import Channel, Client
from opora.intake.services import request_create
from opora.notifications.models import Notification
from opora.portal.models import ContactConfirmation
from opora.registry.iin import make_iin

pytestmark = pytest.mark.django_db

CARD_PHONE, CARD_EMAIL = "+77011234567", "card@example.kz"
NEW_PHONE, NEW_EMAIL = "+77779990000", "new@example.org"


def _iin() -> str:
    serial = 50
    while (value := make_iin(dt.date(1987, 6, 5), "F", serial)) is None:
        serial += 1
    return value


@pytest.fixture
def known(district) -> Client:
    return Client.objects.create(
        iin=_iin(), last_name="Тестова", first_name="Анна", phone=CARD_PHONE, email=CARD_EMAIL
    )


@pytest.fixture
def portal_request(district, known):
    return request_create(
        actor=None,
        service=district,
        full_name="Тестова Анна",
        iin=known.iin,
        phone=NEW_PHONE,
        email=NEW_EMAIL,
        channel=Channel.PORTAL,
    )


def _follow(client, req) -> str:
    return client.get(reverse("portal:follow", args=[req.public_token])).content.decode()


def _send(client, req):
    return client.post(reverse("portal:contacts_confirm", args=[req.public_token]))


def _enter(client, req, code: str):
    url = reverse("portal:contacts_confirm", args=[req.public_token])
    return client.post(url, {"code": code}, follow=True)


def _sent_code() -> str:
    note = Notification.objects.filter(kind="contact_code").latest("pk")
    return re.search(r"\b(\d{6})\b", note.body).group(1)


def test_the_code_goes_to_the_card_phone_and_confirms_the_new_contacts(
    client, portal_request, known
):
    assert portal_request.client == known
    html = _follow(client, portal_request)
    section = html.split('id="contacts"')[1].split("</section>")[0]
    assert "по SMS на номер телефона, который уже есть у нас" in section
    assert CARD_PHONE not in html and CARD_EMAIL not in html  # never shown to the public
    assert 'id="contacts-code-submit"' not in section  # no code sent yet

    assert _send(client, portal_request).status_code == 303
    note = Notification.objects.get(kind="contact_code")
    assert (note.channel, note.recipient) == ("sms", CARD_PHONE)
    assert Notification.objects.filter(kind="contact_code").count() == 1  # no messenger copy
    code = _sent_code()
    stored = ContactConfirmation.objects.get()
    assert code not in stored.code_hash and len(stored.code_hash) >= 40
    assert 'id="contacts-code-submit"' in _follow(client, portal_request)

    wrong = "000000" if code != "000000" else "111111"
    page = _enter(client, portal_request, wrong).content.decode()
    assert "Код неверный" in page
    known.refresh_from_db()
    assert known.phone == CARD_PHONE

    page = _enter(client, portal_request, code).content.decode()
    assert "будем использовать ваши новые контакты" in page
    known.refresh_from_db()
    assert (known.phone, known.email) == (NEW_PHONE, NEW_EMAIL)
    event = AuditEvent.objects.get(event_type="intake.client_updated")
    assert event.extra == {
        "fields": ["email", "phone"],
        "via": "code",
        "request": portal_request.pk,
    }
    assert 'id="contacts"' not in page  # the card agrees with the request now
    stored.refresh_from_db()
    assert stored.attempts == 2 and stored.confirmed_at is not None


def test_five_wrong_attempts_use_the_code_up(client, portal_request, known):
    _send(client, portal_request)
    code = _sent_code()
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        _enter(client, portal_request, wrong)
    page = _enter(client, portal_request, code).content.decode()
    assert "Срок действия кода истёк" in page
    known.refresh_from_db()
    assert known.phone == CARD_PHONE
    assert ContactConfirmation.objects.get().attempts == 5


def test_an_expired_code_is_refused(client, portal_request, known):
    _send(client, portal_request)
    code = _sent_code()
    ContactConfirmation.objects.update(expires_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    page = _enter(client, portal_request, code).content.decode()
    assert "Срок действия кода истёк" in page
    known.refresh_from_db()
    assert known.phone == CARD_PHONE


def test_at_most_three_codes_an_hour(client, portal_request):
    for _ in range(3):
        _send(client, portal_request)
    page = client.post(
        reverse("portal:contacts_confirm", args=[portal_request.public_token]), follow=True
    ).content.decode()
    assert "Слишком много кодов" in page
    assert Notification.objects.filter(kind="contact_code").count() == 3


def test_without_a_contact_on_record_there_is_nothing_to_send(client, portal_request, known):
    known.phone = known.email = ""
    known.save()
    assert 'id="contacts"' not in _follow(client, portal_request)
    page = client.post(
        reverse("portal:contacts_confirm", args=[portal_request.public_token]), follow=True
    ).content.decode()
    assert not Notification.objects.filter(kind="contact_code").exists()
    assert 'class="message message--error"' in page
