"""A report as a file: XLSX (the attachment of the e-mail), PDF and JSON.

The forms of Appendix 3 to the instructive letter are not in the regulation text we have; the files
carry the figures with three breakdowns — by region, by consultant, by day (docs/REPORTS.md).
Nothing in them names a client: regions, consultants (a code in the forms for the authority),
dates and counts; the discrepancies list requests by number only.
"""

from __future__ import annotations

import io
from typing import Any

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from opora.reports.kinds import KINDS, due_date
from opora.reports.models import Report


def report_filename(report: Report, ext: str) -> str:
    return f"report-{report.kind}-{report.month:%Y-%m}-v{report.version}.{ext}"


def report_header(report: Report) -> list[tuple[str, str]]:
    spec = KINDS[report.kind]
    return [
        (_("Form"), f"{report.kind} — {spec.title}"),
        (_("Service"), report.service.name),
        (_("Month"), f"{report.month:%m.%Y}"),
        (_("From"), str(report.organisation_from)),
        (_("To"), str(report.organisation_to)),
        (_("Version"), str(report.version)),
        (_("State"), str(report.get_state_display())),
        (_("Due"), f"{due_date(report.kind, report.month):%d.%m.%Y}"),
    ]


def breakdown_tables(figures: dict[str, Any]) -> list[tuple[str, str, list[list[Any]]]]:
    """(title, first column, rows) of each breakdown, totals first."""
    total = figures.get("total", {})
    return [
        (_("Total"), "", [["", total.get("requests", 0), total.get("persons", 0)]]),
        (
            _("By region"),
            _("Region"),
            [[r["region"], r["requests"], r["persons"]] for r in figures.get("by_region", [])],
        ),
        (
            _("By consultant"),
            _("Consultant"),
            [
                [r["consultant"], r["requests"], r["persons"]]
                for r in figures.get("by_consultant", [])
            ],
        ),
        (
            _("By day"),
            _("Day"),
            [[r["day"], r["requests"], r["persons"]] for r in figures.get("by_day", [])],
        ),
    ]


def report_xlsx(report: Report) -> bytes:
    import openpyxl
    from openpyxl.worksheet.worksheet import Worksheet

    from opora.core.exports import write_row

    with translation.override("ru"):
        workbook = openpyxl.Workbook()
        sheet = workbook.active
        assert isinstance(sheet, Worksheet)  # a new workbook's one sheet
        sheet.title = f"{report.kind} {report.month:%m.%Y}"
        for label, value in report_header(report):
            write_row(sheet, [label, value])
        if report.reason:
            write_row(sheet, [_("Reason for the correction"), report.reason])
        for title, first, rows in breakdown_tables(report.figures):
            write_row(sheet, [])
            write_row(sheet, [title])
            write_row(sheet, [first, _("Requests"), _("Persons")])
            for row in rows:
                write_row(sheet, row)
        sheet.column_dimensions["A"].width = 40
        sheet.column_dimensions["B"].width = 60
        out = io.BytesIO()
        workbook.save(out)
    return out.getvalue()


def report_pdf(report: Report) -> bytes:
    from weasyprint import HTML  # type: ignore[import-untyped]  # no stubs; here, not at start-up

    with translation.override("ru"):
        html = render_to_string(
            "reports/report_pdf.html",
            {
                "report": report,
                "header": report_header(report),
                "tables": breakdown_tables(report.figures),
            },
        )
    return HTML(string=html).write_pdf()


def report_json(report: Report | None, figures: dict[str, Any], *, kind: str, month: Any) -> dict:
    figures = {k: v for k, v in figures.items() if k != "discrepancies"}
    return {
        "kind": kind,
        "month": f"{month:%Y-%m}",
        "due": due_date(kind, month).isoformat(),
        "version": report.version if report else None,
        "state": report.state if report else "not_drafted",
        "signed_at": report.signed_at.isoformat() if report and report.signed_at else None,
        "sent_at": report.sent_at.isoformat() if report and report.sent_at else None,
        "from": str(report.organisation_from) if report else None,
        "to": str(report.organisation_to) if report else None,
        "figures": figures,
    }
