"""The consultant's preparation 30 minutes before an online consultation (regulation 002 §4.2),
in Chromium with the fake camera and microphone: opened from the day view, measured, stored; a
failed item offers the failure report, prefilled, which reaches the head."""

import datetime as dt
import re

from playwright.sync_api import expect

from opora.consultations.models import Preparation, TechnicalFailure
from opora.consultations.tests.factories import make_live_consultation

from .conftest import e2e_db, login

pytestmark = e2e_db

DESKTOP = {"width": 1280, "height": 900}


def _open_from_the_day(page, consultant, consultation) -> None:
    """My day → the booking's «Preparation» link (the day of the slot, in the service's zone)."""
    slot = consultation.booking.slot
    local_day = slot.starts_at.astimezone(slot.service.tz).date()
    page.set_viewport_size(DESKTOP)
    login(page, consultant.username)
    page.goto(f"/consultant/day/?date={local_day:%Y-%m-%d}")
    page.locator("#day-table .preparation-link").click()
    expect(page).to_have_url(
        re.compile(rf"/consultant/consultations/{consultation.pk}/preparation/$")
    )
    expect(page.locator("#prep-save")).to_be_enabled(timeout=20_000)


def test_the_check_passes_with_the_fake_devices_and_is_stored(page, axe_check, service, consultant):
    soon = make_live_consultation(service, consultant, starts_in=dt.timedelta(minutes=20))
    page.set_viewport_size(DESKTOP)
    login(page, consultant.username)
    page.goto(f"/consultant/room/{soon.pk}/")
    page.locator("#preparation-link").click()
    expect(page).to_have_url(re.compile(rf"/consultant/consultations/{soon.pk}/preparation/$"))
    expect(page.locator("#prep-save")).to_be_enabled(timeout=20_000)
    expect(page.locator("#camera-result")).to_have_attribute("data-ok", "yes")
    expect(page.locator("#microphone-result")).to_have_attribute("data-ok", "yes")
    expect(page.locator("#network-result")).to_have_attribute("data-ok", "yes")
    axe_check(page, where="the preparation page")
    page.get_by_label("Я прочитал(а) обращение").check()
    page.get_by_label("Я прочитал(а) предыдущие протоколы").check()
    page.locator("#prep-save").click()
    expect(page.locator("#last-check")).to_have_attribute("data-passed", "yes")
    p = Preparation.objects.get()
    assert p.passed and p.camera_ok and p.microphone_ok and p.network_ok
    assert p.rtt_ms is not None and p.download_mbit is not None
    axe_check(page, where="the preparation page with its result")


def test_a_failed_item_offers_the_failure_report(page, axe_check, service, consultant):
    soon = make_live_consultation(service, consultant, starts_in=dt.timedelta(minutes=20))
    # A camera that will not start: the browser refuses the video device.
    page.add_init_script(
        """
        const real = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
        navigator.mediaDevices.getUserMedia = (c) =>
          c && c.video ? Promise.reject(new DOMException("no camera", "NotReadableError")) : real(c);
        """
    )
    _open_from_the_day(page, consultant, soon)
    expect(page.locator("#camera-result")).to_have_attribute("data-ok", "no")
    expect(page.locator("#microphone-result")).to_have_attribute("data-ok", "yes")
    page.get_by_label("Я прочитал(а) обращение").check()
    page.get_by_label("Я прочитал(а) предыдущие протоколы").check()
    page.locator("#prep-save").click()
    expect(page.locator("#last-check")).to_have_attribute("data-passed", "no")
    expect(page.locator("#failure-form")).to_be_visible()
    axe_check(page, where="the preparation page with a failed check")
    expect(page.locator("#failure-form textarea")).to_contain_text("камера")
    page.locator("#failure-button").click()
    expect(page).to_have_url(re.compile(r"/consultant/"))
    failure = TechnicalFailure.objects.get()
    assert failure.consultation_id == soon.pk and failure.state == "reported"
