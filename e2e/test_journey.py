"""The parent's path and the staff's day end to end, as people meet them (issue 9).

A parent on a 360-px phone asks the district (Moscow) service on /s/<code>/ — anonymously, or
with an e-mail for the answer. The anonymous form takes no contact at all, so the private page is
the only place the answer can reach that parent; the other parent gets the confirmation through
a real SMTP server. An operator who works in two services signs in at a 1280-px desk, switches to
the district service in the header, finds the request in the queue and books it on a slot that
starts in a few minutes. The parent's page then shows the booked time in Moscow time and the Join
button; the anonymous parent taps it, the other follows the letter's own short link (built from
OPORA_PUBLIC_URL, here the test server's address); both land in the room's join page and go
through the entry page, the device check and the waiting room. The consultant signs in, opens the
room from "my day" and admits them; both sides decode the other's video. The consultant ends the
consultation and saves the protocol, whose first draft carries the parent's question; the
parent's page then says the consultation was held, with no Join or Cancel.

Real clicks and taps only (never `force`); axe-core on every page state visited; nothing on the
parent's pages wider than the phone. The room needs WebSockets, so every page is served by the
ASGI server of `e2e/test_room.py` (uvicorn in a thread, same test database).
"""

import datetime as dt
import re
import time

import pytest
from playwright.sync_api import expect

from e2e import test_portal, test_room, test_room_phone
from e2e.conftest import e2e_db, login

asgi_server = test_room.asgi_server
open_ctx = test_room_phone.open_ctx
smtp = test_portal.smtp
wait_frames_growing = test_room.wait_frames_growing

pytestmark = e2e_db

PHONE = {"viewport": {"width": 360, "height": 780}, "has_touch": True, "is_mobile": True}
DESK = {"viewport": {"width": 1280, "height": 900}}
REASON = "Как подготовить ребёнка к школе?"
FULL_NAME = "Тестова Анна Петровна"
EMAIL = "parent-journey@example.org"


def fits(page, where: str) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"{where}: the page is {width} px wide on a 360-px phone"


