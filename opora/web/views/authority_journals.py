"""The authority's journals: every form of the services it supervises, always coded — no person
is named to it (regulation 004: personal data "кодируются"). Thin: the filter form, then
`journals.selectors.journal_read` (which checks the policy, codes the rows and audits the read)
and `journals.documents` for the files."""

from __future__ import annotations

import datetime as dt
from itertools import islice
from typing import Any

from django import forms
from django.http import FileResponse
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.utils.translation import gettext_lazy

from opora.accounts.policy import Action
from opora.accounts.workplace import StaffRequest
from opora.core.errors import DomainError
from opora.core.models import Service
from opora.journals.catalogue import FORMATS, FORMS
from opora.journals.dashboards import visible_services
from opora.journals.documents import CONTENT_TYPES, filename, journal_document
from opora.journals.selectors import JournalPeriodError, journal_form_get, journal_read
from opora.scheduling.calendar import local_now
from opora.web.decorators import role_required
from opora.web.forms import DateInput, model_choice_field
from opora.web.views.common import lookup_error, page
from opora.web.views.journals import PAGE_ROWS


class AuthorityJournalForm(forms.Form):
    service: forms.ModelChoiceField[Service] = forms.ModelChoiceField(
        label=gettext_lazy("Service"), queryset=None, required=False, empty_label=None
    )
    date_from = forms.DateField(label=gettext_lazy("From"), required=False, widget=DateInput)
    date_to = forms.DateField(label=gettext_lazy("To"), required=False, widget=DateInput)

    def __init__(self, *args: Any, services: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model_choice_field(self, "service").queryset = services.order_by("name")


def _url(form: str) -> str:
    return reverse("authority_journal", args=[form])


@role_required(Action.JOURNAL_CODED, needs_service=False)
def authority_journal(request: StaffRequest, form: str) -> HttpResponseBase:
    """One journal of one supervised service, coded, on the page and as a file."""
    try:
        journal_form = journal_form_get(form)
    except DomainError as err:
        return lookup_error(request, err)
    services = visible_services(request.user)
    filters = AuthorityJournalForm(request.GET or None, services=services)
    valid = filters.is_valid() if filters.is_bound else False
    data = filters.cleaned_data if valid else {}
    service = data.get("service") or services.order_by("name").first()
    ctx: dict[str, Any] = {
        "nav": "authority_journals",
        "form_code": form,
        "forms": [(f.code, f.title, _url(f.code)) for f in FORMS.values()],
        "title": journal_form.title,
        "columns": journal_form.columns,
        "form": filters,
        "journal": None,
        "rows": [],
        "total": 0,
        "exports": [],
        "service": service,
    }
    if service is None:
        return page(request, "web/journals/authority_journal.html", ctx)
    today = local_now(service).date()
    date_from: dt.date = data.get("date_from") or today.replace(day=1)
    date_to: dt.date = data.get("date_to") or today
    fmt = request.GET.get("format", "")
    export = fmt if fmt in FORMATS else ""
    try:
        journal = journal_read(
            actor=request.user,
            service=service,
            form=form,
            date_from=date_from,
            date_to=date_to,
            export=export,
        )
    except JournalPeriodError as err:
        filters.add_error(None, err.message)
        return page(request, "web/journals/authority_journal.html", ctx, status=400)
    except DomainError as err:
        return lookup_error(request, err)
    if export:
        return FileResponse(
            journal_document(journal, export),
            as_attachment=True,
            filename=filename(journal, export),
            content_type=CONTENT_TYPES[export],
        )
    query = request.GET.copy()
    query["service"] = str(service.pk)
    query["date_from"], query["date_to"] = date_from.isoformat(), date_to.isoformat()
    exports = []
    for each in FORMATS:
        query["format"] = each
        exports.append((each.upper(), f"{_url(form)}?{query.urlencode()}"))
    ctx.update(
        journal=journal,
        rows=list(islice(journal.rows, PAGE_ROWS)),
        total=journal.count,
        exports=exports,
    )
    status = 400 if filters.errors else 200
    return page(request, "web/journals/authority_journal.html", ctx, status=status)
