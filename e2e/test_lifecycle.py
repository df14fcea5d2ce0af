"""The parent's private page through the request's lifecycle, on a 360-px phone: a booked
district (Moscow) request shows Moscow time — and the browser's own time where it is elsewhere;
once the consultation is ended and its protocol saved (through the services) the page says the
consultation was held, with no Join or Cancel; the link's copy button works; axe-core is clean."""

import pytest
from playwright.sync_api import expect

from opora.accounts.models import Role
from opora.consultations import services as consultations
from opora.consultations.models import Protocol, Topic
from opora.demo.factories import make_consultant, make_district_service, make_user
from opora.intake.services import request_create
from opora.scheduling import services as scheduling

from .conftest import e2e_db, future_working_day, make_slots

pytestmark = e2e_db

PHONE = {"width": 360, "height": 780}


@pytest.fixture
def phone(browser, live_server):
    """A phone in Almaty (UTC+5) opening a Moscow service's page, without the share sheet, so the
    copy fallback is what the button does."""
    context = browser.new_context(
        base_url=live_server.url,
        locale="ru-RU",
        timezone_id="Asia/Almaty",
        viewport=PHONE,
        has_touch=True,
        is_mobile=True,
    )
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    context.add_init_script("delete Navigator.prototype.share;")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def _fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_booked_then_held_on_a_phone(phone, axe_check):
    district = make_district_service()
    consultant = make_consultant(district, last_name="Психологова", first_name="Вера")
    operator = make_user(Role.OPERATOR, service=district, organisation=district.intake_organisation)
    day = future_working_day(district)
    (slot,) = make_slots(district, consultant, day, hours=(14,))
    req = request_create(
        actor=operator,
        service=district,
        full_name="Тестова Анна Петровна",
        phone="+7 927 000 11 22",
        typical_question="education",
    )
    booking = scheduling.booking_create(actor=operator, request=req, slot=slot)

    phone.goto(f"/s/r/{req.public_token}/")
    expect(phone.locator("#request-status")).to_have_text("Забронирована")
    # The service's clock, named; then the phone's own (Almaty, two hours later), labelled.
    expect(phone.locator("#booking-time")).to_have_text("14:00–15:00")
    expect(phone.locator("#booking-zone")).to_have_text("по московскому времени")
    expect(phone.locator("#browser-time")).to_have_text("(16:00–17:00 по вашему времени, UTC+5)")
    expect(phone.locator("#join-later")).to_be_visible()
    expect(phone.locator("#join-link")).to_have_count(0)
    expect(phone.locator("#cancel-link")).to_be_visible()
    _fits(phone)
    axe_check(phone, where="private page, booked, 360 px")

    # Copy the private link: the button says so in its live region, the clipboard holds it.
    link = phone.locator("#private-link").get_attribute("href")
    phone.locator("#share-link").click()
    expect(phone.locator("#share-status")).to_have_text("Ссылка скопирована")
    assert phone.evaluate("navigator.clipboard.readText()") == link

    # The consultation is held and its protocol written, through the services.
    room = consultations.consultation_for_booking(booking=booking)
    consultations.consultation_admit(consultation_id=room.pk, actor=consultant)
    consultations.consultation_end(consultation_id=room.pk, actor=consultant)
    consultations.protocol_save(
        actor=consultant,
        consultation=room,
        reason="Вопрос о школе",
        topic=Topic.LEARNING,
        solution="Рекомендации по подготовке к школе",
        kind=Protocol.Kind.PRIMARY,
    )

    phone.reload()
    expect(phone.locator("#request-status")).to_have_text("Консультация проведена")
    expect(phone.locator("#state-text")).to_contain_text("Консультация состоялась")
    for gone in ("#join-link", "#cancel-link", "#reschedule-link", "#booking-details"):
        expect(phone.locator(gone)).to_have_count(0)
    expect(phone.locator("#again-link")).to_be_visible()
    _fits(phone)
    axe_check(phone, where="private page, consultation held, 360 px")

    # «Записаться снова» leads to a new booking of the same service.
    phone.locator("#again-link").click()
    expect(phone).to_have_url(f"{phone.url.split('/s/')[0]}/s/{district.code}/book/")
