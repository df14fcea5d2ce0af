"""The coordinator's, the head's and everyone's pages in a real browser: schedules (entered by hand
and imported from Excel), the daily hand-off, approval, the 403 page and the language switch.
Every page state is checked with axe-core."""

import datetime as dt
import re

import openpyxl
import pytest
from django.core import mail
from playwright.sync_api import expect

from opora.intake.services import request_create
from opora.scheduling.calendar import local_now, make_aware_local, working_days_in_month
from opora.scheduling.models import Schedule, Slot
from opora.scheduling.services import schedule_save, schedule_submit

from .conftest import PARENT_NAME, e2e_db, login

pytestmark = e2e_db


@pytest.fixture
def month(service) -> dt.date:
    """Next month of the service's local calendar: every day of it is in the future."""
    today = local_now(service).date()
    return (today.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


@pytest.fixture
def first_day(service, month) -> dt.date:
    return working_days_in_month(service, month)[0]


def test_coordinator_enters_a_schedule_error_first_then_saves(
    page, axe_check, coordinator, consultant, month, first_day
):
    login(page, coordinator.username)
    page.goto(f"/coordinator/schedules/?month={month:%Y-%m}")
    row = page.locator(f"#consultant-{consultant.pk}")
    expect(row.locator(".badge--none")).to_be_visible()  # no schedule yet
    axe_check(page, where="schedules of the month")

    row.get_by_role("link").first.click()
    expect(page).to_have_url(re.compile(rf"/coordinator/schedules/{consultant.pk}/{month:%Y-%m}/$"))
    start = page.locator(f"#id_d{first_day:%Y%m%d}_from")
    expect(start).to_have_value("14:00")  # the consultation hours are suggested
    axe_check(page, where="schedule form")

    # 12:00 is before the consultation hours (14–18): the whole month is refused, with the reason.
    start.fill("12:00")
    page.locator("#schedule-save").click()
    errors = page.locator("#schedule-errors")
    expect(errors).to_be_visible()
    expect(errors).to_contain_text(f"{first_day:%d.%m.%Y}")
    expect(errors).to_contain_text("12:00")
    expect(errors).to_contain_text("14:00")
    expect(start).to_have_value("12:00")  # what was typed is kept
    axe_check(page, where="schedule form with an error")
    assert not Schedule.objects.filter(consultant=consultant, month=month).exists()

    start.fill("14:00")
    page.locator("#schedule-save").click()
    expect(page).to_have_url(re.compile(rf"/coordinator/schedules/\?month={month:%Y-%m}$"))
    expect(page.locator(".message--success")).to_be_visible()
    expect(page.locator(f"#consultant-{consultant.pk} .badge--draft")).to_be_visible()
    axe_check(page, where="schedules after saving")
    schedule = Schedule.objects.get(consultant=consultant, month=month)
    assert schedule.status == Schedule.Status.DRAFT
    assert schedule.periods.filter(date=first_day, start_time=dt.time(14)).exists()


def test_xlsx_import_with_bad_rows_lists_every_row_error(
    page, axe_check, coordinator, consultant, month, first_day, tmp_path
):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Консультант", "Дата", "С", "До"])
    sheet.append(["Неизвестный Консультант", f"{first_day:%d.%m.%Y}", "14:00", "18:00"])
    sheet.append([consultant.username, "31.02.2026", "14:00", "18:00"])
    sheet.append([consultant.username, f"{first_day:%d.%m.%Y}", "25:00", "18:00"])
    bad_file = tmp_path / "schedule.xlsx"
    workbook.save(bad_file)

    login(page, coordinator.username)
    page.goto(f"/coordinator/schedules/?month={month:%Y-%m}")
    form = page.locator("#import-form")
    expect(form.locator("#id_month")).to_have_value(f"{month:%Y-%m}")
    form.locator("#id_file").set_input_files(bad_file)
    form.locator("#import-button").click()

    errors = page.locator("#import-errors")
    expect(errors).to_be_visible()
    items = errors.locator("li")
    expect(items).to_have_count(3)
    expect(items.nth(0)).to_contain_text("2")
    expect(items.nth(0)).to_contain_text("Неизвестный Консультант")
    expect(items.nth(1)).to_contain_text("3")
    expect(items.nth(1)).to_contain_text("31.02.2026")
    expect(items.nth(2)).to_contain_text("4")
    expect(items.nth(2)).to_contain_text("25:00")
    axe_check(page, where="import with row errors")
    assert not Schedule.objects.filter(consultant=consultant).exists()  # nothing half-imported


def test_handoff_lists_the_days_requests_and_sends_them_now(
    page, axe_check, coordinator, operator, service, registry_parent
):
    full_name = " ".join(PARENT_NAME)
    req = request_create(
        actor=operator,
        service=service,
        full_name=full_name,
        iin=registry_parent.iin,
        phone="+7 701 123 45 67",
    )
    today = local_now(service).date()
    # Registered before the operators' 17:00 close whatever the hour of the run (issue 11).
    type(req).objects.filter(pk=req.pk).update(
        created_at=make_aware_local(service, today, dt.time(0, 1))
    )
    login(page, coordinator.username)
    page.goto(f"/coordinator/handoff/?date={today:%Y-%m-%d}")
    expect(page.locator("#handoff-table tbody tr")).to_have_count(1)
    expect(page.locator("#handoff-table")).to_contain_text(full_name)
    expect(page.locator("#handoff-status .badge--none")).to_be_visible()
    axe_check(page, where="hand-off, not sent")

    page.locator("#handoff-send").click()
    expect(page.locator(".message--success")).to_contain_text(service.handoff_email)
    expect(page.locator("#handoff-status .badge--approved")).to_be_visible()
    expect(page.locator("#handoff-send")).to_have_count(0)  # sent once; no second button
    axe_check(page, where="hand-off, sent")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [service.handoff_email]
    assert [a[0] for a in message.attachments] == [f"requests-{today:%Y-%m-%d}.xlsx"]


def test_head_approves_a_submitted_schedule(
    page, axe_check, head, coordinator, consultant, service, month, first_day
):
    schedule = schedule_save(
        actor=coordinator,
        service=service,
        consultant=consultant,
        month=month,
        periods=[(first_day, dt.time(14), dt.time(18))],
    )
    schedule_submit(actor=coordinator, schedule=schedule)

    login(page, head.username)
    expect(page).to_have_url(re.compile(r"/head/schedules/$"))
    section = page.locator(f"#schedule-{schedule.pk}")
    expect(section.locator("tbody tr")).to_have_count(1)
    expect(section).to_contain_text("14:00")
    axe_check(page, where="schedules for approval")

    page.locator(f"#approve-{schedule.pk}").click()
    expect(page.locator(".message--success")).to_be_visible()
    expect(page.locator("#nothing-to-approve")).to_be_visible()
    axe_check(page, where="approvals after approving")
    schedule.refresh_from_db()
    assert schedule.status == Schedule.Status.APPROVED
    assert schedule.approved_by == head
    assert Slot.objects.filter(schedule=schedule).count() == 4  # 14–18, one hour each


def test_wrong_role_gets_the_403_page(page, axe_check, operator):
    login(page, operator.username)
    response = page.goto("/head/schedules/")
    assert response is not None and response.status == 403
    expect(page.locator("h1")).to_be_visible()
    expect(page.locator("#go-home")).to_be_visible()
    expect(page.locator("button[id^=approve-]")).to_have_count(0)
    axe_check(page, where="403 page")

    page.locator("#go-home").click()
    expect(page).to_have_url(re.compile(r"/operator/$"))


@pytest.mark.parametrize("language", ["en", "kk"])
def test_language_switch(page, axe_check, operator, language):
    login(page, operator.username)
    heading = page.locator("h1")
    russian = heading.inner_text()
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    page.locator("#language-select").select_option(language)
    page.locator("#language-button").click()
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page).to_have_url(re.compile(r"/operator/$"))  # back on the same page
    expect(page.locator("#language-select")).to_have_value(language)
    axe_check(page, where=f"operator console in {language}")
    # WCAG 3.1.1: a page that says lang="kk" (or "en") must be written in that language.
    assert heading.inner_text() != russian, f"the page says lang={language!r} but is in Russian"
    if language == "en":
        expect(heading).to_have_text("Operator console")