def wait_for_letter(smtp, to: str, *, timeout: float = 20):
    """The first message the SMTP server received for `to` (delivery runs after the commit)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in smtp.received:
            if to in message["To"]:
                return message
        time.sleep(0.2)
    pytest.fail(f"no letter to {to} within {timeout} s: {[m['To'] for m in smtp.received]}")


def slot_soon(service, consultant):
    """An approved slot of `consultant` starting about five minutes from now (service's time):
    inside the join window, which opens 15 minutes before the start. Today is made a working day
    with open consultation hours, since the test may run on a weekend or in the evening."""
    from opora.core.models import CalendarOverride
    from opora.scheduling.calendar import local_now
    from opora.scheduling.models import Schedule, SchedulePeriod, Slot

    starts = (local_now(service) + dt.timedelta(minutes=5)).replace(second=0, microsecond=0)
    ends = min(starts + dt.timedelta(hours=1), starts.replace(hour=23, minute=59))
    if ends - starts < dt.timedelta(minutes=20):
        pytest.skip("too close to midnight in the service's zone for a slot that starts soon")
    CalendarOverride.objects.update_or_create(
        service=service, date=starts.date(), defaults={"is_working_day": True}
    )
    service.consultation_opens, service.consultation_closes = dt.time(0, 0), dt.time(23, 59)
    service.save(update_fields=["consultation_opens", "consultation_closes"])
    schedule = Schedule.objects.create(
        service=service,
        consultant=consultant,
        month=starts.date().replace(day=1),
        status=Schedule.Status.APPROVED,
    )
    SchedulePeriod.objects.create(
        schedule=schedule, date=starts.date(), start_time=starts.time(), end_time=ends.time()
    )
    return Slot.objects.create(
        service=service, consultant=consultant, schedule=schedule, starts_at=starts, ends_at=ends
    )


@pytest.mark.parametrize("contact", ["anonymous", "email"])
def test_parent_on_a_phone_is_booked_joins_and_sees_it_closed(
    open_ctx, axe_check, settings, asgi_server, smtp, contact
):
    from opora.accounts.models import Role
    from opora.core.models import Service
    from opora.demo.factories import (
        make_consultant,
        make_district_service,
        make_service_1411,
        make_user,
    )
    from opora.intake.models import ServiceRequest

    settings.OPORA_PUBLIC_URL = asgi_server
    kz = make_service_1411(eligibility_rule=Service.Eligibility.NONE)
    district = make_district_service()
    consultant = make_consultant(district, last_name="Психологова", first_name="Вера")
    # The district's operator also works for 1411, which is the service they sign in to.
    operator = make_user(Role.OPERATOR, service=kz, last_name="Операторова", first_name="Дина")
    operator.services.add(district)
    slot = slot_soon(district, consultant)
    time_range = f"{slot.starts_at:%H:%M}–{slot.ends_at:%H:%M}"

    # --- The parent, on a phone in Moscow's zone, asks on the service's page.
    parent = open_ctx(**PHONE, timezone_id="Europe/Moscow")
    parent.goto(f"/s/{district.code}/")
    expect(parent.locator("h1")).to_contain_text(district.name)
    fits(parent, "service page")
    axe_check(parent, where="district service page at 360 px")
    if contact == "anonymous":
        parent.locator("#anonymous-link").click()
        expect(parent.locator("h1")).to_have_text("Анонимное обращение")
        # No contact can be left: no name, phone, e-mail or messenger on the anonymous form.
        for field in ("full_name", "phone", "email", "reply_contact", "reply_channel"):
            expect(parent.locator(f"[name={field}]")).to_have_count(0)
    else:
        parent.locator("#request-link").click()
        parent.get_by_label("Ваши фамилия, имя, отчество").fill(FULL_NAME)
        parent.get_by_role("textbox", name="Эл. почта").fill(EMAIL)
        expect(parent.locator("input[name=reply_channel][value=email]")).to_be_checked()
    fits(parent, "request form")
    axe_check(parent, where=f"request form ({contact}) at 360 px")
    parent.get_by_label("Родитель", exact=True).check()
    parent.get_by_label("Возраст ребёнка, полных лет").fill("9")
    parent.get_by_label("Образование: детский сад, школа, инклюзивное обучение").check()
    parent.locator("#id_reason").fill(REASON)
    if contact != "anonymous":
        parent.locator("#id_consent").check()
    parent.locator("#request-submit").click()

    expect(parent.locator("#received")).to_be_focused()
    code = parent.locator("#request-code").inner_text()
    fits(parent, "request received")
    axe_check(parent, where=f"request received ({contact}) at 360 px")
    parent.locator("#private-link").click()
    expect(parent).to_have_url(re.compile(r"/s/r/[^/]+/$"))
    private_url = parent.url
    expect(parent.locator("#request-status")).to_have_text("Ожидает рассмотрения")
    fits(parent, "private page, new")
    axe_check(parent, where="private page, new request, at 360 px")
    service_request = ServiceRequest.objects.get(public_code=code)
    assert service_request.service_id == district.pk
    assert service_request.is_anonymous == (contact == "anonymous")

    # --- The operator at a desk: sign in, switch to the district service, book from the queue.
    desk = open_ctx(**DESK)
    login(desk, operator.username, axe_check=axe_check)
    axe_check(desk, where="operator's first page")
    desk.get_by_role("navigation", name="Главное меню").get_by_role(
        "link", name="Очередь обращений"
    ).click()
    expect(desk.locator("#service-select")).to_have_value(str(kz.pk))
    expect(desk.locator("#queue-table, #queue-empty")).to_be_visible()
    expect(desk.locator(f"#queue-row-{service_request.pk}")).to_have_count(0)
    axe_check(desk, where="queue of the 1411 service")
    desk.locator("#service-select").select_option(str(district.pk))
    desk.locator("#service-button").click()
    expect(desk.locator("#service-select")).to_have_value(str(district.pk))
    row = desk.locator(f"#queue-row-{service_request.pk}")
    expect(row).to_contain_text(code)
    expect(row).to_contain_text("Анонимно" if contact == "anonymous" else FULL_NAME)
    axe_check(desk, where="queue of the district service")
    row.locator("a").first.click()

    expect(desk).to_have_url(re.compile(rf"/operator/requests/{service_request.pk}/$"))
    expect(desk.locator("#request-topic")).to_contain_text("Образование")
    expect(desk.locator("#request-reason")).to_contain_text(REASON)
    axe_check(desk, where="the anonymous request's page")
    desk.locator("#choose-time").click()

    expect(desk).to_have_url(re.compile(rf"/operator/requests/{service_request.pk}/book/$"))
    expect(desk.locator("#nearest-slot")).to_contain_text(time_range)
    axe_check(desk, where="slot choice")
    desk.locator(f"label[for=slot-{slot.pk}]").click()
    expect(desk.locator(f"#slot-{slot.pk}")).to_be_checked()
    desk.locator("#book-selected").click()
    expect(desk).to_have_url(re.compile(rf"/operator/requests/{service_request.pk}/confirmation/$"))
    expect(desk.locator("#booking-done")).to_contain_text(f"{slot.starts_at:%H:%M}")
    # What the operator would say promises only what really comes.
    script = desk.locator("#confirmation-script")
    expect(script).not_to_contain_text("SMS")
    if contact == "anonymous":
        expect(script).to_contain_text("ничего не отправляется")
        expect(script).to_contain_text("личной странице заявки")
    else:
        expect(script).to_contain_text("Сейчас вам придёт письмо")
    axe_check(desk, where="booking confirmation")

    # --- The parent's page shows the time in Moscow time, and Join (the room is open).
    parent.goto(private_url)
    expect(parent.locator("#request-status")).to_have_text("Забронирована")
    expect(parent.locator("#booking-time")).to_have_text(time_range)
    expect(parent.locator("#booking-zone")).to_have_text("по московскому времени")
    join = parent.locator("#join-link")
    expect(join).to_be_visible()
    fits(parent, "private page, booked")
    axe_check(parent, where="private page, booked, room open, at 360 px")
    if contact == "anonymous":
        # The page is all an anonymous parent has: they tap Join there.
        join.click()
    else:
        # The confirmation arrives through the SMTP server; its own link opens the room.
        letter = wait_for_letter(smtp, EMAIL)
        text = letter.get_body(preferencelist=("plain",)).get_content()
        assert f"{slot.starts_at:%H:%M}" in text
        links = re.findall(r"https?://[^\s<>\"]+/l/[0-9A-Za-z]+", text)
        assert links, f"no short link in the letter:\n{text}"
        assert all(link.startswith(f"{asgi_server}/l/") for link in links), links
        html = letter.get_body(preferencelist=("html",)).get_content()
        assert links[0] in html
        parent.goto(links[0])  # what a tap on the link in the letter does

    # --- Entry → device check → waiting room, with real taps.
    expect(parent).to_have_url(re.compile(r"/c/[^/]+/$"))
    expect(parent.locator("#entry-when")).to_contain_text(time_range)
    expect(parent.locator("#entry-when")).to_contain_text("московское время")
    expect(parent.locator("#entry-topic")).to_contain_text(REASON)
    fits(parent, "entry page")
    axe_check(parent, where="room entry page at 360 px")
    parent.get_by_label("Да, записывать можно").click()
    parent.get_by_role("button", name="Продолжить").click()
    expect(parent.locator("#check-status")).to_contain_text("работают")
    fits(parent, "device check")
    axe_check(parent, where="device check at 360 px")
    parent.get_by_role("link", name="Перейти в зал ожидания").click()
    expect(parent.locator("#room-status")).to_contain_text("Подождите")
    fits(parent, "waiting room")
    axe_check(parent, where="waiting room at 360 px")

    # --- The consultant: sign in, "my day" (today), open the room, admit.
    doc = open_ctx(**DESK)
    login(doc, consultant.username)
    expect(doc).to_have_url(re.compile(r"/consultant/day/"))
    day_row = doc.locator("#day-table tbody tr")
    expect(day_row).to_have_count(1)
    expect(day_row).to_contain_text(time_range)
    expect(day_row).to_contain_text(REASON)
    expect(day_row.locator("td").nth(1)).to_have_text(
        "Анонимно" if contact == "anonymous" else FULL_NAME
    )
    axe_check(doc, where="consultant's day")
    day_row.get_by_role("link", name="Открыть комнату").click()
    expect(doc.locator("#admit-button")).to_be_enabled()
    axe_check(doc, where="consultant's room, client waiting")
    doc.get_by_role("button", name="Впустить").click()
    wait_frames_growing(doc)
    wait_frames_growing(parent)
    fits(parent, "room in the call")
    axe_check(parent, where="client's room in the call at 360 px")
    axe_check(doc, where="consultant's room in the call")

    # --- The consultant ends it and saves the protocol; its first draft has the question.
    doc.once("dialog", lambda d: d.accept())
    doc.get_by_role("button", name="Завершить консультацию").click()
    expect(doc).to_have_url(re.compile(r"/consultant/consultations/\d+/protocol/$"))
    expect(parent.locator("#room-status")).to_contain_text("завершена")
    fits(parent, "room after the end")
    axe_check(parent, where="client's room after the end at 360 px")
    # The same link now opens the closing page with the questionnaire (regulation 004: the
    # quality evaluation right after the service).
    parent.get_by_role("link", name="Оценить консультацию и узнать, что дальше").click()
    expect(parent.locator("h1")).to_have_text("Эта консультация закрыта")
    parent.locator("#evaluation-link").click()
    expect(parent).to_have_url(re.compile(r"/q/[^/]+/$"))
    fits(parent, "questionnaire after the call")
    axe_check(parent, where="questionnaire right after the call at 360 px")
    # Right after the call, before the protocol is written, the parent's page already says so.
    parent.goto(private_url)
    expect(parent.locator("#request-status")).to_have_text("Консультация проведена")
    for gone in ("#join-link", "#cancel-link", "#reschedule-link"):
        expect(parent.locator(gone)).to_have_count(0)
    fits(parent, "private page, held, protocol not yet written")
    axe_check(parent, where="private page right after the call at 360 px")

    expect(doc.get_by_label("Причина обращения / первичный запрос")).to_contain_text(REASON)
    axe_check(doc, where="protocol, first draft")
    doc.get_by_label("Тематика консультирования").select_option("5")
    doc.get_by_label("Решение проблемы и рекомендации").fill("План подготовки к школе")
    doc.get_by_label("Первичная").check()
    doc.get_by_role("button", name="Сохранить протокол").click()
    expect(doc.locator("h1")).to_have_text("Журнал учета он-лайн консультирования")
    expect(doc.locator("#journal-table tbody tr")).to_have_count(1)
    axe_check(doc, where="journal after the protocol")

    # --- The parent's page: held and closed, nothing left to join or cancel.
    parent.goto(private_url)
    expect(parent.locator("#request-status")).to_have_text("Консультация проведена")
    expect(parent.locator("#state-text")).to_contain_text("Консультация состоялась")
    for gone in ("#join-link", "#cancel-link", "#reschedule-link", "#booking-details"):
        expect(parent.locator(gone)).to_have_count(0)
    expect(parent.locator("#again-link")).to_be_visible()
    fits(parent, "private page, held")
    axe_check(parent, where="private page, consultation held, at 360 px")
    service_request.refresh_from_db()
    assert service_request.status == ServiceRequest.Status.DONE
