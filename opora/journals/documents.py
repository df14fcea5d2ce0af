"""The journals as files: XLSX, DOCX, PDF, CSV and JSON, all from one `Journal`.

Every writer writes the form's title, its header lines («ФИО специалиста _____»), the column
headings exactly as the catalogue has them, then the rows as they stream from the database, into
a temporary file (a year of a national service is never held in memory as one string). Cells are
plain text: XLSX through `core.exports`, CSV with the same formula guard. The PDF is the HTML
table through WeasyPrint with DejaVu Sans (Debian's fonts-dejavu), which has the Cyrillic and
Kazakh letters.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from typing import IO, Any

from django.utils.html import escape

from opora.core.exports import FORMULA_STARTS, plain_text, text_cell
from opora.journals.selectors import Journal

CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
    "csv": "text/csv; charset=utf-8",
    "json": "application/json; charset=utf-8",
}


def header_lines(journal: Journal) -> list[str]:
    """The form's lines above the table, filled where known, blank lines as on paper."""
    return [
        f"{label}: {journal.header.get(label) or '_____'}" for label in journal.form.header_lines
    ]


def period_line(journal: Journal) -> str:
    return f"{journal.service.name}: {journal.date_from:%d.%m.%Y} – {journal.date_to:%d.%m.%Y}"


def filename(journal: Journal, fmt: str) -> str:
    return (
        f"{journal.form.code}-{journal.service.code}-"
        f"{journal.date_from:%Y%m%d}-{journal.date_to:%Y%m%d}.{fmt}"
    )


def _cell(sheet: Any, value: Any) -> Any:
    """`core.exports.text_cell`, placed so the write-only sheet takes it (it moves it)."""
    cell = text_cell(sheet, value)
    if hasattr(cell, "column"):
        cell.row, cell.column = 1, 1
    return cell


def write_xlsx(journal: Journal, out: IO[bytes]) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Журнал")
    for index, width in enumerate(journal.form.widths, start=1):
        ws.column_dimensions[get_column_letter(index)].width = width
    title = _cell(ws, journal.form.title)
    title.font = Font(bold=True)
    ws.append([title])
    for line in header_lines(journal):
        ws.append([_cell(ws, line)])
    heads = []
    for column in journal.form.columns:
        cell = _cell(ws, column)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        heads.append(cell)
    ws.append(heads)
    for row in journal.rows:
        # names and notes come from the public: plain text only
        ws.append([_cell(ws, value) for value in row])
    wb.save(out)


def _csv_value(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    text = plain_text(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def write_csv(journal: Journal, out: IO[bytes]) -> None:
    # UTF-8 with a byte-order mark: Excel opens the Cyrillic right.
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=True)
    writer = csv.writer(text)
    writer.writerow(journal.form.columns)
    for row in journal.rows:
        writer.writerow([_csv_value(v) for v in row])
    text.flush()
    text.detach()


def write_json(journal: Journal, out: IO[bytes]) -> None:
    """`{"form", "title", "columns": [...], "rows": [[...], ...]}`, written row by row."""
    head = {"form": journal.form.code, "title": journal.form.title}
    out.write(json.dumps(head, ensure_ascii=False)[:-1].encode())
    out.write(b', "columns": ')
    out.write(json.dumps(list(journal.form.columns), ensure_ascii=False).encode())
    out.write(b', "rows": [')
    for index, row in enumerate(journal.rows):
        if index:
            out.write(b", ")
        out.write(json.dumps(row, ensure_ascii=False).encode())
    out.write(b"]}")


def write_docx(journal: Journal, out: IO[bytes]) -> None:
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.shared import Mm, Pt

    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Mm(297), Mm(210)
    for margin in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, margin, Mm(12))
    document.styles["Normal"].font.size = Pt(9)
    document.add_heading(journal.form.title, level=1)
    document.add_paragraph(period_line(journal))
    for line in header_lines(journal):
        document.add_paragraph(line)
    table = document.add_table(rows=1, cols=len(journal.form.columns))
    table.style = "Table Grid"
    for cell, column in zip(table.rows[0].cells, journal.form.columns, strict=True):
        cell.text = column
        for run in cell.paragraphs[0].runs:
            run.bold = True
    for row in journal.rows:
        cells = table.add_row().cells
        for cell, value in zip(cells, row, strict=True):
            cell.text = plain_text(str(value)) if value is not None else ""
    document.save(out)


PDF_STYLE = """
@page { size: A4 landscape; margin: 12mm; }
body { font-family: "DejaVu Sans", sans-serif; font-size: 8pt; }
h1 { font-size: 12pt; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 0.5pt solid #000; padding: 2pt; vertical-align: top; text-align: left; }
th { font-weight: bold; }
thead { display: table-header-group; }
"""


def write_pdf(journal: Journal, out: IO[bytes]) -> None:
    from weasyprint import HTML  # type: ignore[import-untyped]  # no stubs, no py.typed

    parts = [
        f"<!doctype html><html lang=ru><head><meta charset=utf-8><style>{PDF_STYLE}</style>",
        f"<title>{escape(journal.form.title)}</title></head><body>",
        f"<h1>{escape(journal.form.title)}</h1><p>{escape(period_line(journal))}</p>",
    ]
    parts += [f"<p>{escape(line)}</p>" for line in header_lines(journal)]
    parts.append("<table><thead><tr>")
    parts += [f"<th>{escape(c)}</th>" for c in journal.form.columns]
    parts.append("</tr></thead><tbody>")
    for row in journal.rows:
        cells = "".join(f"<td>{escape('' if v is None else str(v))}</td>" for v in row)
        parts.append(f"<tr>{cells}</tr>")
    parts.append("</tbody></table></body></html>")
    HTML(string="".join(parts)).write_pdf(out)


WRITERS = {
    "xlsx": write_xlsx,
    "docx": write_docx,
    "pdf": write_pdf,
    "csv": write_csv,
    "json": write_json,
}


def journal_document(journal: Journal, fmt: str) -> IO[bytes]:
    """The journal written as `fmt` into a temporary file, rewound (the caller streams it)."""
    out = tempfile.TemporaryFile()  # noqa: SIM115 - handed to the response, closed by it
    WRITERS[fmt](journal, out)
    out.seek(0)
    return out
