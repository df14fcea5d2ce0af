"""The journals of regulations 002, 003 and 004 through the API: every file opened and read back
(openpyxl, python-docx, pypdf), the headings compared with the regulations' own text, the values
with the data; the bad periods and forms; the authority's coded copy; one audit row per export."""

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from opora.accounts.models import Role
from opora.accounts.services import api_token_create
from opora.core.models import AuditEvent
from opora.demo.factories import make_held_consultation, make_user
from opora.intake.services import request_create
from opora.journals.catalogue import FORMS
from opora.scheduling.calendar import local_now
from opora.scheduling.models import SchedulePeriod
from opora.scheduling.tests.factories import future_working_day, make_slot

pytestmark = pytest.mark.django_db

# The regulations' text: `shared/` beside the checkout (as CI lays it), else the workplace's copy.
ROOT = Path(__file__).resolve().parents[3]
REGULATIONS = next(
    (
        p
        for p in (ROOT.parent / "shared" / "regulations", Path("/work/shared/regulations"))
        if p.is_dir()
    ),
    ROOT.parent / "shared" / "regulations",
)
FORMATS = ("xlsx", "docx", "pdf", "csv", "json")


def _regulation(prefix: str) -> str:
    files = sorted(REGULATIONS.glob(f"{prefix}_*.txt"))
    if not files:
        pytest.skip("the regulations' text is not on this machine")
    return files[0].read_text(encoding="utf-8")


def _line_after(text: str, title: str, starts: str) -> list[str]:
    """The tab-separated heading line that follows `title` in the regulation's text."""
    after = text[text.index(title) :]
    line = next(ln for ln in after.splitlines() if ln.startswith(starts))
    return line.split("\t")


def test_headings_are_the_regulations_words():
    reg002 = _regulation("002")
    assert list(FORMS["requests-002"].columns) == _line_after(
        reg002, "Журнал регистрации заявок на дистанционное консультирование (д/к)", "№\t"
    )
    # «Тематика консультирования*»: the asterisk points at the footnote with the topics' list.
    appendix3 = [
        h.rstrip("*") for h in _line_after(reg002, "Журнал учета он-лайн консультирования", "№\t")
    ]
    consultations = list(FORMS["consultations-002"].columns)
    # The form's header names one specialist; the service-wide journal adds it as a column.
    assert consultations[:2] + consultations[3:] == appendix3
    assert (
        consultations[2] == "ФИО специалиста" and "ФИО специалиста _____ Должность _____" in reg002
    )
    assert list(FORMS["participants-002"].columns) == _line_after(
        reg002, "Реестр участников группового онлайн консультирования", "№ п/п"
    )
    reg003 = _regulation("003")
    appendix2 = reg003[reg003.index("Журнал учета обращений граждан в дистанционную приемную") :]
    flat = " ".join(appendix2.split())
    for heading in FORMS["appeals-003"].columns:
        assert heading.replace("/должность", "/ должность") in flat or heading in flat, heading
    schedule = reg003[reg003.index("График плановых дистанционных консультаций специалистов\n") :]
    flat = " ".join(schedule.split()).replace("/ должность", "/должность")
    for heading in FORMS["schedule-003"].columns:
        assert heading in flat, heading
    assert FORMS["schedule-003"].title in reg003
    reg004 = _regulation("004")
    assert "«Фамилия Имя Отчество (при наличии) получателя Услуги»" in reg004
    assert "Фамилия Имя Отчество (при наличии) получателя Услуги" in FORMS["services-004"].columns


@pytest.fixture
def open_service(service):
    service.eligibility_rule = "none"
    service.allows_anonymous = True
    service.save()
    return service


@pytest.fixture
def data(open_service, operator, consultant):
    named = request_create(
        actor=operator,
        service=open_service,
        full_name="Сидорова Әсем Қайратқызы",
        phone="+7 701 000 00 01",
        reason="Ребёнок не спит",
        requester_kind="parent",
        channel="phone",
        assigned_to=consultant,
    )
    day = future_working_day(open_service)
    slot = make_slot(open_service, consultant, day, dt.time(14))
    assert slot.schedule is not None
    SchedulePeriod.objects.create(
        schedule=slot.schedule, date=day, start_time=dt.time(14), end_time=dt.time(18)
    )
    make_held_consultation(
        request=named, slot=slot, consultant=consultant, child_name="Сидоров Нұрлан"
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
    )
    return {"named": named, "anonymous": anonymous, "day": day, "slot": slot}


