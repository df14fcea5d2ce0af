"""The operator at the 1411 console, in a real browser (regulation 001 §3–§8): check the caller,
register the request, book the nearest time, read the confirmation; the consultant then sees the
booking on "my day". Every page state is checked with axe-core."""

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from opora.intake.models import RefusalGround, ServiceRequest
from opora.intake.services import request_create
from opora.scheduling.models import Booking
from opora.scheduling.services import booking_create

from .conftest import PARENT_NAME, e2e_db, future_working_day, login, make_slots, synthetic_iin

pytestmark = e2e_db

FULL_NAME = " ".join(PARENT_NAME)
PHONE = "+7 701 123 45 67"
REASON = "Ребёнок тревожится перед школой"


@pytest.fixture
def slot_day(service):
    return future_working_day(service)


@pytest.fixture
def slots(service, consultant, slot_day):
    return make_slots(service, consultant, slot_day)


def check_caller(page, iin: str, full_name: str) -> None:
    form = page.locator("#check-form")
    form.get_by_label("ИИН", exact=True).fill(iin)
    form.get_by_label("ФИО", exact=True).fill(full_name)
    form.locator("#check-button").click()


def test_operator_books_the_nearest_time_and_the_consultant_sees_it(
    page, new_page, axe_check, operator, consultant, registry_parent, slots, slot_day
):
    login(page, operator.username, axe_check=axe_check)
    expect(page).to_have_url(re.compile(r"/operator/$"))
    expect(page.locator("#check-form")).to_be_visible()
    axe_check(page, where="operator console")

    # The IIN and name of an active benefit recipient: the verdict and the script to read.
    check_caller(page, registry_parent.iin, FULL_NAME)
    result = page.locator("#check-result")
    expect(result).to_have_class(re.compile(r"\bverdict--yes\b"))
    expect(page.locator("#check-script .script__text")).not_to_be_empty()
    expect(page.locator("#live")).not_to_be_empty()  # announced to screen readers
    axe_check(page, where="check result (eligible) with the request form")

    # The request form comes pre-filled from the check; the operator adds the rest.
    form = page.locator("#request-form")
    expect(form.locator("#request_full_name")).to_have_value(FULL_NAME)
    expect(form.locator("#request_iin")).to_have_value(registry_parent.iin)
    form.locator("#request_phone").fill(PHONE)
    form.locator("#request_region").select_option(index=1)
    form.locator("#request_reason").fill(REASON)
    axe_check(page, where="request form, filled in")
    form.locator("#request-submit").click()

    # Slot choice: the nearest free time is the first slot of the day.
    expect(page).to_have_url(re.compile(r"/operator/requests/\d+/book/$"))
    service_request = ServiceRequest.objects.get(iin=registry_parent.iin)
    assert service_request.full_name == FULL_NAME
    expect(page.locator("#nearest-slot")).to_contain_text("14:00")
    expect(page.locator(f"#slot-{slots[0].pk}")).to_be_visible()
    axe_check(page, where="slot choice")
    page.locator("#book-nearest").click()

    # Confirmation: what to tell the caller — the date and the time.
    expect(page).to_have_url(re.compile(rf"/operator/requests/{service_request.pk}/confirmation/$"))
    script = page.locator("#confirmation-script")
    expect(script).to_contain_text(f"{slot_day:%d.%m.%Y}")
    expect(script).to_contain_text("14:00")
    expect(page.locator("#booking-done")).to_contain_text("14:00")
    expect(page.locator("#next-call")).to_be_visible()
    axe_check(page, where="booking confirmation")
    booking = Booking.objects.get(request=service_request, status=Booking.Status.ACTIVE)
    assert booking.slot_id == slots[0].pk

    # The consultant, at another desk, opens "my day" for that date.
    desk = new_page()
    login(desk, consultant.username)
    expect(desk).to_have_url(re.compile(r"/consultant/day/"))
    desk.locator("#date-input").fill(f"{slot_day:%Y-%m-%d}")
    desk.locator("#date-input").press("Enter")
    expect(desk).to_have_url(re.compile(rf"date={slot_day:%Y-%m-%d}"))
    row = desk.locator("#day-table tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("14:00–15:00")
    expect(row).to_contain_text(FULL_NAME)
    expect(row).to_contain_text(REASON)
    axe_check(desk, where="consultant's day")


def test_ineligible_caller_hears_the_refusal_and_it_is_recorded(page, axe_check, operator):
    # A well-formed IIN that is in neither registry.
    stranger = synthetic_iin(dt.date(1990, 5, 20), "M", 777)
    login(page, operator.username)
    check_caller(page, stranger, "Иванов Иван Иванович")

    expect(page.locator("#check-result")).to_have_class(re.compile(r"\bverdict--no\b"))
    expect(page.locator("#check-script .script__text")).not_to_be_empty()
    expect(page.locator("#request-form")).to_have_count(0)  # no booking for this caller
    refuse = page.locator("#refuse-form")
    expect(refuse.locator(f"input[value='{RefusalGround.NOT_REGISTERED}']")).to_be_checked()
    axe_check(page, where="check result (not eligible) with the refusal form")

    refuse.locator("#refuse-button").click()
    expect(page).to_have_url(re.compile(r"/operator/$"))
    expect(page.locator(".message--success")).to_be_visible()
    axe_check(page, where="console after the refusal")
    refused = ServiceRequest.objects.get(iin=stranger)
    assert refused.status == ServiceRequest.Status.REFUSED
    assert refused.refusal_ground == RefusalGround.NOT_REGISTERED


def test_malformed_iin_is_explained_next_to_the_field(page, axe_check, operator):
    login(page, operator.username)
    check_caller(page, "12345", "Иванов Иван Иванович")

    iin = page.locator("#check-form").get_by_label("ИИН", exact=True)
    error = page.locator("#id_iin-error")
    expect(error).to_be_visible()
    # The message names the problem: 12 digits are needed, 5 were given.
    expect(error).to_contain_text(re.compile(r"12\D.*\b5\b"))
    expect(iin).to_have_attribute("aria-invalid", "true")
    expect(iin).to_have_attribute("aria-describedby", re.compile(r"\bid_iin-error\b"))
    expect(iin).to_have_value("12345")  # what was typed is kept
    summary_link = page.locator("#check-errors a[href='#id_iin']")
    expect(summary_link).to_be_visible()
    expect(page.locator("#check-result")).to_have_count(0)
    axe_check(page, where="check form with an IIN error")


def test_change_the_time_then_cancel_from_the_request_page(
    page, axe_check, operator, consultant, service, registry_parent, slots, slot_day
):
    service_request = request_create(
        actor=operator, service=service, full_name=FULL_NAME, iin=registry_parent.iin, phone=PHONE
    )
    booking_create(actor=operator, request=service_request, slot=slots[0])
    login(page, operator.username)

    page.goto(f"/operator/requests/{service_request.pk}/")
    expect(page.locator("#active-booking")).to_contain_text("14:00")
    axe_check(page, where="request page with an active booking")

    # Change the time: the day's free times are offered; pick 16:00.
    page.locator("#change-time").click()
    expect(page).to_have_url(re.compile(rf"/operator/requests/{service_request.pk}/book/$"))
    expect(page.locator("#current-booking")).to_contain_text("14:00")
    later = page.locator(f"#slot-{slots[2].pk}")
    expect(page.locator(f"#slot-{slots[0].pk}")).to_have_count(0)  # the booked time is not free
    axe_check(page, where="change the time: slot choice")
    later.check()
    page.locator("#book-selected").click()
    expect(page).to_have_url(re.compile(rf"/operator/requests/{service_request.pk}/confirmation/$"))
    expect(page.locator("#confirmation-script")).to_contain_text(f"{slot_day:%d.%m.%Y}")
    expect(page.locator("#confirmation-script")).to_contain_text("16:00")
    axe_check(page, where="confirmation after the change")

    # Back on the request page: the history shows both bookings; cancel the new one.
    page.locator("#open-request").click()
    expect(page.locator("#active-booking")).to_contain_text("16:00")
    expect(page.locator("#booking-history tbody tr")).to_have_count(2)
    page.locator("#cancel-booking").click()
    expect(page).to_have_url(re.compile(rf"/operator/requests/{service_request.pk}/cancel/$"))
    expect(page.locator("#cancel-what")).to_contain_text("16:00")
    axe_check(page, where="cancel confirmation")

    page.locator("#cancel-confirm").click()  # no reason given: asked for it, nothing cancelled
    expect(page.locator("#cancel-errors")).to_be_visible()
    expect(page.locator("#id_reason")).to_have_attribute("aria-invalid", "true")
    axe_check(page, where="cancel confirmation without a reason")
    assert Booking.objects.filter(request=service_request, status="active").count() == 1

    page.locator("#id_reason").fill("Клиент попросил отменить")
    page.locator("#cancel-confirm").click()
    expect(page).to_have_url(re.compile(rf"/operator/requests/{service_request.pk}/$"))
    expect(page.locator(".message--success")).to_be_visible()
    expect(page.locator("#active-booking")).to_have_count(0)
    expect(page.locator("#booking-history .badge--cancelled")).to_have_count(1)
    expect(page.locator("#booking-history .badge--rescheduled")).to_have_count(1)
    axe_check(page, where="request page after cancelling")
    assert not Booking.objects.filter(request=service_request, status="active").exists()


# Four or more Latin words in a row: an English sentence left untranslated on a Russian page.
ENGLISH_SENTENCE = re.compile(r"[A-Za-z]+(?:[ ,;]+[A-Za-z]+){3,}")


def test_scripts_and_errors_are_in_the_operators_language(
    page, operator, service, registry_parent, slots
):
    """What the operator reads aloud and the errors they see are in Russian on a Russian page."""
    texts = {}
    login(page, operator.username)
    check_caller(page, "12345", FULL_NAME)
    expect(page.locator("#id_iin-error")).to_be_visible()
    texts["IIN error (#id_iin-error)"] = page.locator("#id_iin-error").inner_text()

    check_caller(page, registry_parent.iin, FULL_NAME)
    expect(page.locator("#check-result")).to_have_class(re.compile(r"\bverdict--yes\b"))
    texts["eligibility script (#check-script)"] = page.locator("#check-script").inner_text()

    service_request = request_create(
        actor=operator, service=service, full_name=FULL_NAME, iin=registry_parent.iin, phone=PHONE
    )
    booking_create(actor=operator, request=service_request, slot=slots[0])
    page.goto(f"/operator/requests/{service_request.pk}/confirmation/")
    texts["confirmation script (#confirmation-script)"] = page.locator(
        "#confirmation-script"
    ).inner_text()

    english = {where: text for where, text in texts.items() if ENGLISH_SENTENCE.search(text)}
    assert not english, "English text on a Russian page:\n" + "\n".join(
        f"{where}: {text!r}" for where, text in english.items()
    )
