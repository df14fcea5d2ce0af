"""The month's schedule of planned consultations on the service's page (regulation 003 §3.6,
Appendix 1), as a parent meets it on a phone: the disclosure, the page with topic, target group
and specialist, and the Word document that the page offers — all from the approved schedule."""

import io

import pytest
from docx import Document
from playwright.sync_api import expect

from opora.demo.factories import make_consultant, make_district_service
from opora.journals.catalogue import FORMS
from opora.scheduling.models import SchedulePeriod

from .conftest import e2e_db, future_working_day, make_slots

pytestmark = e2e_db

PHONE = {"viewport": {"width": 360, "height": 780}, "has_touch": True, "is_mobile": True}


@pytest.fixture
def phone_page(browser, live_server):
    context = browser.new_context(
        base_url=live_server.url, locale="ru-RU", accept_downloads=True, **PHONE
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def test_a_parent_reads_the_planned_consultations_and_downloads_the_schedule(
    phone_page, axe_check, transactional_db
):
    page = phone_page
    service = make_district_service()
    consultant = make_consultant(service, last_name="Психологова", first_name="Вера")
    day = future_working_day(service)
    make_slots(service, consultant, day)
    SchedulePeriod.objects.filter(date=day).update(
        topic="Трудное поведение: как реагировать спокойно",
        target_group="Родители детей с расстройствами аутистического спектра",
    )

    page.goto(f"/s/{service.code}/")
    page.locator("#schedule summary").tap()
    link = page.locator(f"#schedule-page-{day:%Y-%m}")
    expect(link).to_be_visible()
    link.tap()
    expect(page.locator("h1")).to_contain_text("График плановых консультаций")
    rows = page.locator("#schedule-rows")
    expect(rows).to_contain_text("Трудное поведение: как реагировать спокойно")
    expect(rows).to_contain_text("Родители детей с расстройствами аутистического спектра")
    expect(rows).to_contain_text("Психологова Вера/консультант")
    expect(rows).to_contain_text(f"{day:%d.%m.%Y}, 14:00–18:00")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    axe_check(page, where="published schedule on a phone")

    with page.expect_download() as download_info:
        page.locator("#schedule-docx").tap()
    document = Document(io.BytesIO(open(download_info.value.path(), "rb").read()))
    table = document.tables[0]
    assert [c.text for c in table.rows[0].cells] == list(FORMS["schedule-003"].columns)
    assert table.rows[1].cells[0].text == "Трудное поведение: как реагировать спокойно"
