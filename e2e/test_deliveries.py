"""«Доставка сообщений» on a 360-px phone: the head finds a message the outbox gave up on (an SMS
and a written answer's chat copy alike), sees the channel, the request code and the reason, taps
"send again", and the message is delivered. Checked with axe-core."""

import pytest
from playwright.sync_api import expect

from opora.core.models import AuditEvent
from opora.intake.models import ServiceRequest
from opora.notifications.models import Notification

from .conftest import e2e_db, login

pytestmark = e2e_db


@pytest.fixture
def phone(browser, live_server):
    context = browser.new_context(
        base_url=live_server.url,
        locale="ru-RU",
        viewport={"width": 360, "height": 780},
        has_touch=True,
        is_mobile=True,
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def failed_sms(service):
    request = ServiceRequest.objects.create(
        service=service, full_name="Синтетический Клиент", public_code="KQ4M-2XH9"
    )
    return Notification.objects.create(
        channel="sms",
        recipient="+77010000001",
        body="Секретный текст",
        kind="booking_created",
        subject_type="intake.servicerequest",
        subject_id=str(request.pk),
        status=Notification.Status.FAILED,
        attempts=10,
        last_error="ConnectionRefusedError",
    )


def test_the_head_sees_a_failed_delivery_and_sends_it_again(phone, axe_check, head, failed_sms):
    login(phone, head.username)
    phone.get_by_role("link", name="Доставка сообщений").first.click()
    table = phone.locator("#failed-deliveries")
    expect(table).to_contain_text("KQ4M-2XH9")
    expect(table).to_contain_text("SMS")
    expect(table).to_contain_text("ConnectionRefusedError")
    expect(table).to_contain_text("10")
    expect(table).not_to_contain_text("Секретный текст")
    expect(table).not_to_contain_text("+77010000001")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    axe_check(phone, where="failed deliveries")

    phone.locator("#retry-1").tap()
    expect(phone.locator(".message--success")).to_contain_text("KQ4M-2XH9")
    expect(phone.locator("#nothing-failed")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    axe_check(phone, where="failed deliveries after a retry")
    failed_sms.refresh_from_db()
    assert failed_sms.status == Notification.Status.SENT and failed_sms.attempts == 1
    assert AuditEvent.objects.filter(
        event_type="outbox.delivery_retried", actor=head, subject_id=str(failed_sms.pk)
    ).exists()
