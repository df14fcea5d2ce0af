"""Issue 12 in a real browser, on a 360-px phone: the operator registers a request with a topic and
sees the competent consultant's times first with the reason; the coordinator records a change of
the responsible person (regulation 001 §10); an anonymous call. axe-core on every new page."""

import re

import pytest
from playwright.sync_api import expect

from opora.accounts.models import Language, ResponsiblePerson, Specialty
from opora.demo.factories import make_consultant
from opora.intake.models import ServiceRequest

from .conftest import PASSWORD, e2e_db, future_working_day, make_slots

pytestmark = e2e_db


@pytest.fixture
def open_service(service):
    # No registry check, anonymity allowed: the request form is on the console at once.
    service.eligibility_rule = "none"
    service.allows_anonymous = True
    service.save()
    return service


@pytest.fixture
def phone(browser, live_server):
    context = browser.new_context(
        base_url=live_server.url,
        locale="ru-RU",
        viewport={"width": 360, "height": 780},
        has_touch=True,
        is_mobile=True,
    )
    p = context.new_page()
    p.set_default_timeout(10_000)
    yield p
    context.close()


def sign_in(page, username):
    page.goto("/login/")
    form = page.locator("#login-form")
    form.get_by_label("Имя пользователя").fill(username)
    form.get_by_label("Пароль").fill(PASSWORD)
    form.get_by_role("button", name="Вход").click()
    expect(page.locator("#logout-button")).to_be_visible()


def fits(page):
    wide = page.evaluate(
        """() => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > 361)
        .slice(0, 5).map(e => e.tagName + '#' + e.id + '.' + e.className)"""
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, wide


def test_the_competent_consultant_comes_first_with_the_reason(
    phone, axe_check, operator, open_service
):
    day = future_working_day(open_service)
    # By name Абаева would be first; Ведова is the lawyer who speaks Kazakh.
    other = make_consultant(open_service, last_name="Абаева", first_name="Ася")
    lawyer = make_consultant(open_service, last_name="Ведова", first_name="Вера")
    lawyer.specialties.add(Specialty.objects.get_or_create(topic="7")[0])
    lawyer.languages.add(Language.objects.get_or_create(code="kk")[0])
    make_slots(open_service, other, day, hours=(14, 15))
    lawyer_slots = make_slots(open_service, lawyer, day, hours=(14, 15))

    sign_in(phone, operator.username)
    phone.goto("/operator/")
    form = phone.locator("#request-form")
    form.locator("#request_full_name").fill("Смагулова Дина Ерлановна")
    form.locator("#request_phone").fill("+7 701 222 33 44")
    form.locator("#request_reason").fill("Вопрос о пособии")
    form.locator("#request_topic").select_option("7")
    form.locator("#request_language").select_option("kk")
    axe_check(phone, where="request form with topic and language")
    form.locator("#request-submit").click()

    expect(phone).to_have_url(re.compile(r"/operator/requests/\d+/book/$"))
    first = phone.locator("#slot-grid tbody tr").first
    expect(first.locator("th")).to_contain_text("Ведова")
    reason = first.locator(".slot-grid__reason")
    expect(reason).to_contain_text("специализация: 7.")
    expect(reason).to_contain_text("язык: казахский")
    expect(phone.locator("#slot-grid tbody tr").nth(1).locator(".slot-grid__reason")).to_have_count(
        0
    )
    axe_check(phone, where="slot choice with the competent consultant first")
    fits(phone)  # the grid scrolls sideways inside its box, never the page
    phone.locator(f"label[for='slot-{lawyer_slots[1].pk}']").click()
    phone.locator("#book-selected").click()
    expect(phone).to_have_url(re.compile(r"/operator/requests/\d+/confirmation/$"))
    request = ServiceRequest.objects.get()
    assert request.topic == "7" and request.bookings.get().slot.consultant == lawyer


def test_an_anonymous_call_keeps_its_code(phone, axe_check, operator, open_service):
    sign_in(phone, operator.username)
    phone.goto("/operator/")
    form = phone.locator("#request-form")
    form.locator("#request_is_anonymous").click()
    form.locator("#request_phone").fill("+7 701 222 33 45")
    form.locator("#request-submit").click()
    expect(phone).to_have_url(re.compile(r"/operator/requests/\d+/book/$"))
    request = ServiceRequest.objects.get()
    assert request.is_anonymous and request.client_id is None
    phone.goto(f"/operator/requests/{request.pk}/")
    expect(phone.locator("#request-name")).to_contain_text("Аноним")
    expect(phone.locator("#request-code")).to_have_text(request.public_code)
    axe_check(phone, where="anonymous request page")


def test_the_coordinator_records_a_change_of_the_responsible_person(
    phone, axe_check, coordinator, service
):
    service.provider_organisation.email = "university@example.org"
    service.provider_organisation.save()
    sign_in(phone, coordinator.username)
    fits(phone)
    phone.locator("#link-responsible").click()
    expect(phone.locator("h1")).to_have_text("Ответственные лица")
    axe_check(phone, where="responsible persons, empty")
    fits(phone)
    form = phone.locator("#responsible-form")
    form.locator("#id_side").select_option("intake")
    form.locator("#id_full_name").fill("Жумабекова Алия Сериковна")
    form.locator("#id_position").fill("Начальник отдела")
    form.locator("#id_email").fill("aliya@example.org")
    form.locator("#responsible-save").click()
    expect(phone.locator("#side-intake .responsible-name")).to_have_text(
        "Жумабекова Алия Сериковна"
    )
    expect(phone.locator("#responsible-history tbody tr")).to_have_count(1)
    axe_check(phone, where="responsible persons with a record")
    fits(phone)
    person = ResponsiblePerson.objects.get()
    assert person.valid_to is None and not person.is_late