def _api(user) -> Client:
    _, raw = api_token_create(user=user)
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}", HTTP_ACCEPT_LANGUAGE="en")


def _period(service, data) -> dict:
    today = local_now(service).date()
    return {
        "service": service.code,
        "from": (today - dt.timedelta(days=1)).isoformat(),
        "to": data["day"].isoformat(),
    }


def _get(api, form, params, fmt):
    response = api.get(f"/api/v1/journals/{form}", {**params, "format": fmt})
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body


def _table(fmt: str, body: bytes, first: str = "№") -> tuple[list[str], list[list[str]], str]:
    """Headings, rows (as text) and the whole text of a generated file, read back."""
    if fmt == "xlsx":
        from openpyxl import load_workbook

        rows = [list(r) for r in load_workbook(io.BytesIO(body)).active.iter_rows(values_only=True)]
        title_rows = next(i for i, r in enumerate(rows) if r[0] in (first, "№ п/п"))
        text = " ".join(str(c) for r in rows for c in r if c is not None)
        heads = [c for c in rows[title_rows] if c is not None]
        return (
            heads,
            [[("" if c is None else str(c)) for c in r] for r in rows[title_rows + 1 :]],
            text,
        )
    if fmt == "docx":
        from docx import Document

        doc = Document(io.BytesIO(body))
        table = doc.tables[0]
        cells = [[c.text for c in row.cells] for row in table.rows]
        text = " ".join(p.text for p in doc.paragraphs) + " " + " ".join(" ".join(r) for r in cells)
        return cells[0], cells[1:], text
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
        return rows[0], rows[1:], " ".join(" ".join(r) for r in rows)
    if fmt == "json":
        doc = json.loads(body)
        rows = [[str(c) for c in r] for r in doc["rows"]]
        return doc["columns"], rows, json.dumps(doc, ensure_ascii=False)
    from pypdf import PdfReader

    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)
    return [], [], " ".join(text.split())


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_form_in_every_format_for_the_head(head, data, open_service, fmt):
    api = _api(head)
    params = _period(open_service, data)
    named = data["named"]
    for code, form in FORMS.items():
        response, body = _get(api, code, params, fmt)
        assert response.status_code == 200, (code, body[:300])
        heads, rows, text = _table(fmt, body, form.columns[0])
        if fmt == "pdf":
            assert body.startswith(b"%PDF")
            for heading in form.columns:  # the letters render: the text reads back
                assert (
                    " ".join(heading.split()) in text.replace("- ", "-")
                    or heading.split()[0] in text
                )
            continue
        assert heads == list(form.columns), code
        if code == "requests-002":
            assert len(rows) == 2
            assert (
                rows[0][4] == "Сидорова Әсем Қайратқызы" and rows[0][3] == "Сидоров Нұрлан, 7 лет"
            )
            assert rows[1][4] == "Анонимно" and data["anonymous"].phone not in text
        elif code == "consultations-002":
            assert len(rows) == 1 and rows[0][3] == "Сидоров Нұрлан" and rows[0][4] == "7"
            assert rows[0][1].endswith("45 мин")
        elif code == "participants-002":
            assert rows == []  # no group consultations yet: the form with its headings
        elif code == "appeals-003":
            assert [r[3] for r in rows] == ["Сидорова Әсем Қайратқызы", "Анонимно"]
        elif code == "schedule-003":
            consultant = data["slot"].consultant
            assert len(rows) == 1 and rows[0][2].startswith(consultant.last_name)
            assert rows[0][2].endswith("/консультант")
            assert rows[0][4] == f"{data['day']:%d.%m.%Y}, 14:00–18:00"
        elif code == "services-004":
            # the general-use copy: a code for every person, «Анонимно» for the anonymous one
            assert [r[3] for r in rows] == [f"код {named.public_code}", "Анонимно"]
            assert "Сидорова" not in text


