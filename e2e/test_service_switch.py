"""A staff member of two services switches between them in the header, on a phone and at a desk:
the header names the new service, its queue shows the district service's anonymous portal request,
and the queue can show both services at once. Real clicks; axe-core on every page."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from opora.accounts.models import Role
from opora.core.models import AuditEvent, Service
from opora.demo.factories import make_district_service, make_service_1411, make_user
from opora.intake.services import request_create

from .conftest import e2e_db, login

pytestmark = e2e_db

PHONE = {"viewport": {"width": 360, "height": 780}, "has_touch": True, "is_mobile": True}
DESK = {"viewport": {"width": 1280, "height": 900}}


@pytest.fixture
def services(transactional_db) -> tuple[Service, Service]:
    kz = make_service_1411(eligibility_rule=Service.Eligibility.NONE)
    district = make_district_service(code="mordovia", name="Дистанционное консультирование семей")
    return kz, district


@pytest.fixture
def operator(services):
    kz, district = services
    user = make_user(Role.OPERATOR, service=kz, last_name="Операторова", first_name="Дина")
    user.services.add(district)
    return user


@pytest.fixture
def requests(services, operator):
    kz, district = services
    phoned = request_create(
        actor=operator,
        service=kz,
        full_name="Сидорова Анна Петровна",
        phone="+7 701 000 00 01",
        channel="phone",
    )
    anonymous = request_create(
        actor=None,
        service=district,
        full_name="",
        phone="+7 900 000 00 02",
        is_anonymous=True,
        channel="portal",
        reason="Ребёнок не спит ночами",
    )
    return phoned, anonymous


def _fits(page, width: int) -> None:
    wide = page.evaluate(
        """w => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > w + 1)
        .slice(0, 8).map(e => e.tagName + '#' + e.id + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))""",
        width,
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= width, wide


@pytest.mark.parametrize("device", [PHONE, DESK], ids=["phone-360", "desk-1280"])
def test_operator_of_two_services_switches_and_sees_the_district_queue(
    browser, live_server, axe_check, services, operator, requests, device
):
    kz, district = services
    phoned, anonymous = requests
    width = device["viewport"]["width"]
    context = browser.new_context(base_url=live_server.url, locale="ru-RU", **device)
    try:
        page = context.new_page()
        page.set_default_timeout(10_000)
        login(page, operator.username)
        page.goto(reverse("operator_queue"))

        switcher = page.locator("#service-select")
        expect(switcher).to_have_value(str(kz.pk))
        expect(page.get_by_label("Служба", exact=True)).to_be_visible()
        expect(page.locator(f"#queue-row-{phoned.pk}")).to_be_visible()
        expect(page.locator(f"#queue-row-{anonymous.pk}")).to_have_count(0)
        _fits(page, width)
        axe_check(page, where=f"queue of the 1411 service at {width} px")

        # Switch in the header: choose the district service, press «Перейти».
        switcher.select_option(str(district.pk))
        page.locator("#service-button").click()
        expect(page).to_have_url(re.compile(r"/operator/queue/$"))  # the same page
        expect(page.locator(".message--success")).to_contain_text(district.name)
        expect(page.locator("#service-select")).to_have_value(str(district.pk))
        expect(page.locator("#service-select option:checked")).to_have_text(district.name)
        row = page.locator(f"#queue-row-{anonymous.pk}")
        expect(row).to_contain_text("Анонимно")
        expect(row).to_contain_text(anonymous.public_code)
        expect(row).to_contain_text("Сайт")
        expect(page.locator(f"#queue-row-{phoned.pk}")).to_have_count(0)
        _fits(page, width)
        axe_check(page, where=f"queue of the district service at {width} px")

        # «Все мои службы»: both services in one list, each row names its service.
        page.locator("#id_scope").select_option("all")
        page.locator("#queue-filter-button").click()
        expect(page.locator(f"#queue-row-{phoned.pk}")).to_contain_text(kz.name)
        expect(page.locator(f"#queue-row-{anonymous.pk}")).to_contain_text(district.name)
        _fits(page, width)
        axe_check(page, where=f"queue of all my services at {width} px")

        # The 1411 request opens from the shared list; its page works in the 1411 service.
        page.locator(f"#queue-row-{phoned.pk} a").first.click()
        expect(page).to_have_url(re.compile(rf"/operator/requests/{phoned.pk}/$"))
        expect(page.locator("#service-select")).to_have_value(str(kz.pk))
        expect(page.locator(".messages")).to_contain_text(kz.name)
        _fits(page, width)
        axe_check(page, where=f"request page after the automatic switch at {width} px")
    finally:
        context.close()

    events = AuditEvent.objects.filter(
        event_type="staff.service_chosen", subject_id=str(operator.pk)
    )
    assert [e.extra["via"] for e in events.order_by("pk")] == ["menu", "record"]
    operator.refresh_from_db()
    assert operator.current_service == kz


def test_the_switcher_works_with_the_keyboard(browser, live_server, services, operator):
    kz, district = services
    context = browser.new_context(base_url=live_server.url, locale="ru-RU", **DESK)
    try:
        page = context.new_page()
        page.set_default_timeout(10_000)
        login(page, operator.username)
        page.goto(reverse("operator_console"))
        page.locator("#service-select").focus()
        page.keyboard.press("ArrowDown")  # the next option: the district service
        page.keyboard.press("Tab")
        expect(page.locator("#service-button")).to_be_focused()
        page.keyboard.press("Enter")
        expect(page).to_have_url(re.compile(r"/operator/$"))
        expect(page.locator("#service-select")).to_have_value(str(district.pk))
    finally:
        context.close()
