"""The journals' staff pages, regulation 002 Appendix 2 and regulation 003 Appendix 2: the
regulations' exact headers in every language, XLSX rows, role scoping, anonymous requests coded."""

import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from opora.accounts.models import Role
from opora.core.models import AuditEvent, Service
from opora.demo.factories import make_consultant, make_held_consultation, make_user
from opora.intake.models import ServiceRequest
from opora.intake.services import request_count_with, request_create

from .conftest import make_slots

pytestmark = pytest.mark.django_db

# The header lines as printed in the regulations (002: one tab-separated line; 003: the table is
# printed turned on its side, so its headers come last to first).
REG_002 = (
    "№\tДата заявки\tОт кого поступила заявка\tФИО несовершеннолетнего, возраст\t"
    "Ф.И.О. законного представителя\tОбращение первичное/вторичное\tПовод обращения\t"
    "ФИО ответственного за д/к специалиста"
).split("\t")
REG_003 = list(
    reversed(
        [
            "Примечания",
            "Результат консультирования",
            "Фамилия, имя, отчество специалиста, оказывающего консультацию/должность",
            "Тема консультации",
            "Форма дистанционного консультирования",
            "Дата консультации",
            "Фамилия, имя, отчество обратившегося получателя социальных услуг",
            "Канал обращения в дистанционную приемную",
            "Дата обращения в дистанционную приемную",
            "№ п/п",
        ]
    )
)


@pytest.fixture
def open_service(service):
    service.eligibility_rule = "none"
    service.allows_anonymous = True
    service.save()
    return service


@pytest.fixture
def data(open_service, operator, consultant, slot_day):
    """A named phone request consulted by `consultant` (protocol written), the same mother's
    second request, an anonymous Telegram request, and an e-mail request of another consultant."""
    other = make_consultant(open_service, last_name="Другая", first_name="Вера")
    named = request_create(
        actor=operator,
        service=open_service,
        full_name="Сидорова Анна Петровна",
        phone="+7 701 000 00 01",
        reason="Ребёнок не спит",
        requester_kind="parent",
        channel="phone",
    )
    slot = make_slots(open_service, consultant, slot_day, hours=(14,))[0]
    ServiceRequest.objects.filter(pk=named.pk).update(status="done")
    make_held_consultation(
        request=named, slot=slot, consultant=consultant, child_name="Сидоров Петя"
    )
    again = request_create(
        actor=operator,
        service=open_service,
        full_name="Сидорова Анна Петровна",
        phone="+7 701 000 00 01",
        reason="Снова о сне",
        channel="phone",
    )
    anonymous = request_create(
        actor=operator,
        service=open_service,
        full_name="",
        phone="+7 701 000 00 09",
        is_anonymous=True,
        child_age=5,
        typical_question="development",
        channel="telegram",
        assigned_to=consultant,
    )
    emailed = request_create(
        actor=operator,
        service=open_service,
        full_name="Петрова Ольга",
        email="olga@example.org",
        channel="email",
        assigned_to=other,
    )
    return {"named": named, "again": again, "anonymous": anonymous, "emailed": emailed}


def _body(response):
    return b"".join(response.streaming_content) if response.streaming else response.content


def _xlsx_rows(response):
    wb = load_workbook(io.BytesIO(_body(response)))
    return [list(r) for r in wb.active.iter_rows(values_only=True)]


@pytest.mark.parametrize("language", ["ru", "kk", "en"])
def test_headers_are_the_regulations_wording_in_every_language(client, head, data, language):
    client.force_login(head)
    client.cookies["django_language"] = language
    for url, expected in (("registry_requests", REG_002), ("registry_appeals", REG_003)):
        html = client.get(reverse(url), HTTP_ACCEPT_LANGUAGE=language).content.decode()
        for header in expected:
            assert f'<th scope="col" lang="ru">{header}</th>' in html
        xlsx = _xlsx_rows(client.get(reverse(url), {"format": "xlsx"}))
        assert [c for c in xlsx[1] if c is not None] == expected


