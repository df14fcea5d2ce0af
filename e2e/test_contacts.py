"""Issue 10 §9 in a real browser: a portal request about a known client with other contacts. On a
phone the parent confirms the new contacts with the code sent to the phone on the card; at the
desk an operator sees «new contacts differ from the card» and updates the card. Both pass axe."""

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from opora.accounts.models import Role
from opora.demo.factories import make_district_service, make_user
from opora.intake.models import Channel, Client
from opora.intake.services import request_create
from opora.notifications.models import Notification

from .conftest import e2e_db, login, synthetic_iin

pytestmark = e2e_db

CARD_PHONE, NEW_PHONE, NEW_EMAIL = "+77011234567", "+77779990000", "new-e2e@example.org"


@pytest.fixture
def district(transactional_db):
    return make_district_service()


@pytest.fixture
def known(district) -> Client:
    return Client.objects.create(
        iin=synthetic_iin(dt.date(1987, 6, 5), "F", 50),
        last_name="Тестова",
        first_name="Анна",
        phone=CARD_PHONE,
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


@pytest.fixture
def phone(browser, live_server):
    context = browser.new_context(
        base_url=live_server.url,
        locale="ru-RU",
        viewport={"width": 360, "height": 780},
        has_touch=True,
        is_mobile=True,
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def _fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_parent_confirms_new_contacts_with_the_code_on_a_phone(
    phone, axe_check, portal_request, known
):
    phone.goto(f"/s/r/{portal_request.public_token}/")
    section = phone.locator("#contacts")
    expect(section).to_contain_text("по SMS на номер телефона, который уже есть у нас")
    expect(section).not_to_contain_text(CARD_PHONE)
    _fits(phone)
    axe_check(phone, where="private page, contacts to confirm")

    phone.locator("#contacts-code-send").tap()
    expect(phone.locator(".messages")).to_contain_text("Мы отправили код")
    note = Notification.objects.get(kind="contact_code")
    assert note.recipient == CARD_PHONE
    code = re.search(r"\b(\d{6})\b", note.body).group(1)
    _fits(phone)
    axe_check(phone, where="private page, code sent")

    phone.get_by_label("Код из сообщения").fill(code)
    phone.locator("#contacts-code-submit").tap()
    expect(phone.locator(".messages")).to_contain_text("новые контакты")
    expect(phone.locator("#contacts")).to_have_count(0)
    _fits(phone)
    known.refresh_from_db()
    assert (known.phone, known.email) == (NEW_PHONE, NEW_EMAIL)


def test_operator_sees_the_difference_and_updates_the_card(
    page, axe_check, district, portal_request, known
):
    operator = make_user(Role.OPERATOR, service=district, organisation=district.intake_organisation)
    login(page, operator.username)
    page.goto(f"/operator/requests/{portal_request.pk}/")
    notice = page.locator("#contacts-differ")
    expect(notice).to_contain_text("отличаются от карточки клиента")
    expect(notice).to_contain_text(CARD_PHONE)
    expect(notice).to_contain_text(NEW_PHONE)
    axe_check(page, where="operator's request page, contacts differ")
    page.locator("#update-card").click()
    expect(page.locator(".messages")).to_contain_text("контакты из этой заявки")
    expect(page.locator("#contacts-differ")).to_have_count(0)
    known.refresh_from_db()
    assert known.phone == NEW_PHONE
