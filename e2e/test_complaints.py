"""A complaint from start to answer (regulation 000 §15–19): a parent files it on the portal from a
360-px phone with real taps and gets the number and the follow-up code; the head assigns a
reviewer; the reviewer requests the recording (the 3-working-day clock shows) and answers; the
parent reads the answer on the follow-up page. axe-core is clean on every page."""

import pytest
from playwright.sync_api import expect

from e2e.conftest import e2e_db, login
from opora.accounts.models import Role
from opora.complaints.models import Complaint
from opora.consultations.models import Recording, RecordingRelease
from opora.consultations.tests.factories import make_live_consultation
from opora.demo.factories import make_consultant, make_service_1411, make_user
from opora.intake.models import ServiceRequest
from opora.notifications.models import Notification

pytestmark = [e2e_db]

PHONE = {"viewport": {"width": 360, "height": 780}, "has_touch": True, "is_mobile": True}


@pytest.fixture
def case(transactional_db):
    service = make_service_1411()
    consultant = make_consultant(service)
    consultation = make_live_consultation(service, consultant)
    ServiceRequest.objects.filter(pk=consultation.booking.request_id).update(
        public_code="ABCD-2345", phone="+77015550101"
    )
    Recording.objects.create(
        consultation=consultation,
        started_by=consultant,
        policy="notice",
        status="finished",
        key_id="k",
        wrapped_key=b"x",
    )
    head = make_user(Role.HEAD, service=service, organisation=service.provider_organisation)
    reviewer = make_user(
        Role.HEAD,
        service=service,
        organisation=service.provider_organisation,
        last_name="Проверяющая",
        first_name="Анна",
    )
    return service, head, reviewer


@pytest.fixture
def phone(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="ru-RU", **PHONE)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def _fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_parent_complains_and_reads_the_answer(phone, new_page, axe_check, case):
    service, head, reviewer = case

    # The parent, on a phone: from the service's page to the complaint form.
    phone.goto(f"/s/{service.code}/")
    phone.locator("#complaints summary").tap()
    phone.locator("#complaint-link").tap()
    expect(phone.locator("h1")).to_have_text("Жалоба")
    expect(phone.locator("#complaint-law")).to_contain_text("Клиент имеет право подать жалобу")
    _fits(phone)
    axe_check(phone, where="complaint form")

    # A code that is not theirs: a refusal that says nothing about the code.
    phone.get_by_label("Телефон").fill("+7 701 555 01 01")
    phone.get_by_label("Ваши фамилия, имя, отчество").fill("Тестова Мария")
    phone.get_by_label("Код заявки (необязательно)").fill("ZZZZ-9999")
    phone.get_by_label("О чём жалоба").fill("Консультант прервал разговор.")
    phone.locator("#id_consent").tap()
    phone.locator("#complaint-submit").tap()
    expect(phone.locator("#refusal")).to_be_visible()
    _fits(phone)
    axe_check(phone, where="complaint refused code")
    assert Complaint.objects.count() == 0

    phone.get_by_label("Код заявки (необязательно)").fill("ABCD-2345")
    if not phone.locator("#id_consent").is_checked():
        phone.locator("#id_consent").tap()
    phone.locator("#complaint-submit").tap()
    expect(phone.locator("#complaint-number")).to_contain_text("Ж-")
    number = phone.locator("#complaint-number").inner_text().strip()
    code = phone.locator("#follow-code").inner_text().strip()
    assert len(code.replace("-", "")) == 16
    _fits(phone)
    axe_check(phone, where="complaint registered")
    complaint = Complaint.objects.get()
    assert complaint.number == number and complaint.consultation_id is not None

    # The head assigns a reviewer.
    desk = new_page()
    login(desk, head.username)
    desk.goto("/complaints/")
    axe_check(desk, where="complaints list")
    desk.get_by_role("link", name=number).click()
    axe_check(desk, where="complaint, head")
    desk.get_by_role("combobox", name="Проверяющий").select_option(str(reviewer.pk))
    desk.locator("#assign-submit").click()
    expect(desk.locator("#complaint-reviewer")).to_contain_text("Проверяющая")

    # The reviewer requests the recording and answers.
    other = new_page()
    login(other, reviewer.username)
    other.goto(f"/complaints/{complaint.pk}/")
    expect(other.locator("#case-consultation")).to_be_visible()
    other.locator("#recording-submit").click()
    expect(other.locator("#recording-clock")).to_contain_text("рабоч")
    axe_check(other, where="complaint, reviewer")
    other.get_by_label("Ответ заявителю").fill("Запись проверена; консультант получил замечание.")
    other.locator("#answer-submit").click()
    expect(other.locator("#complaint-answer")).to_contain_text("Запись проверена")
    axe_check(other, where="complaint answered")
    assert RecordingRelease.objects.filter(complaint_ref=number).count() == 1
    assert Notification.objects.filter(
        subject_type="complaints.complaint", subject_id=str(complaint.pk), channel="sms"
    ).exists()

    # The parent reads the answer by the code.
    phone.locator("#follow-page-link").tap()
    expect(phone.locator("#follow-form")).to_be_visible()
    axe_check(phone, where="follow-up form")
    phone.get_by_label("Код для отслеживания").fill(code.lower())
    phone.locator("#follow-submit").tap()
    expect(phone.locator("#complaint-answer")).to_contain_text("Запись проверена")
    expect(phone.locator("#complaint-status-value")).to_have_text("Отвечено")
    _fits(phone)
    axe_check(phone, where="follow-up page with the answer")


@pytest.mark.parametrize("locale", ["kk-KZ", "en-GB"])
def test_complaint_pages_in_kazakh_and_english_pass_axe(browser, live_server, axe_check, locale):
    service = make_service_1411()
    context = browser.new_context(base_url=live_server.url, locale=locale, **PHONE)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        page.goto(f"/s/{service.code}/complaint/")
        page.locator("#complaint-submit").tap()
        expect(page.locator("#form-errors")).to_be_visible()
        _fits(page)
        axe_check(page, where=f"complaint form with errors ({locale})")
        page.goto(f"/s/{service.code}/complaint/follow/")
        page.locator("#id_code").fill("AAAA-BBBB-CCCC-DDDD")
        page.locator("#follow-submit").tap()
        expect(page.locator("#follow-not-found")).to_be_visible()
        _fits(page)
        axe_check(page, where=f"follow-up, unknown code ({locale})")
    finally:
        context.close()
