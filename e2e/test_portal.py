"""The public portal in a real browser: an anonymous request reaches the service, a self-booking
sends the confirmation and lands on the consultant's day, the private link moves and cancels it,
and every portal page passes axe-core in Russian, Kazakh and English."""

import re

import pytest
from django.urls import NoReverseMatch, reverse
from playwright.sync_api import expect

from opora.accounts.models import Role
from opora.demo.factories import make_consultant, make_district_service, make_user
from opora.intake.models import Channel, ServiceRequest
from opora.scheduling.models import Booking
from opora.scheduling.selectors import consultant_day

from .conftest import e2e_db, future_working_day, login, make_slots

pytestmark = e2e_db

EMAIL = "parent-e2e@example.org"


@pytest.fixture
def district(transactional_db):
    return make_district_service()


@pytest.fixture
def district_consultant(district):
    return make_consultant(district, last_name="Психологова", first_name="Вера")


@pytest.fixture
def slot_day(district):
    return future_working_day(district)


@pytest.fixture
def slots(district, district_consultant, slot_day):
    return make_slots(district, district_consultant, slot_day)


def _tile(page, slot):
    """The time tile of `slot`'s start (one tile per time, whoever is free then)."""
    return page.locator(f"#time-{int(slot.starts_at.timestamp())}")


def _set_language(page, lang: str) -> None:
    """Switch with the header's language form, as a person would."""
    page.locator("#language-select").select_option(lang)
    page.locator("#language-button").click()
    expect(page.locator("html")).to_have_attribute("lang", lang)


def test_anonymous_request_reaches_the_service(page, new_page, axe_check, district, slots):
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/s/$"))
    page.get_by_role("link", name=district.name).click()
    page.locator("#anonymous-link").click()
    expect(page.locator("h1")).to_have_text("Анонимное обращение")
    expect(page.locator("input[name=full_name]")).to_have_count(0)

    # Nothing chosen: the error summary gets focus and links to the fields.
    page.locator("#request-submit").click()
    summary = page.locator("#form-errors")
    expect(summary).to_be_focused()
    axe_check(page, where="anonymous request with errors")
    summary.get_by_role("link").first.click()
    expect(page.locator("#id_requester_kind_0")).to_be_focused()

    page.get_by_label("Родитель", exact=True).check()
    page.get_by_label("Возраст ребёнка, полных лет").fill("9")
    page.get_by_label("Образование: детский сад, школа, инклюзивное обучение").check()
    page.locator("#id_reason").fill("Как подготовить ребёнка к школе?")
    page.locator("#request-submit").click()

    expect(page.locator("#received")).to_be_focused()
    code = page.locator("#request-code").inner_text()
    axe_check(page, where="anonymous request received")
    req = ServiceRequest.objects.get(public_code=code)
    assert req.channel == Channel.PORTAL and req.is_anonymous
    assert (req.full_name, req.phone, req.email) == ("", "", "")
    assert req.typical_question == "education" and req.child_age == 9

    page.locator("#private-link").click()
    expect(page.locator("#request-status")).to_have_text("Ожидает рассмотрения")

    try:
        queue_url = reverse("operator_queue")
    except NoReverseMatch:
        return  # the operator's queue page is not there yet
    # An operator of this service sees the anonymous request in the queue, by its code.
    operator = make_user(Role.OPERATOR, service=district, organisation=district.intake_organisation)
    desk = new_page()
    login(desk, operator.username)
    desk.goto(queue_url)
    row = desk.locator("tr", has_text=code)
    expect(row).to_be_visible()
    expect(row).to_contain_text("Анонимно")


@pytest.fixture
def smtp(settings):
    """A real SMTP server (aiosmtpd) that the confirmation goes through."""
    from opora.mail.tests.conftest import SmtpServer, free_port

    server = SmtpServer("127.0.0.1", free_port())
    server.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = server.host, server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield server
    server.stop()


