"""The 1411 parent's SMS, on a phone: the operator books on the phone, the SMS in the outbox is
at most two parts and its short link opens the parent's private page (served at the address the
settings derive, here the live server's own)."""

import re

import pytest
from playwright.sync_api import expect

from opora.intake.services import request_create
from opora.notifications.models import Notification
from opora.notifications.sms import sms_segments
from opora.scheduling.services import booking_create

from .conftest import e2e_db, future_working_day, make_slots

pytestmark = e2e_db

PHONE = {"viewport": {"width": 360, "height": 780}, "has_touch": True, "is_mobile": True}


@pytest.fixture
def phone_page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="ru-RU", **PHONE)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def test_sms_link_of_a_phone_booking_opens_the_private_page_on_a_phone(
    phone_page, axe_check, settings, live_server, service, operator, consultant
):
    settings.OPORA_PUBLIC_URL = live_server.url
    service.eligibility_rule = "none"
    service.save()
    day = future_working_day(service)
    slot = make_slots(service, consultant, day, hours=(15,))[0]
    request = request_create(
        actor=operator, service=service, full_name="Тестова Дана", phone="+7 701 555 44 33"
    )
    booking_create(actor=operator, request=request, slot=slot)

    sms = Notification.objects.get(channel="sms", kind="booking_created")
    assert sms_segments(sms.body) <= 2
    link = re.search(r"https?://\S+/l/[0-9A-Z]+", sms.body).group(0)
    assert link.startswith(live_server.url)

    phone_page.goto(link)  # what a tap on the link in the SMS does
    expect(phone_page).to_have_url(re.compile(rf"/s/r/{re.escape(request.public_token)}/$"))
    expect(phone_page.locator("#request-status")).to_have_text("Забронирована")
    expect(phone_page.locator("#booking-title")).to_be_visible()
    expect(phone_page.locator("main")).to_contain_text("15:00")
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 360
    axe_check(phone_page, where="private page opened from the SMS link")