def test_the_pdf_renders_kazakh_and_cyrillic(head, data, open_service):
    _, body = _get(_api(head), "appeals-003", _period(open_service, data), "pdf")
    _, _, text = _table("pdf", body)
    assert "Журнал учета обращений граждан" in text
    assert "Әсем Қайратқызы" in text
    from pypdf import PdfReader

    fonts = {
        str(font.get_object()["/BaseFont"])
        for page in PdfReader(io.BytesIO(body)).pages
        # pypdf types a page's entries as the base PdfObject, which has no item access.
        for font in page["/Resources"]["/Font"].values()  # type: ignore[index]
    }
    # Every letter drawn with DejaVu Sans, which has them all (no fallback font, no empty boxes).
    assert fonts and all(f.endswith("DejaVu-Sans") or f.endswith("DejaVu-Sans-Bold") for f in fonts)


def test_the_service_copy_names_the_person_for_a_head_only(head, consultant, data, open_service):
    params = {**_period(open_service, data), "copy": "service"}
    _, body = _get(_api(head), "services-004", params, "json")
    assert json.loads(body)["rows"][0][3] == "Сидорова Әсем Қайратқызы"
    _, body = _get(_api(consultant), "services-004", params, "json")
    assert json.loads(body)["rows"][0][3] == f"код {data['named'].public_code}"


def test_the_authority_gets_codes_only(open_service, data):
    authority = make_user(Role.AUTHORITY, service=open_service)
    api = _api(authority)
    for code in FORMS:
        response, body = _get(api, code, _period(open_service, data), "json")
        assert response.status_code == 200, body
        text = body.decode()
        assert "Сидоров" not in text and data["named"].reason not in text
        assert data["slot"].consultant.last_name not in text


def test_the_operator_may_not(operator, data, open_service):
    response, _ = _get(_api(operator), "requests-002", _period(open_service, data), "json")
    assert response.status_code == 403


def test_bad_periods_and_forms_are_named(head, data, open_service):
    api = _api(head)
    today = local_now(open_service).date()
    base = {"service": open_service.code}
    cases = [
        (
            {"from": today.isoformat(), "to": (today - dt.timedelta(days=3)).isoformat()},
            "before its start",
            "period_reversed",
        ),
        (
            {"from": (today - dt.timedelta(days=400)).isoformat(), "to": today.isoformat()},
            "longer than a year",
            "period_too_long",
        ),
        (
            {
                "from": (today + dt.timedelta(days=5)).isoformat(),
                "to": (today + dt.timedelta(days=9)).isoformat(),
            },
            "has not begun",
            "period_not_begun",
        ),
    ]
    for params, words, code in cases:
        response, body = _get(api, "appeals-003", {**base, **params}, "xlsx")
        assert response.status_code == 422, body
        assert words in response.json()["detail"] and response.json()["code"] == code
    response, _ = _get(api, "appeals-003", {**base, "from": "2026-13-01", "to": "x"}, "xlsx")
    assert response.status_code == 422
    response, _ = _get(
        api, "appeals-003", {**base, "from": today.isoformat(), "to": today.isoformat()}, "odt"
    )
    assert response.status_code == 422
    response, _ = _get(
        api, "nope-001", {**base, "from": today.isoformat(), "to": today.isoformat()}, "xlsx"
    )
    assert response.status_code == 404
    assert all(code in response.json()["detail"] for code in FORMS)
    assert not AuditEvent.objects.filter(event_type="journal.exported").exists()


def test_an_empty_period_gives_the_headings_and_no_rows(head, data, open_service):
    a_while_ago = local_now(open_service).date() - dt.timedelta(days=100)
    params = {
        "service": open_service.code,
        "from": a_while_ago.isoformat(),
        "to": (a_while_ago + dt.timedelta(days=5)).isoformat(),
    }
    for fmt in ("xlsx", "docx", "csv", "json"):
        response, body = _get(_api(head), "requests-002", params, fmt)
        assert response.status_code == 200
        heads, rows, _ = _table(fmt, body)
        assert heads == list(FORMS["requests-002"].columns) and rows == []


def test_each_export_is_audited_once_by_the_selector(head, data, open_service):
    api = _api(head)
    _get(api, "services-004", _period(open_service, data), "csv")
    event = AuditEvent.objects.get(event_type="journal.exported")
    assert event.extra["form"] == "services-004" and event.extra["format"] == "csv"
    assert event.extra["rows"] == 2 and event.extra["coded"] is True
    assert "Сидорова" not in str(event.extra) and "+7" not in str(event.extra)
    assert event.created_at <= timezone.now()
