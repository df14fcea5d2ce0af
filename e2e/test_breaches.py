"""The security officer keeps the breach register on a desktop: registers a breach in both
jurisdictions, sees each deadline with its clock, records the notice to Roskomnadzor. A head
reads the register without the forms. Every page is checked with axe-core."""

import datetime as dt

from django.utils import timezone
from playwright.sync_api import expect

from opora.accounts.models import Role
from opora.core.models import Breach
from opora.demo.factories import make_user

from .conftest import e2e_db, login

pytestmark = e2e_db


def test_the_officer_registers_a_breach_and_records_a_notice(new_page, axe_check, service):
    make_user(Role.SECURITY_OFFICER, username="officer-breach")
    make_user(Role.HEAD, username="head-breach", service=service)
    page = new_page()
    page.set_viewport_size({"width": 1280, "height": 800})
    login(page, "officer-breach")
    page.goto("/breaches/")
    expect(page.locator("#breach-none")).to_be_visible()
    axe_check(page, where="empty breach register")

    detected = timezone.localtime() - dt.timedelta(hours=3)
    form = page.locator("#breach-form")
    form.locator("#id_detected_at").fill(detected.strftime("%Y-%m-%dT%H:%M"))
    # By id: the new strings reach the Russian catalogue when the lead regenerates it.
    form.locator("#id_jurisdictions_0").check()  # RU
    form.locator("#id_jurisdictions_1").check()  # KZ
    form.locator("#id_service").select_option(str(service.pk))
    form.locator("#id_data_kinds").fill("тексты чата")
    form.locator("#id_affected_count").fill("5")
    form.locator("#id_description").fill("Потерян ноутбук сотрудника")
    page.locator("#breach-submit").click()

    breach = Breach.objects.get()
    expect(page.locator(f"#deadline-{breach.pk}-ru_notice")).to_have_attribute(
        "data-state", "pending"
    )
    expect(page.locator(f"#deadline-{breach.pk}-kz_notice")).to_be_visible()
    axe_check(page, where="breach page")

    page.locator("#breach-update-form #id_notices_0").check()  # Roskomnadzor notified
    page.locator("#breach-update-submit").click()
    expect(page.locator(f"#deadline-{breach.pk}-ru_notice")).to_have_attribute("data-state", "done")
    breach.refresh_from_db()
    assert breach.ru_notified_at is not None

    reader = new_page()
    reader.set_viewport_size({"width": 1280, "height": 800})
    login(reader, "head-breach")
    reader.goto(f"/breaches/{breach.pk}/")
    expect(reader.locator(f"#deadline-{breach.pk}-ru_results")).to_be_visible()
    expect(reader.locator("#breach-update-form")).to_have_count(0)
    axe_check(reader, where="breach page, read-only")