def test_registry_002_rows(client, head, data, open_service):
    client.force_login(head)
    response = client.get(reverse("registry_requests"), {"format": "xlsx"})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = _xlsx_rows(response)
    assert rows[0][0] == "Журнал регистрации заявок на дистанционное консультирование (д/к)"
    body = rows[2:]
    assert len(body) == 4
    by_name = {r[4]: r for r in body}
    named = body[0]
    assert named[0] == 1
    assert named[1] == timezone.localtime(data["named"].created_at, open_service.tz).strftime(
        "%d.%m.%Y"
    )
    assert named[2] == "Родитель"
    assert named[3] == "Сидоров Петя, 7 лет"
    assert named[4] == "Сидорова Анна Петровна"
    assert named[5] == "первичное"
    assert named[6] == "Ребёнок не спит"
    assert named[7] == data["named"].bookings.get().slot.consultant.display_name
    assert body[1][5] == "вторичное"  # the same phone asked before
    anon = by_name["Анонимно"]
    assert anon[3] == f"код {data['anonymous'].public_code}, 5 лет"
    assert anon[6] == "Развитие и поведение ребёнка"  # the typical question, in Russian


def test_registry_003_rows_with_channel(client, head, data, open_service):
    client.force_login(head)
    rows = _xlsx_rows(client.get(reverse("registry_appeals"), {"format": "xlsx"}))
    assert rows[0][0] == "Журнал учета обращений граждан в дистанционную приемную"
    body = rows[2:]
    named, again, anon, emailed = body
    assert [r[2] for r in body] == ["Телефон", "Телефон", "Telegram", "Эл. почта"]
    assert named[3] == "Сидорова Анна Петровна"
    slot = data["named"].bookings.get().slot
    assert named[4] == timezone.localtime(slot.starts_at, open_service.tz).strftime(
        "%d.%m.%Y %H:%M"
    )
    assert named[5] == "Видео"
    assert named[6].startswith("1.")  # «Семейные проблемы», the protocol's topic
    assert named[7].startswith(slot.consultant.display_name + " / ")
    assert named[8] == "Консультация проведена"
    assert anon[3] == "Анонимно"
    assert f"код {data['anonymous'].public_code}" in anon[9]
    assert again[8] == "Новая"


def test_anonymous_request_shows_no_personal_data(client, head, data):
    client.force_login(head)
    anonymous = data["anonymous"]
    for url in ("registry_requests", "registry_appeals"):
        rows = _xlsx_rows(client.get(reverse(url), {"format": "xlsx"}))
        flat = " ".join(str(c) for row in rows for c in row if c is not None)
        assert anonymous.phone not in flat
        html = client.get(reverse(url)).content.decode()
        assert anonymous.phone not in html and "Анонимно" in html


def test_filters_period_channel_status_consultant(client, head, data, consultant, open_service):
    client.force_login(head)
    rows = _xlsx_rows(
        client.get(reverse("registry_appeals"), {"format": "xlsx", "channel": "email"})
    )[2:]
    assert [r[3] for r in rows] == ["Петрова Ольга"]
    rows = _xlsx_rows(
        client.get(reverse("registry_appeals"), {"format": "xlsx", "status": "done"})
    )[2:]
    assert [r[3] for r in rows] == ["Сидорова Анна Петровна"]
    rows = _xlsx_rows(
        client.get(reverse("registry_appeals"), {"format": "xlsx", "consultant": consultant.pk})
    )[2:]
    assert sorted(r[3] for r in rows) == ["Анонимно", "Сидорова Анна Петровна"]
    ServiceRequest.objects.filter(pk=data["emailed"].pk).update(
        created_at=timezone.now() - dt.timedelta(days=60)
    )
    yesterday = (timezone.localtime(timezone.now(), open_service.tz) - dt.timedelta(days=1)).date()
    rows = _xlsx_rows(
        client.get(
            reverse("registry_appeals"),
            {"format": "xlsx", "date_from": yesterday.isoformat(), "date_to": ""},
        )
    )[2:]
    assert "Петрова Ольга" not in [r[3] for r in rows] and len(rows) == 3
    bad = client.get(
        reverse("registry_appeals"), {"date_from": "2025-02-10", "date_to": "2025-02-01"}
    )
    assert bad.status_code == 400 and 'id="registry-errors"' in bad.content.decode()


