"""Every form of help, in the browser (issue 12), on a 360-px phone screen: the operator registers
a walk-in and starts help now in a room; the consultant marks it held and writes the protocol. A
consultant takes up an e-mail thread, answers with a file, closes it with a protocol, and the row
appears in the journal. axe-core checks every new page."""

import re

import pytest
from playwright.sync_api import expect

from .conftest import PARENT_NAME, PASSWORD, e2e_db

pytestmark = e2e_db

PHONE_SCREEN = {
    "viewport": {"width": 360, "height": 780},
    "has_touch": True,
    "is_mobile": True,
    "locale": "ru-RU",
}
FULL_NAME = " ".join(PARENT_NAME)


@pytest.fixture
def phone(browser, live_server):
    from playwright.sync_api import expect as expect_

    expect_.set_options(timeout=10_000)
    contexts = []

    def open_page():
        context = browser.new_context(base_url=live_server.url, **PHONE_SCREEN)
        contexts.append(context)
        p = context.new_page()
        p.set_default_timeout(10_000)
        return p

    yield open_page
    for context in contexts:
        context.close()


def sign_in(page, username: str) -> None:
    page.goto("/login/")
    form = page.locator("#login-form")
    form.get_by_label("Имя пользователя").fill(username)
    form.get_by_label("Пароль").fill(PASSWORD)
    form.locator("button[type=submit]").click()
    expect(page.locator("#logout-button")).to_be_attached()


def fits(page) -> None:
    wide = page.evaluate(
        """() => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > 361)
        .slice(0, 5).map(e => e.tagName + '#' + e.id + '.' + e.className)"""
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, wide


def write_protocol(page, *, in_person: bool) -> None:
    form = page.locator("#protocol-form")
    form.locator("#id_reason").fill("Ребёнок тревожится перед школой")
    form.locator("#id_topic").select_option("5")
    form.locator("#id_solution").fill("Постепенное знакомство со школой")
    form.locator("input[name=kind][value=primary]").click()
    if in_person:
        form.locator("#id_duration_minutes").fill("40")
        form.locator("#id_child_present").select_option("false")
    form.locator("button[type=submit]").click()


def test_walk_in_held_in_person(phone, axe_check, service, operator, consultant, registry_parent):
    from opora.consultations.models import Consultation, Protocol
    from opora.intake.models import ServiceRequest
    from opora.scheduling.models import Place

    Place.objects.create(service=service, name="Кабинет 1", address="ул. Тестовая, 1")
    page = phone()
    sign_in(page, operator.username)
    expect(page).to_have_url(re.compile(r"/operator/$"))
    check = page.locator("#check-form")
    check.get_by_label("ИИН", exact=True).fill(registry_parent.iin)
    check.get_by_label("ФИО", exact=True).fill(FULL_NAME)
    check.locator("#check-button").click()
    expect(page.locator("#check-result")).to_have_class(re.compile(r"\bverdict--yes\b"))
    form = page.locator("#request-form")
    expect(form.locator("#request_full_name")).to_have_value(FULL_NAME)
    form.locator("#request_phone").fill("+7 701 123 45 67")
    form.locator("#request_reason").fill("Пришла без записи")
    form.locator("#id_walk_in").click()
    axe_check(page, where="request form with the walk-in box")
    form.locator("#request-submit").click()

    expect(page).to_have_url(re.compile(r"/consultations/now/\d+/$"))
    expect(page.locator("#id_form")).to_have_value("in_person")
    fits(page)
    axe_check(page, where="help now")
    page.locator("#id_place").select_option(label="Кабинет 1")
    page.locator("#start-now-form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/operator/requests/\d+/$"))

    request = ServiceRequest.objects.get(iin=registry_parent.iin)
    assert request.channel == "in_person"
    consultation = Consultation.objects.get(booking__request=request)
    assert consultation.form == "in_person" and consultation.booking.place.name == "Кабинет 1"

    cons = phone()
    sign_in(cons, consultant.username)
    cons.goto(f"/consultant/room/{consultation.pk}/")  # no room: the face-to-face page
    expect(cons).to_have_url(
        re.compile(rf"/consultant/consultations/{consultation.pk}/in-person/$")
    )
    expect(cons.locator("#face-to-face-facts")).to_contain_text("Кабинет 1")
    fits(cons)
    axe_check(cons, where="face-to-face consultation")
    cons.locator("#held-form button[value=yes]").click()
    expect(cons).to_have_url(re.compile(r"/protocol/$"))
    axe_check(cons, where="protocol of an in-person consultation")
    # Without the fields its form needs, the protocol is refused with the field named.
    form = cons.locator("#protocol-form")
    form.locator("#id_reason").fill("Ребёнок тревожится перед школой")
    form.locator("#id_topic").select_option("5")
    form.locator("#id_solution").fill("Постепенное знакомство со школой")
    form.locator("input[name=kind][value=primary]").click()
    form.locator("button[type=submit]").click()
    expect(cons.locator("#id_duration_minutes")).to_have_attribute("aria-invalid", "true")
    assert not Protocol.objects.exists()
    write_protocol(cons, in_person=True)
    expect(cons).to_have_url(re.compile(r"/consultations/journal/"))
    expect(cons.locator("main")).to_contain_text("очно")
    request.refresh_from_db()
    assert request.status == ServiceRequest.Status.DONE
    assert Protocol.objects.get().duration_minutes == 40


@pytest.fixture
def smtp(settings, tmp_path):
    from opora.mail.tests.conftest import SmtpServer, free_port

    settings.MEDIA_ROOT = tmp_path / "media"
    server = SmtpServer("127.0.0.1", free_port())
    server.start()
    yield server
    server.stop()


def test_email_thread_taken_up_answered_with_a_file_and_journaled(phone, axe_check, smtp, tmp_path):
    from opora.accounts.models import Role
    from opora.demo.factories import make_user
    from opora.mail.services import inbound_store
    from opora.mail.tests.factories import make_letter, make_mailbox, make_written_service

    service = make_written_service()
    consultant = make_user(Role.CONSULTANT, service=service)
    mailbox = make_mailbox(service, smtp=smtp, consultant=consultant)
    letter, _ = inbound_store(
        mailbox=mailbox,
        raw=make_letter(message_id="<forms@example.org>", subject="Вопрос о школе").as_bytes(),
    )
    request = letter.request
    leaflet = tmp_path / "pamyatka.txt"
    leaflet.write_text("Памятка для родителей (синтетическая)", encoding="utf-8")

    page = phone()
    sign_in(page, consultant.username)
    page.goto(f"/mail/written/{request.pk}/")
    page.locator("#take-up").click()
    expect(page.locator("#close-written")).to_be_visible()
    fits(page)
    axe_check(page, where="thread taken up as a consultation")
    page.locator("#id_body").fill("Памятка во вложении; положение: https://example.org/inclusion")
    page.locator("#id_file").set_input_files(str(leaflet))
    page.locator("#send-answer").click()
    expect(page.locator(".answer-files")).to_contain_text("pamyatka.txt")
    assert [p.get_filename() for p in smtp.received[0].iter_attachments()] == ["pamyatka.txt"]
    page.locator("#close-written").click()
    expect(page).to_have_url(re.compile(r"/protocol/$"))
    expect(page.locator("#protocol-form-of-help")).to_be_visible()
    axe_check(page, where="protocol of a written consultation")
    write_protocol(page, in_person=False)
    expect(page).to_have_url(re.compile(r"/consultations/journal/"))
    expect(page.locator("main")).to_contain_text("по электронной почте")
    axe_check(page, where="journal with a written consultation")
