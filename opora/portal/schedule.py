"""The month's schedule of planned consultations as the service publishes it (regulation 003
§3.6, Appendix 1): a page and the Word document, both read live from the approved schedules, so
they change as soon as an approved schedule does."""

from __future__ import annotations

import datetime as dt

from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.views.decorators.http import require_GET

from opora.journals.documents import CONTENT_TYPES, journal_document
from opora.journals.selectors import schedule_public
from opora.portal.views import _not_found, _render, _service_or_404
from opora.scheduling.calendar import local_now

MONTHS_BACK = 12  # a year of published schedules stays readable; the next month once approved


def _month(service: object, text: str) -> dt.date | None:
    """The first day of `text` (YYYY-MM), when it is a month the service publishes."""
    try:
        year, month = (int(part) for part in text.split("-"))
        first = dt.date(year, month, 1)
    except ValueError:
        return None
    today = local_now(service).date()
    index = first.year * 12 + first.month
    now = today.year * 12 + today.month
    return first if now - MONTHS_BACK <= index <= now + 1 else None


@require_GET
def schedule_month(request: HttpRequest, code: str, month: str) -> HttpResponse:
    service = _service_or_404(request, code)
    first = _month(service, month) if service is not None else None
    if service is None or first is None:
        return _not_found(request, service=service)
    journal = schedule_public(service=service, month=first)
    return _render(
        request,
        "portal/schedule.html",
        {"journal": journal, "rows": list(journal.rows), "month": first},
        service=service,
    )


@require_GET
def schedule_docx(request: HttpRequest, code: str, month: str) -> HttpResponseBase:
    service = _service_or_404(request, code)
    first = _month(service, month) if service is not None else None
    if service is None or first is None:
        return _not_found(request, service=service)
    journal = schedule_public(service=service, month=first)
    return FileResponse(
        journal_document(journal, "docx"),
        as_attachment=True,
        filename=f"grafik-{service.code}-{first:%Y-%m}.docx",
        content_type=CONTENT_TYPES["docx"],
    )
