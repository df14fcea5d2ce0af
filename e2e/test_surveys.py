"""Questionnaires with feedback on a 360-px phone, with real taps: a parent fills the PSS-10 from
the portal, reads the interpretation and reaches booking; a risk answer on the PHQ-9 shows the
crisis contacts and alerts the consultant on duty, who opens the result. axe-core on every page."""

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from opora.demo.factories import make_consultant, make_district_service, make_user
from opora.notifications.models import Notification
from opora.scheduling.models import Schedule, Slot
from opora.surveys.loader import load_shipped
from opora.surveys.models import Instrument, InstrumentVersion, Result

from .conftest import e2e_db, login

pytestmark = e2e_db

PHONE = {"viewport": {"width": 360, "height": 780}, "has_touch": True, "is_mobile": True}


@pytest.fixture
def district(transactional_db):
    # The flush after a transactional test empties what the data migration loaded.
    load_shipped(Instrument, InstrumentVersion)
    return make_district_service(public_phone="+7 700 000 00 00")


@pytest.fixture
def phone(browser, live_server):
    contexts = []

    def open_page():
        context = browser.new_context(base_url=live_server.url, locale="ru-RU", **PHONE)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        return page

    yield open_page
    for context in contexts:
        context.close()


def _fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def _answer(page, item: int, label: str) -> None:
    option = page.locator(f"#item-{item}").get_by_text(label, exact=True)
    option.scroll_into_view_if_needed()
    option.tap()


def test_pss10_from_the_portal_to_the_interpretation_and_booking(phone, axe_check, district):
    page = phone()
    page.goto(f"/s/{district.code}/")
    page.locator("#surveys-link").tap()
    expect(page).to_have_url(re.compile(rf"/s/{district.code}/survey/$"))
    axe_check(page, where="questionnaires of the service")
    _fits(page)
    page.locator("#survey-pss-10").tap()
    expect(page.locator("#language-note")).to_be_visible()
    axe_check(page, where="questionnaire start")
    page.locator("#survey-start").tap()
    expect(page.locator("#survey-form")).to_be_visible()
    _fits(page)
    axe_check(page, where="questionnaire form")

    # Half answered, then saved: the draft comes back.
    for item in range(1, 6):
        _answer(page, item, "Sometimes")
    page.locator("#survey-draft").tap()
    expect(page.locator(".message--success")).to_be_visible()
    expect(page.locator("#i-5-3")).to_be_checked()

    # Sending with item 6 unanswered names it.
    page.locator("#survey-submit").tap()
    expect(page.locator("#survey-error")).to_contain_text("6")
    axe_check(page, where="questionnaire with a missing answer")

    # 2 on every item: 6 × 2 + 4 reversed × (4 − 2) = 20, moderate.
    for item in range(6, 11):
        _answer(page, item, "Sometimes")
    page.locator("#survey-submit").tap()
    expect(page.locator("#band-label")).to_have_text("Умеренный уровень стресса")
    expect(page.locator("#feedback")).to_contain_text("20")
    expect(page.locator("#crisis-contacts")).to_have_count(0)
    _fits(page)
    axe_check(page, where="questionnaire feedback")
    assert Result.objects.get().total == 20

    page.locator("#book-from-survey").tap()
    expect(page).to_have_url(re.compile(rf"/s/{district.code}/book/"))


def test_a_risk_answer_on_phq9_reaches_the_consultant_on_duty(phone, page, axe_check, district):
    consultant = make_consultant(district, email="duty@example.test")
    make_user("head", service=district, email="head@example.test")
    now = timezone.now()
    schedule = Schedule.objects.create(
        service=district,
        consultant=consultant,
        month=timezone.localdate(now, district.tz).replace(day=1),
        status=Schedule.Status.APPROVED,
    )
    Slot.objects.create(
        service=district,
        consultant=consultant,
        schedule=schedule,
        starts_at=now - dt.timedelta(minutes=10),
        ends_at=now + dt.timedelta(minutes=50),
    )

    parent = phone()
    parent.goto(f"/s/{district.code}/survey/phq-9/")
    parent.locator("#survey-start").tap()
    for item in range(1, 9):
        _answer(parent, item, "Not at all")
    _answer(parent, 9, "Several days")
    parent.locator("#survey-submit").tap()
    crisis = parent.locator("#crisis-contacts")
    expect(crisis).to_be_visible()
    expect(crisis.get_by_role("link", name="112")).to_be_visible()
    expect(crisis).to_contain_text("+7 700 000 00 00")
    _fits(parent)
    axe_check(parent, where="feedback with crisis contacts")

    result = Result.objects.get()
    alerts = Notification.objects.filter(kind="survey_risk")
    assert sorted(alerts.values_list("recipient", flat=True)) == [
        "duty@example.test",
        "head@example.test",
    ]
    notice = alerts.get(recipient="duty@example.test")
    assert "Several days" not in notice.body

    # The consultant follows the link of the notice.
    link = re.search(r"https?://\S+", notice.body).group(0)
    login(page, consultant.username)
    page.goto("/" + link.split("/", 3)[3])
    expect(page.locator("#risk")).to_be_visible()
    expect(page.locator("#result-total")).to_have_text(str(result.total))
    axe_check(page, where="result for the consultant")
