"""The security officer reads the audit log on a desktop: filters it, opens the details of a read
of personal data only with a reason (break-glass), and finds that opening in the log itself.
Every page is checked with axe-core."""

import re

import pytest
from playwright.sync_api import expect

from opora.accounts.models import Role
from opora.core.audit import AuditEventType, audit_record
from opora.core.models import AuditEvent
from opora.demo.factories import make_user

from .conftest import e2e_db, login

pytestmark = e2e_db


@pytest.fixture
def logged(service, operator):
    read = audit_record(
        actor=operator,
        event_type=AuditEventType.REQUEST_VIEWED,
        subject=service,
        extra={"via": "page", "request_id": 4242},
    )
    change = audit_record(
        actor=operator,
        event_type=AuditEventType.ADMIN_CHANGED,
        subject=service,
        extra={"fields": ["name"]},
    )
    return read, change


def test_the_officer_filters_the_log_and_opens_a_read_with_a_reason(
    new_page, axe_check, logged, operator
):
    read, change = logged
    make_user(Role.SECURITY_OFFICER, username="officer-e2e")
    page = new_page()
    page.set_viewport_size({"width": 1280, "height": 800})
    login(page, "officer-e2e")
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/audit/$"))
    table = page.locator("#audit-table")
    expect(table.locator(f"#audit-event-{read.pk}")).to_contain_text(
        f"{operator.username} (operator)"
    )
    expect(table).not_to_contain_text("4242")
    expect(page.locator("nav.site-nav a[aria-current='page']")).to_have_attribute("href", "/audit/")
    axe_check(page, where="audit log")

    page.locator("#id_event_type").select_option("admin.changed")
    page.locator("#audit-filter-button").click()
    expect(table.locator(f"#audit-event-{change.pk}")).to_be_visible()
    expect(table.locator(f"#audit-event-{read.pk}")).to_have_count(0)

    page.goto("/audit/?event_type=request.viewed")
    page.locator(f"#audit-open-{read.pk}").click()
    form = page.locator("#break-glass-form")
    expect(form).to_be_visible()
    axe_check(page, where="break-glass form")
    page.locator("#id_reason").fill("кратко")
    page.locator("#break-glass-submit").click()
    expect(page.locator(".field--error")).to_be_visible()
    expect(page.locator("#audit-details")).to_have_count(0)
    axe_check(page, where="break-glass form with an error")
    page.locator("#id_reason").fill("Проверка по жалобе № 12")
    page.locator("#break-glass-submit").click()
    expect(page.locator("#audit-details")).to_contain_text('"request_id": 4242')
    axe_check(page, where="audit event details")

    opened = AuditEvent.objects.get(event_type=AuditEventType.AUDIT_DETAILS_OPENED)
    assert opened.extra["reason"] == "Проверка по жалобе № 12"
    page.goto("/audit/?event_type=audit.details_opened")
    expect(page.locator(f"#audit-event-{opened.pk}")).to_contain_text("officer-e2e")
