"""The 1411 reporting chain in a phone browser (issue 11): the ГЦВП coordinator drafts, signs and
sends 3.1; the University's coordinator sees it, confirms it and answers with 3.2; the authority
sees 3.3 and 3.4 — and no person anywhere. axe-core on every page."""

import pytest
from playwright.sync_api import expect

from opora.accounts.models import Role
from opora.demo.factories import make_user
from opora.reports import services
from opora.reports.models import Report
from opora.reports.tests.factories import MONTH, month_of_data

from .conftest import PASSWORD, e2e_db

pytestmark = e2e_db

PHONE = {"viewport": {"width": 360, "height": 780}, "has_touch": True, "is_mobile": True}


@pytest.fixture
def phone(browser, live_server):
    contexts = []

    def open_phone():
        context = browser.new_context(base_url=live_server.url, locale="ru-RU", **PHONE)
        contexts.append(context)
        p = context.new_page()
        p.set_default_timeout(10_000)
        return p

    yield open_phone
    for context in contexts:
        context.close()


def sign_in(page, username):
    page.goto("/login/")
    form = page.locator("#login-form")
    form.get_by_label("Имя пользователя").fill(username)
    form.get_by_label("Пароль").fill(PASSWORD)
    form.get_by_role("button", name="Вход").tap()
    expect(page.locator("#logout-button")).to_be_attached()


def fits(page):
    wide = page.evaluate(
        "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 361"
        " && !e.closest('.table-wrap')).map(e => e.tagName + '.' + e.className + '#' + e.id)"
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, wide


def no_person(page, people):
    html = page.content()
    for text in people:
        assert text not in html


def test_the_chain_from_draft_to_the_authority(phone, axe_check, service, coordinator, consultant):
    for org in (service.intake_organisation, service.provider_organisation, service.authority):
        org.email = f"reports-{org.kind}@example.org"
        org.save()
    other = make_user(Role.CONSULTANT, service=service, organisation=service.provider_organisation)
    data = month_of_data(service, consultant, other)
    people = [r.full_name for r in data.values()] + [r.phone for r in data.values()]
    people += [r.iin for r in data.values() if r.iin]
    univ = make_user(Role.COORDINATOR, service=service, organisation=service.provider_organisation)
    authority = make_user(Role.AUTHORITY, organisation=service.authority)

    # The ГЦВП coordinator drafts, signs and sends 3.1.
    gcvp = phone()
    sign_in(gcvp, coordinator.username)
    gcvp.goto("/reports/?month=2026-03")
    axe_check(gcvp, where="reports of the month")
    fits(gcvp)
    gcvp.locator('[id="draft-3.1"]').tap()
    expect(gcvp.locator("#report-sign")).to_be_visible()
    expect(gcvp.locator("#total-requests")).to_have_text("5")
    expect(gcvp.locator("#total-persons")).to_have_text("4")
    axe_check(gcvp, where="draft 3.1")
    gcvp.locator("#report-sign").tap()
    expect(gcvp.locator("#report-send")).to_be_visible()
    axe_check(gcvp, where="signed 3.1")
    gcvp.locator("#report-send").tap()
    expect(gcvp.locator("#report-state .badge--sent")).to_be_visible()
    expect(gcvp.locator("#correct-form")).to_be_visible()
    axe_check(gcvp, where="sent 3.1")
    fits(gcvp)

    # The University's coordinator sees it, confirms it, and answers with 3.2.
    uni = phone()
    sign_in(uni, univ.username)
    uni.goto("/reports/?month=2026-03")
    expect(uni.locator("#received-list")).to_contain_text("3.1")
    uni.locator("#received-list a").first.tap()
    expect(uni.locator("#report-confirm")).to_be_visible()
    axe_check(uni, where="received 3.1")
    uni.locator("#report-confirm").tap()
    expect(uni.locator("#report-state .badge--confirmed")).to_be_visible()
    uni.goto("/reports/?month=2026-03")
    uni.locator('[id="draft-3.2"]').tap()
    expect(uni.locator("#total-persons")).to_have_text("3")
    uni.locator("#report-sign").tap()
    uni.locator("#report-send").tap()
    expect(uni.locator("#report-state .badge--sent")).to_be_visible()
    assert Report.objects.get(kind="3.2").state == "sent"

    # The ГЦВП sends 3.3 and 3.4 to the authority.
    for kind in ("3.3", "3.4"):
        report = services.report_draft(service=service, kind=kind, month=MONTH, actor=coordinator)
        services.report_sign(report=report, actor=coordinator)
        services.report_send(report=report, actor=coordinator)

    # The authority: from its home page to the reports, 3.3 and 3.4, no person anywhere.
    auth = phone()
    sign_in(auth, authority.username)
    auth.goto("/")
    auth.locator("#authority-reports").tap()
    auth.goto("/reports/?month=2026-03")
    axe_check(auth, where="the authority's reports")
    no_person(auth, people + [consultant.last_name, other.last_name])
    fits(auth)
    for kind in ("3.3", "3.4"):
        auth.locator(f'tr[data-kind="{kind}"] .report-open').tap()
        expect(auth.locator("#report-state .badge--sent")).to_be_visible()
        expect(auth.locator("#discrepancies")).to_have_count(0)
        axe_check(auth, where=f"the authority's {kind}")
        no_person(auth, people + [consultant.last_name, other.last_name])
        fits(auth)
        auth.go_back()
