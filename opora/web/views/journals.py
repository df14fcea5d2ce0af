"""The journals' staff pages (regulations 002, 003, 004): on screen and as files.

Thin: the filter form, then `journals.selectors.journal_read` (which checks access and audits the
read) and `journals.documents` for the files. The old addresses of the two request journals
(`/registries/requests/`, `/registries/appeals/`) keep working.
"""

from __future__ import annotations

import datetime as dt
from itertools import islice

from django.http import FileResponse
from django.http.response import HttpResponseBase
from django.urls import reverse

from opora.accounts import policy
from opora.accounts.policy import Action
from opora.accounts.workplace import StaffRequest
from opora.core.errors import DomainError
from opora.core.models import Service
from opora.intake import selectors as intake_selectors
from opora.journals.catalogue import FORMATS, FORMS
from opora.journals.documents import CONTENT_TYPES, filename, journal_document
from opora.journals.selectors import (
    JournalPeriodError,
    journal_form_get,
    journal_read,
)
from opora.scheduling.calendar import local_day_bounds, local_now
from opora.web.decorators import role_required
from opora.web.forms import RegistryFilterForm
from opora.web.selectors import service_consultant_get
from opora.web.views.common import lookup_error, page

PAGE_ROWS = 500  # the page shows the first rows; the files carry them all
# The forms whose rows are requests: the channel and status filters apply to them.
REQUEST_FORMS = ("requests-002", "appeals-003")


def journal_url(form: str) -> str:
    return reverse("journal", args=[form])


def _period(form: RegistryFilterForm, service: Service) -> tuple[dt.date, dt.date]:
    """The filter's period; the current month by default."""
    today = local_now(service).date()
    data = getattr(form, "cleaned_data", {})
    start = data.get("date_from") or today.replace(day=1)
    end = data.get("date_to") or today
    return start, max(start, end)


def _journal(request: StaffRequest, code: str) -> HttpResponseBase:
    try:
        journal_form = journal_form_get(code)
    except DomainError as err:
        return lookup_error(request, err)
    service = request.service
    user = request.user
    is_consultant = policy.own_only(user, Action.JOURNAL_VIEW)  # their own rows only
    form = RegistryFilterForm(
        request.GET or None, service=service, with_consultant=not is_consultant
    )
    if form.is_bound:
        form.is_valid()
    data = getattr(form, "cleaned_data", {})
    date_from, date_to = _period(form, service)
    consultant = (
        None
        if is_consultant
        else service_consultant_get(service=service, pk=data.get("consultant"))
    )
    fmt = request.GET.get("format", "")
    export = fmt if fmt in FORMATS else ""
    filters = code in REQUEST_FORMS
    try:
        journal = journal_read(
            actor=user,
            service=service,
            form=code,
            date_from=date_from,
            date_to=date_to,
            export=export,
            channel=data.get("channel", "") if filters else "",
            status=data.get("status", "") if filters else "",
            consultant=consultant,
            service_copy=request.GET.get("copy") == "service",
        )
    except JournalPeriodError as err:
        form.add_error(None, err.message)  # only a period typed in: the default one is sound
        journal = None
        export = ""
    except DomainError as err:
        return lookup_error(request, err)
    if export and journal is not None:
        return FileResponse(
            journal_document(journal, export),
            as_attachment=True,
            filename=filename(journal, export),
            content_type=CONTENT_TYPES[export],
        )
    counts = None
    if not is_consultant and filters:
        start = local_day_bounds(service, date_from)[0]
        end = local_day_bounds(service, date_to)[1]
        counts = intake_selectors.services_count(service=service, start=start, end=end)
    query = request.GET.copy()
    query["date_from"] = date_from.isoformat()
    query["date_to"] = date_to.isoformat()
    exports = []
    for each in FORMATS:
        query["format"] = each
        exports.append((each.upper(), f"{journal_url(code)}?{query.urlencode()}"))
    ctx = {
        "nav": "journal",
        "journal": journal,
        "form_code": code,
        "forms": [(f.code, f.title, journal_url(f.code)) for f in FORMS.values()],
        "title": journal_form.title,
        "columns": journal_form.columns,
        "rows": list(islice(journal.rows, PAGE_ROWS)) if journal else [],
        "total": journal.count if journal else 0,
        "form": form,
        "filters": filters,
        "date_from": date_from,
        "date_to": date_to,
        "counts": counts,
        "exports": exports,
    }
    return page(request, "web/journals/journal.html", ctx, status=400 if form.errors else 200)


@role_required(Action.JOURNAL_VIEW)
def journal(request: StaffRequest, form: str) -> HttpResponseBase:
    """One journal of the catalogue (`journals.catalogue.FORMS`)."""
    return _journal(request, form)


@role_required(Action.JOURNAL_VIEW)
def journal_requests(request: StaffRequest) -> HttpResponseBase:
    """«Журнал регистрации заявок на дистанционное консультирование (д/к)», regulation 002."""
    return _journal(request, "requests-002")


@role_required(Action.JOURNAL_VIEW)
def journal_appeals(request: StaffRequest) -> HttpResponseBase:
    """«Журнал учета обращений граждан в дистанционную приемную», regulation 003."""
    return _journal(request, "appeals-003")
