"""The operator's queue, the referral directory and the request registries in a real browser: an
operator sees requests that came by the website and by e-mail, sends a referral; the head keeps
the directory and exports the registry. Every page is checked with axe-core."""

import io
import re

import openpyxl
import pytest
from playwright.sync_api import expect

from opora.intake.models import ServiceKind, ServiceRequest
from opora.intake.services import referral_create, request_create
from opora.notifications.models import Notification

from .conftest import e2e_db, login

pytestmark = e2e_db


@pytest.fixture
def open_service(service):
    service.eligibility_rule = "none"
    service.allows_anonymous = True
    service.save()
    return service


@pytest.fixture
def requests(open_service, operator):
    portal = request_create(
        actor=None,
        service=open_service,
        full_name="Портальная Мария Ивановна",
        phone="+7 701 000 00 11",
        reason="Нужен логопед",
        channel="portal",
    )
    emailed = request_create(
        actor=None,
        service=open_service,
        full_name="",
        email="anon@example.org",
        is_anonymous=True,
        channel="email",
    )
    return portal, emailed


def test_operator_sees_the_queue_and_sends_a_referral(
    page, axe_check, operator, head, open_service, requests
):
    portal, emailed = requests
    entry = referral_create(
        actor=head,
        name="Центр ранней помощи (демо)",
        helps_with="Логопед, дефектолог, аутизм",
        country="KZ",
        phone="+7 727 000 00 01",
    )
    login(page, operator.username)
    page.goto("/operator/")
    axe_check(page, where="operator console with links")
    page.locator("#console-queue-link").click()
    expect(page).to_have_url(re.compile(r"/operator/queue/$"))
    expect(page.locator("#queue-count")).to_contain_text("2")
    expect(page.locator(f"#queue-row-{portal.pk}")).to_contain_text("Портальная Мария")
    anon_row = page.locator(f"#queue-row-{emailed.pk}")
    expect(anon_row).to_contain_text("Анонимно")
    expect(anon_row).to_contain_text(emailed.public_code)
    axe_check(page, where="queue")

    page.locator("#id_channel").select_option("email")
    page.locator("#queue-filter-button").click()
    expect(page.locator(f"#queue-row-{portal.pk}")).to_have_count(0)
    expect(page.locator(f"#queue-row-{emailed.pk}")).to_be_visible()
    axe_check(page, where="queue filtered by channel")

    page.goto("/operator/queue/")
    page.locator(f"#queue-row-{portal.pk} a").first.click()
    expect(page).to_have_url(re.compile(rf"/operator/requests/{portal.pk}/$"))
    axe_check(page, where="request page")
    page.locator("#referral-panel summary").click()
    page.locator("#id_ref-q").fill("логопед")
    page.locator("#referral-search-button").click()
    expect(page.locator(f"#referral-choice-{entry.pk}")).to_be_visible()
    axe_check(page, where="request page with directory results")
    page.locator(f"#referral-choice-{entry.pk}").check()
    page.locator("#referral-send-button").click()
    expect(page.locator(".message--success")).to_be_visible()
    expect(page.locator("#request-status")).to_have_text(re.compile("Перенаправ"))
    expect(page.locator("#request-referral")).to_contain_text(entry.phone)
    axe_check(page, where="request page after the referral")
    stored = ServiceRequest.objects.get(pk=portal.pk)
    assert stored.kind == ServiceKind.DISPATCHER and stored.referral_id == entry.pk
    assert Notification.objects.filter(kind="request_referral", recipient=portal.phone).exists()


def test_head_keeps_the_directory_and_exports_the_registry(page, axe_check, head, requests):
    login(page, head.username)
    page.goto("/head/schedules/")
    axe_check(page, where="head page with links")
    page.locator("#link-referrals").click()
    expect(page).to_have_url(re.compile(r"/referrals/$"))
    axe_check(page, where="referral directory (empty)")
    page.locator("#referral-new").click()
    page.locator("#referral-save").click()  # nothing filled in: errors first
    expect(page.locator(".error-summary")).to_be_visible()
    axe_check(page, where="referral form with errors")
    page.locator("#id_name").fill("Юридическая клиника (демо)")
    page.locator("#id_helps_with").fill("Пособия, права, инвалидность")
    page.locator("#id_phone").fill("+7 700 000 00 02")
    page.locator("#referral-save").click()
    expect(page).to_have_url(re.compile(r"/referrals/$"))
    page.locator("#id_q").fill("пособия")
    page.locator("#referral-search-button").click()
    expect(page.locator("#referral-results")).to_contain_text("Юридическая клиника")
    axe_check(page, where="referral directory search")

    page.goto("/head/schedules/")
    page.locator("#link-registry-requests").click()
    expect(page.locator("h1")).to_have_text(
        "Журнал регистрации заявок на дистанционное консультирование (д/к)"
    )
    expect(page.locator("#registry-table")).to_contain_text("Портальная Мария Ивановна")
    expect(page.locator("#registry-table")).to_contain_text("Анонимно")
    expect(page.locator("#count-services")).to_have_text("2")
    axe_check(page, where="registry of requests (002)")
    with page.expect_download() as download_info:
        page.locator("#journal-export-xlsx").click()
    path = download_info.value.path()
    with open(path, "rb") as f:
        ws = openpyxl.load_workbook(io.BytesIO(f.read())).active
    rows = [r for r in ws.iter_rows(values_only=True)]
    assert rows[1][0] == "№" and rows[1][7] == "ФИО ответственного за д/к специалиста"
    assert len(rows) == 4 and {rows[2][4], rows[3][4]} == {"Портальная Мария Ивановна", "Анонимно"}

    page.locator("#journal-forms a[href='/journals/appeals-003/']").click()
    expect(page.locator("h1")).to_have_text(
        "Журнал учета обращений граждан в дистанционную приемную"
    )
    expect(page.locator("#registry-table")).to_contain_text("Эл. почта")
    axe_check(page, where="journal of requests (003)")
