"""The coordinator builds a questionnaire item by item on a 360-px phone with real taps: rows
added and moved, a band gap and a risk rule on a missing item refused next to their rows, the
preview, and the save that makes a version. axe-core on each state of the page."""

import re

import pytest
from playwright.sync_api import expect

from opora.accounts.models import Role
from opora.demo.factories import make_district_service, make_user
from opora.surveys.loader import load_shipped
from opora.surveys.models import Instrument, InstrumentVersion

from .conftest import e2e_db, login

pytestmark = e2e_db

PHONE = {"viewport": {"width": 360, "height": 780}, "has_touch": True, "is_mobile": True}


@pytest.fixture
def coordinator(transactional_db):
    load_shipped(Instrument, InstrumentVersion)
    service = make_district_service()
    return make_user(Role.COORDINATOR, service=service, organisation=service.intake_organisation)


@pytest.fixture
def phone(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="ru-RU", **PHONE)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def _fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_a_questionnaire_built_item_by_item_on_a_phone(phone, axe_check, coordinator):
    page = phone
    login(page, coordinator.username)
    page.goto("/staff/surveys/")
    page.locator("#instrument-build-new").tap()
    expect(page.locator("#builder-form")).to_be_visible()
    axe_check(page, where="the builder, new")
    _fits(page)

    page.locator("#f-code").fill("mood-check")
    page.locator("#f-name").fill("Настроение")
    page.locator("#f-item-0-text-ru").fill("Как вы себя чувствуете сегодня?")
    page.locator("#add-item").tap()
    expect(page.locator("#item-1")).to_be_visible()
    page.locator("#f-item-1-text-ru").fill("Хватает ли вам сил на день?")
    # The second item goes first.
    page.locator("#item-1-up").tap()
    expect(page.locator("#f-item-0-number")).to_have_value("2")
    expect(page.locator("#f-item-0-text-ru")).to_have_value("Хватает ли вам сил на день?")
    _fits(page)

    # Two items on 0–3: totals 0–6. One band of 0–4 leaves a gap; a risk rule names item 9.
    page.locator("#add-band").tap()
    page.locator("#f-band-0-code").fill("all")
    page.locator("#f-band-0-min").fill("0")
    page.locator("#f-band-0-max").fill("4")
    page.locator("#f-band-0-label-ru").fill("Все ответы")
    page.locator("#add-risk").tap()
    page.locator("#f-risk-0-item").fill("9")
    page.locator("#builder-save").tap()
    expect(page.locator("#definition-errors")).to_be_visible()
    expect(page.locator("#band-0-errors")).to_contain_text("6")
    expect(page.locator("#risk-0-errors")).to_contain_text("9")
    expect(page.locator("#item-0")).not_to_have_class(re.compile("builder-row--error"))
    axe_check(page, where="the builder with errors by the rows")
    _fits(page)

    # Fixed: the band covers 0–6, the rule names item 1; preview, then save.
    page.locator("#f-band-0-max").fill("6")
    page.locator("#f-risk-0-item").fill("1")
    page.locator("#f-risk-0-above").fill("2")
    page.locator("#builder-preview").tap()
    expect(page.locator("#preview")).to_contain_text("Хватает ли вам сил на день?")
    expect(page.locator("#definition-errors")).to_have_count(0)
    axe_check(page, where="the builder's preview")
    page.locator("#builder-save").tap()
    expect(page).to_have_url(re.compile(r"/staff/surveys/instruments/mood-check/build/(#\w+)?$"))
    expect(page.locator(".message--success")).to_be_visible()
    version = InstrumentVersion.objects.get(instrument__code="mood-check")
    assert [i["number"] for i in version.definition["items"]] == ["2", "1"]
    assert version.definition["risk_rules"][0]["item"] == "1"
    # The saved questionnaire opens in the builder again, and the JSON editor is one tap away.
    expect(page.locator("#f-item-1-text-ru")).to_have_value("Как вы себя чувствуете сегодня?")
    page.locator("#builder-json").tap()
    expect(page.locator("#f-definition")).to_be_visible()
