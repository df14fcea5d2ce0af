"""The dashboards in a browser: the head at a desk (1280 px) and on a phone (360 px) reads the
pictures, their tables and the list behind a missed target, and downloads a chart's data; the
authority sees the same figures and no person anywhere. axe-core on every view."""

import csv
import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from opora.accounts.models import Role
from opora.demo.factories import make_consultant, make_service_1411, make_user
from opora.intake.models import Client, ServiceRequest
from opora.scheduling.models import Booking

from .conftest import e2e_db, login, make_slots

pytestmark = [e2e_db]

PHONE = {"viewport": {"width": 360, "height": 780}, "has_touch": True, "is_mobile": True}
NAME = "Жұмабаева"
IIN = "880314400123"
PHONE_NUMBER = "+77015550177"


@pytest.fixture
def dash(transactional_db):
    service = make_service_1411()
    consultant = make_consultant(service, last_name="Консультантова")
    person = Client.objects.create(
        last_name=NAME, first_name="Әйгерім", iin=IIN, phone=PHONE_NUMBER
    )
    today = timezone.localdate()
    late = None
    for n, channel in enumerate(("phone", "phone", "email", "portal")):
        r = ServiceRequest.objects.create(
            service=service,
            client=person,
            full_name=f"{NAME} Әйгерім",
            iin=IIN,
            phone=PHONE_NUMBER,
            channel=channel,
            public_code=f"DASH-{n}",
        )
        created = timezone.now() - dt.timedelta(days=20 - n)
        ServiceRequest.objects.filter(pk=r.pk).update(created_at=created)
        if n == 0:
            late = r
    # The first request is booked on its 13th day: a late booking, a missed 10-day target.
    slot = make_slots(service, consultant, today + dt.timedelta(days=3), hours=(15,))[0]
    booking = Booking.objects.create(slot=slot, request=late)
    Booking.objects.filter(pk=booking.pk).update(created_at=timezone.now() - dt.timedelta(days=7))
    head = make_user(Role.HEAD, service=service, organisation=service.provider_organisation)
    authority = make_user(Role.AUTHORITY, organisation=service.authority)
    return service, head, authority


@pytest.fixture
def phone(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="ru-RU", **PHONE)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def _pictures_and_tables(page) -> None:
    expect(page.locator("h1")).to_have_text("Показатели")
    expect(page.locator("#chart-per-channel svg[role='img']")).to_be_visible()
    expect(page.locator("#chart-per-channel-summary")).to_contain_text("Больше всего заявок")
    expect(page.locator("#chart-per-channel table")).to_contain_text("Телефон")
    expect(page.locator("#sla-service_days")).to_contain_text("10 календарных дней")


def test_the_head_reads_the_dashboards_and_the_misses(page, axe_check, dash):
    service, head, _authority = dash
    page.set_viewport_size({"width": 1280, "height": 900})
    login(page, head.username)
    page.get_by_role("link", name="Показатели").first.click()
    _pictures_and_tables(page)
    page.locator("#misses-service_days summary").click()
    expect(page.locator("#misses-service_days")).to_contain_text("DASH-0")
    axe_check(page, where="dashboards (head, desk)")
    with page.expect_download() as info:
        page.locator("#export-per-channel-csv").click()
    with open(info.value.path(), encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["Канал", "Заявки"]
    assert ["Телефон", "2"] in rows


def test_the_head_on_a_phone(phone, axe_check, dash):
    service, head, _authority = dash
    login(phone, head.username)
    phone.goto("/dashboards/")
    _pictures_and_tables(phone)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    axe_check(phone, where="dashboards (head, phone)")


@pytest.mark.parametrize("width", [1280, 360])
def test_the_authority_sees_figures_and_no_person(browser, live_server, axe_check, dash, width):
    service, _head, authority = dash
    options = PHONE if width == 360 else {"viewport": {"width": 1280, "height": 900}}
    context = browser.new_context(base_url=live_server.url, locale="ru-RU", **options)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        login(page, authority.username)
        page.goto("/dashboards/")
        _pictures_and_tables(page)
        expect(page.locator("#misses-service_days")).to_have_count(0)
        text = page.locator("body").inner_text()
        for secret in (NAME, IIN, PHONE_NUMBER, "DASH-0", "Консультантова"):
            assert secret not in text
        if width == 360:
            assert page.evaluate("document.documentElement.scrollWidth") <= 360
        axe_check(page, where=f"dashboards (authority, {width} px)")
    finally:
        context.close()
