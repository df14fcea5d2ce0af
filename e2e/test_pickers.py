"""Pickers that fit a phone (issue 9, items 6, 7 and the self-booking draft of 9).

At 360 px: the 1411 page (21 consultants on every working day, as in the demo) and the district
page lead with the actions, are shorter than 3,000 px and never scroll sideways; a parent books by
tapping a time tile and the submit button, and the request exists only once the time is chosen.
At 1280 px: the operator books in the day x consultant grid with real clicks. axe-core on each.
"""

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from opora.demo.factories import make_consultant, make_district_service
from opora.intake.models import ServiceRequest
from opora.scheduling.calendar import local_now, make_aware_local, working_days_in_month
from opora.scheduling.models import Booking, Schedule, SchedulePeriod, Slot
from opora.scheduling.tests.factories import make_request

from .conftest import e2e_db, login

pytestmark = e2e_db

PHONE_VIEW = {"viewport": {"width": 360, "height": 780}, "has_touch": True, "is_mobile": True}
SPECIALTIES = ["Психолог", "Социальный работник", "Юрист", "Дефектолог"]


def _month(day: dt.date, ahead: int = 0) -> dt.date:
    index = day.year * 12 + day.month - 1 + ahead
    return dt.date(index // 12, index % 12 + 1, 1)


def staff_the_service(service, count: int, *, slot_days: int = 6) -> list:
    """`count` consultants with approved schedules for this month and the next (every working
    day, consultation hours) and hourly slots on the next `slot_days` working days."""
    today = local_now(service).date()
    consultants = [
        make_consultant(
            service,
            last_name=f"Консультантова{i:02d}",
            first_name="Тест",
            specialty=SPECIALTIES[i % len(SPECIALTIES)],
        )
        for i in range(count)
    ]
    opens, closes = service.consultation_opens, service.consultation_closes
    hours = list(range(opens.hour, closes.hour))
    upcoming = [
        d
        for m in (_month(today), _month(today, 1))
        for d in working_days_in_month(service, m)
        if d > today
    ][:slot_days]
    for consultant in consultants:
        for month in (_month(today), _month(today, 1)):
            schedule = Schedule.objects.create(
                service=service, consultant=consultant, month=month, status="approved"
            )
            SchedulePeriod.objects.bulk_create(
                SchedulePeriod(schedule=schedule, date=d, start_time=opens, end_time=closes)
                for d in working_days_in_month(service, month)
            )
            Slot.objects.bulk_create(
                Slot(
                    service=service,
                    consultant=consultant,
                    schedule=schedule,
                    starts_at=make_aware_local(service, d, dt.time(h)),
                    ends_at=make_aware_local(service, d, dt.time(h + 1)),
                )
                for d in upcoming
                if d.replace(day=1) == month
                for h in hours
            )
    return consultants


@pytest.fixture
def phone(browser, live_server):
    contexts = []

    def open_page():
        context = browser.new_context(base_url=live_server.url, locale="ru-RU", **PHONE_VIEW)
        contexts.append(context)
        p = context.new_page()
        p.set_default_timeout(10_000)
        return p

    yield open_page
    for context in contexts:
        context.close()


def _fits(page, *, width: int = 360) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width, page.url


def _in_first_screen(page, selector: str) -> None:
    box = page.locator(selector).bounding_box()
    assert box is not None and box["y"] + box["height"] <= 780, (selector, box)


@pytest.fixture
def district(transactional_db):
    return make_district_service(allows_choosing_consultant=True)


def test_service_pages_lead_with_the_actions_and_fit_a_phone(phone, axe_check, service, district):
    service.allows_self_booking = True
    service.channels = ["phone", "portal"]
    service.public_description = "Бесплатная психологическая помощь родителям. " * 6
    service.save()
    staff_the_service(service, 21)
    staff_the_service(district, 2)
    page = phone()
    for s in (service, district):
        page.goto(f"/s/{s.code}/")
        expect(page.locator("h1")).to_have_text(s.name)
        _fits(page)
        height = page.evaluate("document.documentElement.scrollHeight")
        assert height < 3000, (s.code, height)
        for action in ("#book-link", "#request-link"):
            _in_first_screen(page, action)
        expect(page.locator("#my-booking")).to_be_visible()
        assert "Консультантова" not in page.content()  # times and days, not names
        axe_check(page, where=f"service page {s.code} at 360 px")
        # The disclosures open by a tap and still fit the screen.
        page.locator("#free-days > summary").tap()
        expect(page.locator("#free-days .free-days")).to_be_visible()
        page.locator("#schedule > summary").tap()
        expect(page.locator("#schedule .schedule-list").first).to_be_visible()
        _fits(page)
        axe_check(page, where=f"service page {s.code} with the schedule open")


def test_a_parent_books_by_tapping_a_time(phone, axe_check, district):
    consultants = staff_the_service(district, 3)
    page = phone()
    page.goto(f"/s/{district.code}/")
    page.locator("#book-link").tap()
    page.locator("#id_full_name").fill("Тестова Анна Петровна")
    page.locator("#id_email").fill("parent-pickers@example.org")
    page.locator("#id_consent").tap()
    page.locator("#request-submit").tap()

    expect(page.locator("h1")).to_have_text("Выбор времени")
    assert not ServiceRequest.objects.exists()  # step 1 registers nothing
    _fits(page)
    # Three days of times, one tile per time (three consultants free at each).
    expect(page.locator(".day-times")).to_have_count(3)
    hours = district.consultation_closes.hour - district.consultation_opens.hour
    expect(page.locator("input[name=time]")).to_have_count(3 * hours)
    expect(page.locator("#zone-hint")).to_contain_text("UTC+3")
    submit = page.locator("#slot-submit")
    top = page.evaluate(
        "el => el.getBoundingClientRect().top + window.scrollY", submit.element_handle()
    )
    assert top < 2500, top  # not ~5,000 px down any more
    axe_check(page, where="time picker at 360 px")

    # More days, without any script: a link.
    page.locator("#more-days").tap()
    expect(page).to_have_url(re.compile(r"\?from="))
    expect(page.locator(".day-times").first).to_be_visible()
    _fits(page)
    page.locator("#nearest-days").tap()
    expect(page).not_to_have_url(re.compile(r"from="))

    # A named consultant where the service allows it.
    page.locator("#id_consultant").select_option(str(consultants[1].pk))
    page.locator("#consultant-show").tap()
    expect(page.locator("input[name=time]").first).to_be_visible()

    tile = page.locator(".time-tile").nth(1)
    chosen = tile.locator("input").get_attribute("value")
    tile.tap()
    expect(tile.locator("input")).to_be_checked()
    page.locator("#slot-submit").tap()

    expect(page.locator("#booking-details")).to_be_visible()
    _fits(page)
    req = ServiceRequest.objects.get()
    booking = Booking.objects.get(request=req, status=Booking.Status.ACTIVE)
    assert booking.slot.consultant == consultants[1]
    assert booking.slot.starts_at == dt.datetime.fromisoformat(chosen)
    assert req.status == ServiceRequest.Status.BOOKED
    axe_check(page, where="private page after booking at 360 px")

    # Back and submit again (a double tap, a reload): still one request.
    page.go_back()
    page.goto(f"/s/{district.code}/book/time/")
    expect(page.locator("#booking-details")).to_be_visible()
    assert ServiceRequest.objects.count() == 1


def test_operator_books_in_the_grid_with_real_clicks(
    browser, live_server, axe_check, service, operator
):
    consultants = staff_the_service(service, 6, slot_days=3)
    req = make_request(service)
    context = browser.new_context(
        base_url=live_server.url, locale="ru-RU", viewport={"width": 1280, "height": 900}
    )
    try:
        page = context.new_page()
        page.set_default_timeout(10_000)
        login(page, operator.username)
        page.goto(f"/operator/requests/{req.pk}/book/")
        grid = page.locator("#slot-grid")
        expect(grid).to_be_visible()
        expect(grid.locator("tbody tr")).to_have_count(6)
        expect(grid.locator("thead .slot-grid__time")).to_have_count(4)
        expect(page.locator(".slot-cell--nearest")).to_have_count(1)
        # A time never wraps: every time header is one line.
        heights = page.eval_on_selector_all(
            ".slot-grid__time", "els => els.map(e => e.getBoundingClientRect().height)"
        )
        assert max(heights) < 2 * min(heights)
        _fits(page, width=1280)
        axe_check(page, where="operator booking grid")

        # Filter by specialty (htmx), then go to the next day and book a lawyer at 16:00.
        page.locator("#id_specialty").select_option("Юрист")
        lawyers = [c for c in consultants if c.specialty == "Юрист"]
        expect(grid.locator("tbody tr")).to_have_count(len(lawyers))
        page.locator("#day-next").click()
        expect(page.locator("#day-previous")).to_be_visible()
        cell = page.locator("#slot-grid tbody tr").first.locator(".slot-cell").nth(2)
        cell.click()
        slot_id = int(cell.locator("input").get_attribute("value"))
        axe_check(page, where="operator grid, filtered, next day")
        page.locator("#book-selected").click()
        expect(page).to_have_url(re.compile(rf"/operator/requests/{req.pk}/confirmation/$"))
        booking = Booking.objects.get(request=req, status=Booking.Status.ACTIVE)
        assert booking.slot_id == slot_id and booking.slot.consultant.specialty == "Юрист"
    finally:
        context.close()
