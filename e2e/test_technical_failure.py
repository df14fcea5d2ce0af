"""A technical failure as regulation 002 §4.2.1 has it, in the browser: the consultant reports it
from the room, the head accepts the reason and sets the new time on their list, and the client's
notice link (on a 360-px phone) shows first that a new time is coming, then the new time."""

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from opora.accounts.models import Role
from opora.consultations.models import TechnicalFailure
from opora.consultations.tests.factories import make_live_consultation
from opora.demo.factories import make_user
from opora.notifications.models import Notification

from .conftest import e2e_db, future_working_day, login, make_slots

pytestmark = e2e_db

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"viewport": {"width": 360, "height": 780}, "has_touch": True, "is_mobile": True}


@pytest.fixture
def phone_page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="ru-RU", **PHONE)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def _link(kind: str) -> str:
    sms = Notification.objects.filter(channel="sms", kind=kind).latest("pk")
    return re.search(r"https?://\S+/l/[0-9A-Z]+", sms.body).group(0)


def test_reported_accepted_and_the_client_sees_the_new_time(
    new_page, phone_page, axe_check, settings, live_server, service, consultant
):
    settings.OPORA_PUBLIC_URL = live_server.url
    head = make_user(
        Role.HEAD,
        service=service,
        organisation=service.provider_organisation,
        email="head@example.org",
    )
    live = make_live_consultation(service, consultant, starts_in=dt.timedelta(minutes=10))
    day = future_working_day(service)
    later = make_slots(service, consultant, day, hours=(16,))[0]

    # The consultant reports the failure from the room, with the reason.
    desk = new_page()
    desk.set_viewport_size(DESKTOP)
    login(desk, consultant.username)
    desk.goto(f"/consultant/room/{live.pk}/")
    desk.locator("#failure-details summary").click()
    desk.locator("#failure-form").get_by_label("Оборудование").check()
    desk.locator("#failure-form textarea").fill("Камера не включается")
    desk.locator("#failure-button").click()
    expect(desk).to_have_url(re.compile(r"/consultant/"))
    failure = TechnicalFailure.objects.get()
    assert failure.state == "reported" and failure.details == "Камера не включается"
    assert Notification.objects.filter(kind="technical_failure", recipient=head.email).exists()

    # The client's notice: a new time is coming (a 360-px phone, a tap on the SMS link).
    phone_page.goto(_link("consultation_failed"))
    expect(phone_page.locator("#request-state")).to_have_attribute("data-state", "failed")
    expect(phone_page.locator("#request-status")).to_have_text("Ожидает нового времени")
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 360
    axe_check(phone_page, where="the client's page while the head decides")

    # The head sees it at once, accepts the reason and sets the new time.
    office = new_page()
    office.set_viewport_size(DESKTOP)
    login(office, head.username)
    office.goto("/consultations/failures/")
    card = office.locator(f"#failure-{failure.pk}")
    expect(card).to_have_attribute("data-state", "reported")
    expect(card).to_contain_text("Камера не включается")
    axe_check(office, where="the head's list of failures")
    card.locator(f"#slot-{failure.pk}-{later.pk}").check()
    card.locator(f"#accept-{failure.pk}").click()
    expect(office.locator(f"#failure-{failure.pk}")).to_have_attribute("data-state", "rebooked")
    expect(office.locator(f"#failure-{failure.pk}-new")).to_contain_text("16:00")
    axe_check(office, where="the head's list after the decision")
    failure.refresh_from_db()
    assert failure.rebooked.slot_id == later.pk

    # The client's new notice carries the new time; its link shows it.
    sms = Notification.objects.filter(channel="sms", kind="booking_rescheduled").get()
    assert "16:00" in sms.body
    phone_page.goto(_link("booking_rescheduled"))
    expect(phone_page.locator("#request-status")).to_have_text("Забронирована")
    expect(phone_page.locator("main")).to_contain_text("16:00")
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 360
    axe_check(phone_page, where="the client's page with the new time")


def test_the_consultant_picks_the_new_time_the_head_allowed(
    new_page, axe_check, settings, live_server, service, consultant
):
    from opora.consultations import services

    settings.OPORA_PUBLIC_URL = live_server.url
    head = make_user(Role.HEAD, service=service, organisation=service.provider_organisation)
    live = make_live_consultation(service, consultant)
    later = make_slots(service, consultant, future_working_day(service), hours=(15,))[0]
    failure = services.technical_failure_report(
        actor=consultant, consultation=live, cause="platform"
    )

    office = new_page()
    office.set_viewport_size(DESKTOP)
    login(office, head.username)
    office.goto("/consultations/failures/")
    office.locator(f"#picks-{failure.pk}").check()
    office.locator(f"#accept-{failure.pk}").click()
    expect(office.locator(f"#failure-{failure.pk}")).to_have_attribute("data-state", "accepted")

    desk = new_page()
    desk.set_viewport_size(DESKTOP)
    login(desk, consultant.username)
    slot = live.booking.slot
    desk.goto(f"/consultant/day/?date={slot.starts_at.astimezone(service.tz):%Y-%m-%d}")
    desk.locator("#day-table .new-time-link").click()
    expect(desk).to_have_url(re.compile(rf"/consultant/failures/{failure.pk}/new-time/$"))
    axe_check(desk, where="the consultant's new-time page")
    desk.locator(f"#slot-pick-{later.pk}").check()
    desk.locator("#pick-button").click()
    expect(desk).to_have_url(re.compile(r"/consultant/"))
    failure.refresh_from_db()
    assert failure.state == "rebooked" and failure.rebooked.slot_id == later.pk