def test_a_consultant_sees_only_their_own(client, consultant, data):
    client.force_login(consultant)
    response = client.get(reverse("registry_appeals"), {"format": "xlsx"})
    rows = _xlsx_rows(response)[2:]
    assert sorted(r[3] for r in rows) == ["Анонимно", "Сидорова Анна Петровна"]
    html = client.get(reverse("registry_appeals")).content.decode()
    assert 'id="registry-counts"' not in html  # service-wide counts are the head's
    assert 'name="consultant"' not in html


def test_roles_and_service_scoping(client, operator, coordinator, data, open_service):
    client.force_login(coordinator)
    assert client.get(reverse("registry_requests")).status_code == 200
    client.force_login(operator)
    assert client.get(reverse("registry_requests")).status_code == 403
    client.force_login(make_user(Role.AUTHORITY, service=open_service))
    assert client.get(reverse("registry_appeals")).status_code == 403
    other = Service.objects.create(
        code="ru-district",
        name="Районная служба",
        country="RU",
        time_zone="Europe/Moscow",
        holiday_calendar="RU",
        intake_organisation=open_service.intake_organisation,
        provider_organisation=open_service.provider_organisation,
    )
    client.force_login(make_user(Role.HEAD, service=other))
    rows = _xlsx_rows(client.get(reverse("registry_appeals"), {"format": "xlsx"}))[2:]
    assert rows == []


def test_reads_are_audited_with_counts_only(client, head, data):
    client.force_login(head)
    client.get(reverse("registry_requests"), {"channel": "phone"})
    client.get(reverse("registry_appeals"), {"format": "xlsx"})
    viewed = AuditEvent.objects.get(event_type="journal.viewed")
    exported = AuditEvent.objects.get(event_type="journal.exported")
    assert viewed.extra["rows"] == 2 and viewed.extra["channel"] == "phone"
    assert viewed.extra["form"] == "requests-002" and viewed.extra["format"] == "page"
    assert exported.extra["rows"] == 4 and exported.extra["form"] == "appeals-003"
    assert exported.extra["format"] == "xlsx"
    text = str(viewed.extra) + str(exported.extra)
    assert "Сидорова" not in text and "+7" not in text


def test_the_registry_page_shows_the_service_counts(client, head, operator, data):
    request_count_with(actor=operator, request=data["named"], other=data["again"])
    client.force_login(head)
    html = client.get(reverse("registry_requests")).content.decode()
    assert 'id="count-requests">4<' in html
    assert 'id="count-services">3<' in html
    assert 'id="count-together">1<' in html
    rows = _xlsx_rows(client.get(reverse("registry_appeals"), {"format": "xlsx"}))[2:]
    assert f"учтено вместе с обращением № {data['named'].pk}" in rows[1][9]


def test_the_old_addresses_and_the_journal_pages(client, head, data):
    client.force_login(head)
    assert reverse("registry_requests") == "/registries/requests/"
    for code in (
        "requests-002",
        "consultations-002",
        "participants-002",
        "appeals-003",
        "schedule-003",
        "services-004",
    ):
        response = client.get(reverse("journal", args=[code]))
        assert response.status_code == 200, code
        assert 'id="journal-forms"' in response.content.decode()
    assert client.get(reverse("journal", args=["nope"])).status_code == 404
    html = client.get(reverse("journal", args=["services-004"])).content.decode()
    assert "Сидорова" not in html and f"код {data['named'].public_code}" in html
    html = client.get(reverse("journal", args=["services-004"]), {"copy": "service"}).content
    assert "Сидорова Анна Петровна" in html.decode()
    future = (timezone.now() + dt.timedelta(days=40)).date().isoformat()
    bad = client.get(reverse("journal", args=["appeals-003"]), {"date_from": future})
    assert bad.status_code == 400 and "ещё не наступил" in bad.content.decode()