def test_self_booking_confirms_by_email_and_lands_on_the_consultants_day(
    page, axe_check, district, district_consultant, slots, slot_day, smtp
):
    page.goto(f"/s/{district.code}/")
    axe_check(page, where="service page")
    page.locator("#book-link").click()
    page.get_by_label("Ваши фамилия, имя, отчество").fill("Тестова Анна Петровна")
    page.get_by_label("Эл. почта").fill(EMAIL)
    page.get_by_label(
        "Я согласен(на) на обработку моих персональных данных на этих условиях"
    ).check()
    page.locator("#request-submit").click()

    expect(page.locator("h1")).to_have_text("Выбор времени")
    assert not ServiceRequest.objects.exists()  # nothing registered before the time
    axe_check(page, where="choose a time")
    second = slots[1]
    _tile(page, second).check()
    page.locator("#slot-submit").click()

    expect(page.locator(".message--success")).to_be_visible()
    expect(page.locator("#booking-details")).to_contain_text("15:00")
    # A week ahead: the page says when the join button appears rather than showing it now.
    expect(page.locator("#join-later")).to_be_visible()
    expect(page.locator("#join-link")).to_have_count(0)
    axe_check(page, where="private page with a booking")

    booking = Booking.objects.get(status=Booking.Status.ACTIVE)
    assert booking.slot_id == second.pk and booking.request.channel == Channel.PORTAL
    assert [b.pk for b in consultant_day(consultant=district_consultant, date=slot_day)] == [
        booking.pk
    ]
    # Received by the SMTP server, with the booking as an .ics attachment.
    confirmations = [m for m in smtp.received if EMAIL in m["To"]]
    assert len(confirmations) == 1
    letter = confirmations[0]
    assert "15:00" in letter.get_body(preferencelist=("plain",)).get_content()
    (ics_part,) = [p for p in letter.iter_attachments() if p.get_content_type() == "text/calendar"]
    assert b"BEGIN:VEVENT" in ics_part.get_payload(decode=True)

    # The .ics file the page offers.
    ics = page.request.get(page.locator("#ics-link").get_attribute("href"))
    assert ics.ok and b"BEGIN:VEVENT" in ics.body()

    # Move it, then cancel it, through the private link.
    page.locator("#reschedule-link").click()
    _tile(page, slots[2]).check()
    page.locator("#slot-submit").click()
    expect(page.locator("#booking-details")).to_contain_text("16:00")
    page.locator("#cancel-link").click()
    axe_check(page, where="cancel the booking")
    page.locator("#cancel-confirm").click()
    expect(page.locator("#request-status")).to_have_text("Отменена")
    assert not Booking.objects.filter(status=Booking.Status.ACTIVE).exists()


def test_a_slot_taken_meanwhile_is_explained_and_the_list_shown_again(
    new_page, axe_check, district, slots
):
    pages = [new_page(), new_page()]
    for p in pages:
        p.goto(f"/s/{district.code}/book/")
        p.locator("#id_full_name").fill("Тестова Анна Петровна")
        p.locator("#id_email").fill(EMAIL)
        p.locator("#id_consent").check()
        p.locator("#request-submit").click()
        _tile(p, slots[0]).check()
    pages[0].locator("#slot-submit").click()
    expect(pages[0].locator("#booking-details")).to_be_visible()
    pages[1].locator("#slot-submit").click()
    error = pages[1].locator("#choose-error")
    expect(error).to_be_focused()
    expect(error).to_contain_text("Это время больше не свободно")
    expect(_tile(pages[1], slots[0])).to_have_count(0)
    expect(_tile(pages[1], slots[1])).to_be_visible()
    axe_check(pages[1], where="slot taken meanwhile")
    assert ServiceRequest.objects.count() == 1  # the loser left no request behind


@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
def test_every_portal_page_passes_axe(page, axe_check, district, slots, lang):
    page.goto("/s/")
    if lang != "ru":
        _set_language(page, lang)
    axe_check(page, where=f"portal index ({lang})")
    code = district.code
    for path in (f"/s/{code}/", f"/s/{code}/request/", f"/s/{code}/anonymous/", f"/s/{code}/book/"):
        page.goto(path)
        expect(page.locator("html")).to_have_attribute("lang", lang)
        axe_check(page, where=f"{path} ({lang})")

    # The request form with errors, then a named request and its pages.
    page.goto(f"/s/{code}/request/")
    page.locator("#request-submit").click()
    expect(page.locator("#form-errors")).to_be_focused()
    axe_check(page, where=f"request form with errors ({lang})")
    page.locator("#id_full_name").fill("Тестова Анна Петровна")
    page.locator("#id_email").fill(EMAIL)
    page.locator("#id_requester_kind_1").check()
    page.locator("#id_reason").fill("Вопрос")
    page.locator("#id_consent").check()
    page.locator("#request-submit").click()
    expect(page.locator("#request-code")).to_be_visible()
    axe_check(page, where=f"request received ({lang})")
    page.locator("#private-link").click()
    axe_check(page, where=f"private page, new request ({lang})")
    page.locator("#choose-link").click()
    axe_check(page, where=f"choose a time ({lang})")
    _tile(page, slots[0]).check()
    page.locator("#slot-submit").click()
    expect(page.locator("#booking-details")).to_be_visible()
    axe_check(page, where=f"private page, booked ({lang})")
    page.locator("#cancel-link").click()
    axe_check(page, where=f"cancel page ({lang})")

    # Self-booking's step 2 (the draft's time picker) in this language.
    page.goto(f"/s/{code}/book/")
    page.locator("#id_full_name").fill("Тестова Анна Петровна")
    page.locator("#id_email").fill(EMAIL)
    page.locator("#id_consent").check()
    page.locator("#request-submit").click()
    expect(page.locator("#slot-form")).to_be_visible()
    axe_check(page, where=f"self-booking step 2 ({lang})")

    page.goto("/s/r/no-such-link/")
    expect(page.locator("h1")).to_be_visible()
    axe_check(page, where=f"unknown private link ({lang})")
    page.goto("/s/kz-none/anonymous/")
    axe_check(page, where=f"unknown service ({lang})")


def test_unavailable_pages_pass_axe(page, axe_check, district):
    district.allows_self_booking = False
    district.allows_anonymous = False
    district.save()
    for path in (f"/s/{district.code}/book/", f"/s/{district.code}/anonymous/"):
        page.goto(path)
        expect(page.locator("h1")).to_be_visible()
        axe_check(page, where=path)
