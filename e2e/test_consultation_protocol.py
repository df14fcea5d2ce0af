"""The consultant ends a consultation in the room, writes the protocol (regulation 002 Appendix 3),
and the journal of online consultations shows the row; the room's crisis button shows the crisis
protocol. axe-core checks the protocol and journal pages."""

import pytest
from playwright.sync_api import expect

from e2e.conftest import e2e_db, login
from e2e.test_room import asgi_server, open_page  # noqa: F401 - fixtures reused

pytestmark = e2e_db


@pytest.fixture
def head_with_mail(service):
    from opora.accounts.models import Role
    from opora.demo.factories import make_user

    return make_user(
        Role.HEAD,
        service=service,
        organisation=service.provider_organisation,
        email="head@example.org",
    )


def test_end_protocol_journal(open_page, service, consultant, head_with_mail, axe_check):  # noqa: F811
    from opora.consultations import services
    from opora.consultations.models import CrisisAlert
    from opora.consultations.tests.factories import make_live_consultation

    room = make_live_consultation(service, consultant)
    services.consultation_admit(consultation_id=room.pk, actor=consultant)
    name = room.booking.request.full_name

    doc = open_page()
    login(doc, consultant.username)
    doc.goto(f"/consultant/room/{room.pk}/")
    expect(doc.locator("#room-clock")).to_have_attribute("data-warn-at", "50,55")
    # The room's WebSocket is up (its first state message has arrived) before the end is sent.
    expect(doc.locator("#room-status")).to_contain_text("Клиент ещё не подключился")

    doc.get_by_role("button", name="Кризис").click()
    expect(doc.locator("#crisis")).to_be_visible()
    expect(doc.locator("#emergency-numbers")).to_contain_text("150")
    assert CrisisAlert.objects.filter(consultation=room, source="button").count() == 1

    doc.once("dialog", lambda d: d.accept())
    doc.get_by_role("button", name="Завершить консультацию").click()
    expect(doc).to_have_url(
        f"{doc.url.split('/consultant/')[0]}/consultant/consultations/{room.pk}/protocol/"
    )
    expect(doc.locator("#protocol-facts")).to_contain_text(name)
    axe_check(doc, where="protocol page")

    doc.get_by_role("button", name="Сохранить протокол").click()
    expect(doc.locator(".error-summary")).to_be_visible()
    expect(doc.locator("#id_reason-error")).to_be_visible()
    doc.get_by_label("ФИ ребенка").fill("Тестов Арман")
    doc.get_by_label("Причина обращения / первичный запрос").fill("Трудности с учебой")
    doc.get_by_label("Тематика консультирования").select_option("5")
    doc.get_by_label("Решение проблемы и рекомендации").fill("Индивидуальный план обучения")
    doc.get_by_label("Первичная").check()
    axe_check(doc, where="protocol page with errors")
    doc.get_by_role("button", name="Сохранить протокол").click()

    expect(doc.locator("h1")).to_have_text("Журнал учета он-лайн консультирования")
    row = doc.locator("#journal-table tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(name)
    expect(row).to_contain_text("Тестов Арман")
    expect(row).to_contain_text("5. Проблемы обучения")
    axe_check(doc, where="journal")


def test_book_the_next_consultation_from_the_protocol(page, service, consultant, axe_check):
    """The consultant books the client's next consultation on their own nearest free time."""
    import datetime as dt

    from e2e.conftest import future_working_day, make_slots, synthetic_iin
    from opora.consultations import services
    from opora.consultations.tests.factories import make_live_consultation
    from opora.core.models import Service
    from opora.intake.models import ServiceRequest

    # The repeat request is checked like any other; this one needs no registry check.
    Service.objects.filter(pk=service.pk).update(eligibility_rule=Service.Eligibility.NONE)
    room = make_live_consultation(service, consultant)
    ServiceRequest.objects.filter(pk=room.booking.request_id).update(
        iin=synthetic_iin(dt.date(1990, 1, 2), "F", 55)
    )
    services.consultation_admit(consultation_id=room.pk, actor=consultant)
    services.consultation_end(consultation_id=room.pk, actor=consultant)
    day = future_working_day(service)
    slot = make_slots(service, consultant, day, hours=(15,))[0]

    login(page, consultant.username)
    page.goto(f"/consultant/consultations/{room.pk}/protocol/")
    when = f"{day:%d.%m.%Y} 15:00"
    expect(page.locator("#next-booking-form")).to_contain_text(when)
    axe_check(page, where="protocol page with the next booking")
    page.get_by_role("button", name="Записать на следующую консультацию").click()
    expect(page.locator("#next-booked")).to_contain_text(when)
    expect(page.get_by_label("Следующая консультация")).to_have_value(when)
    axe_check(page, where="protocol page after booking")
    slot.refresh_from_db()
    assert slot.bookings.get().request.status == ServiceRequest.Status.BOOKED
