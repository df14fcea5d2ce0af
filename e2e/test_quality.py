"""Issue 13, quality evaluation, on a 360-px phone: after a consultation the parent follows the
notice's own link, answers regulation 002's questionnaire with real taps (the draft is kept on
each change and after "save and finish later"), sends it; the head sees it on the results page.
axe-core checks the questionnaire, the thank-you page and the results."""

import re

import pytest
from playwright.sync_api import expect

from .conftest import e2e_db, login

pytestmark = e2e_db

PHONE = {"viewport": {"width": 360, "height": 780}, "has_touch": True, "is_mobile": True}

CRITERIA = [
    "Качество дистанционной консультации",
    "Соответствие тематики д/к заявленной проблеме",
    "Эмоциональный комфорт проведения д/к",
    "Чёткость и ясность рекомендаций",
    "Важность (польза) рекомендаций для Вас и Вашего ребенка",
    "Улучшение Вашего эмоционального состояния после д/к",
    "Оцените деятельность специалиста, проводившего д/к.",
]


@pytest.fixture
def phone_page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="ru-RU", **PHONE)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def test_parent_rates_the_consultation_and_the_head_sees_it(
    phone_page, new_page, axe_check, settings, live_server, service, consultant, head
):
    from opora.notifications.models import Notification
    from opora.quality.models import Evaluation
    from opora.quality.services import evaluations_sweep
    from opora.quality.tests.factories import make_held_consultation

    settings.OPORA_PUBLIC_URL = live_server.url
    held = make_held_consultation(service, consultant, email="parent@example.org")
    evaluations_sweep()

    sms = Notification.objects.get(channel="sms", kind="quality_invite")
    link = re.search(r"https?://\S+/l/[0-9A-Z]+", sms.body).group(0)
    assert link.startswith(live_server.url)
    evaluation = Evaluation.objects.get(request_id=held.booking.request_id)

    page = phone_page
    page.goto(link)  # what a tap on the link in the SMS does
    expect(page).to_have_url(re.compile(rf"/q/{re.escape(evaluation.token)}/$"))
    expect(page.locator("h1")).to_have_text("АНКЕТА ДЛЯ РОДИТЕЛЕЙ")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    axe_check(page, where="questionnaire")

    # The first answers, each saved as it is tapped; then "save and finish later".
    for label in CRITERIA[:3]:
        page.get_by_role("group", name=label).get_by_label("5", exact=True).tap()
    expect(page.locator("#draft-status")).to_contain_text("Ответы сохранены")
    page.get_by_role("button", name="Сохранить и закончить позже").tap()
    expect(page.locator("#evaluation-saved")).to_be_visible()
    evaluation.refresh_from_db()
    assert (evaluation.q1, evaluation.q3, evaluation.q4) == (5, 5, None)

    # Later, from the same link: the draft is there; the rest is answered and sent.
    page.goto(link)
    expect(
        page.get_by_role("group", name=CRITERIA[0]).get_by_label("5", exact=True)
    ).to_be_checked()
    for label in CRITERIA[3:]:
        page.get_by_role("group", name=label).get_by_label("4", exact=True).tap()
    page.get_by_label("Всего было достаточно").tap()
    page.get_by_label("Ваше впечатление о дистанционном консультировании.").fill(
        "Спокойно и понятно"
    )
    page.get_by_role("button", name="Отправить ответы").tap()
    expect(page.locator("#evaluation-thanks")).to_have_text("Благодарим Вас за сотрудничество!")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    axe_check(page, where="thank-you page")
    evaluation.refresh_from_db()
    assert evaluation.scores() == [5, 5, 5, 4, 4, 4, 4]
    assert evaluation.more_of == "enough"

    # A second tap of the old tab's "send" changes nothing.
    page.go_back()
    page.reload()
    expect(page.locator("#evaluation-thanks")).to_be_visible()

    desk = new_page()
    login(desk, head.username)
    desk.goto("/quality/results/")
    expect(desk.locator("h1")).to_have_text("Оценка качества: результаты")
    expect(desk.locator("#response-rate")).to_contain_text("100% (1 / 1)")
    expect(desk.locator("#sla-rate")).to_contain_text("100% (1 / 1)")
    row = desk.locator("#table-consultant tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(consultant.display_name)
    expect(row).to_contain_text("4,43")
    expect(desk.locator("#chart-criteria svg")).to_be_visible()
    axe_check(desk, where="quality results")

    # The consultant sees no single parent's answers: under five responses, nothing but the rule.
    own = new_page()
    login(own, consultant.username)
    own.goto("/quality/mine/")
    expect(own.locator("#mine-hidden")).to_be_visible()
    expect(own.locator("main")).not_to_contain_text("Спокойно и понятно")
    axe_check(own, where="consultant's own results")
