"""The staff page of events on a 360-px phone (issue 14): the head creates a weekly series with
real taps, a past date is refused beside its field, an event is edited and cancelled (its
participant told through the outbox); axe-core on every page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from opora.events import services
from opora.events.models import Event
from opora.notifications.models import Notification

from .conftest import e2e_db, login

pytestmark = e2e_db

PHONE = {"viewport": {"width": 360, "height": 780}, "has_touch": True, "is_mobile": True}


@pytest.fixture
def phone_page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="ru-RU", **PHONE)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_head_creates_a_series_edits_and_cancels_an_event(
    phone_page, axe_check, service, head, consultant
):
    page = phone_page
    login(page, head.username)
    page.goto("/staff/events/")
    expect(page.locator("#no-coming")).to_be_visible()
    fits(page)
    axe_check(page, where="staff events list, empty")
    page.locator("#new-event").click()
    expect(page.locator("#event-form")).to_be_visible()
    fits(page)
    axe_check(page, where="new event form")

    page.locator("#id_kind").select_option("webinar")
    page.locator("#id_title_ru").fill("Вебинар о сне")
    page.locator("#id_starts_at").fill("2020-01-01T10:00")
    page.locator("#id_capacity").fill("25")
    page.locator("#event-save").click()
    # The past date is named beside its field, in the error summary too.
    expect(page.locator("#form-errors")).to_be_visible()
    expect(page.locator("#id_starts_at")).to_have_attribute("aria-invalid", "true")
    axe_check(page, where="new event form with an error")
    assert not Event.objects.exists()

    day = timezone.localtime(timezone.now(), service.tz).date() + dt.timedelta(days=2)
    page.locator("#id_starts_at").fill(f"{day.isoformat()}T18:30")
    page.locator("#id_repeat").select_option("weekly")
    page.locator("#id_count").fill("3")
    page.locator("#event-save").click()
    expect(page.locator("#open-room")).to_be_visible()
    assert Event.objects.filter(title_ru="Вебинар о сне").count() == 3
    first = Event.objects.order_by("starts_at").first()
    fits(page)
    axe_check(page, where="staff event page")

    services.registration_create(
        actor=None, event=first, full_name="Тестова Дана", email="dana@example.org"
    )
    page.locator("#edit-event").click()
    expect(page.locator("#id_title_ru")).to_have_value("Вебинар о сне")
    axe_check(page, where="edit event form")
    page.locator("#id_title_ru").fill("Вебинар о сне ребёнка")
    page.locator("#event-save").click()
    expect(page.locator("h1")).to_have_text("Вебинар о сне ребёнка")

    page.locator("#cancel-event").click()
    expect(page.locator("#event-cancelled")).to_be_visible()
    told = Notification.objects.filter(kind="event_cancelled")
    assert [n.recipient for n in told] == ["dana@example.org"]

    page.goto("/staff/events/")
    expect(page.locator("#staff-events li")).to_have_count(2)
    expect(page.locator(f"#past-events #event-row-{first.pk}")).to_be_visible()
    fits(page)
    axe_check(page, where="staff events list")
