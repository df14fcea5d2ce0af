"""The security officer's audit log: filter, read, export (CSV, XLSX), and break-glass details.

The list shows who did what to which record and when. The details (`extra`) of a read of
personal data — what was looked at, which filters — open only with a written reason, and that
opening is itself an audit event carrying the reason. Viewing and exporting the log are audited
too (the filters, never the rows). One URL: GET lists or exports (`?format=csv|xlsx`), POST opens
the details of one event.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any

from django import forms
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.cache import never_cache

from opora.accounts.policy import Action
from opora.accounts.workplace import StaffRequest, role_required
from opora.core.audit import AuditEventType, audit_record, is_personal_data_read
from opora.core.inputs import SaneDateField
from opora.core.models import AuditEvent
from opora.web.forms import DateInput, choice_field
from opora.web.views.common import page

PER_PAGE = 50
EXPORT_LIMIT = 100_000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class AuditFilterForm(forms.Form):
    show_optional = False

    date_from = SaneDateField(
        label=pgettext_lazy("date range", "From"), required=False, widget=DateInput
    )
    date_to = SaneDateField(
        label=pgettext_lazy("date range", "To"), required=False, widget=DateInput
    )
    actor = forms.CharField(label=_("Actor (username)"), required=False, max_length=150, strip=True)
    event_type = forms.ChoiceField(label=_("Event type"), required=False)
    subject_type = forms.CharField(
        label=_("Record type"), required=False, max_length=64, strip=True
    )
    subject_id = forms.CharField(label=_("Record id"), required=False, max_length=64, strip=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "event_type").choices = [("", _("All events"))] + [
            (t.value, t.value) for t in AuditEventType
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end of the period is before its start."))
        return data


class BreakGlassForm(forms.Form):
    event = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(
        label=_("Why do you need the details of this read?"),
        help_text=_("Recorded in the audit log with your name, e.g. “complaint No. 12 check”."),
        min_length=10,
        max_length=300,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


def _filtered(data: dict[str, Any]) -> QuerySet[AuditEvent]:
    qs = AuditEvent.objects.order_by("-seq")
    tz = timezone.get_current_timezone()
    if data.get("date_from"):
        qs = qs.filter(created_at__gte=dt.datetime.combine(data["date_from"], dt.time(), tz))
    if data.get("date_to"):
        end = dt.datetime.combine(data["date_to"] + dt.timedelta(days=1), dt.time(), tz)
        qs = qs.filter(created_at__lt=end)
    if data.get("actor"):
        qs = qs.filter(actor_label__istartswith=data["actor"])
    if data.get("event_type"):
        qs = qs.filter(event_type=data["event_type"])
    if data.get("subject_type"):
        qs = qs.filter(subject_type=data["subject_type"].lower())
    if data.get("subject_id"):
        qs = qs.filter(subject_id=data["subject_id"])
    return qs


def _filters(data: dict[str, Any]) -> dict[str, Any]:
    """What was asked, for the audit of the read (no rows)."""
    return {
        k: (v.isoformat() if isinstance(v, dt.date) else v)
        for k, v in data.items()
        if v not in (None, "")
    }


def _details(event: AuditEvent) -> str:
    return json.dumps(event.extra, ensure_ascii=False, sort_keys=True)


def _row(event: AuditEvent) -> list[Any]:
    hidden = is_personal_data_read(event.event_type)
    return [
        "—" if event.seq is None else event.seq,  # not sealed yet: numbered within a minute
        timezone.localtime(event.created_at).strftime("%Y-%m-%d %H:%M:%S"),
        event.actor_label or "—",
        event.event_type,
        event.subject_type,
        event.subject_id,
        str(_("hidden: a read of personal data")) if hidden else _details(event),
    ]


COLUMNS = (
    _("No."),
    _("Time"),
    _("Actor"),
    _("Event type"),
    _("Record type"),
    _("Record id"),
    _("Details"),
)


def _export(request: StaffRequest, qs: QuerySet[AuditEvent], fmt: str, data: dict) -> HttpResponse:
    events = list(qs[:EXPORT_LIMIT])
    audit_record(
        actor=request.user,
        event_type=AuditEventType.AUDIT_LOG_EXPORTED,
        subject=request.user,
        extra={"format": fmt, "rows": len(events), "filters": _filters(data)},
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    if fmt == "xlsx":
        from openpyxl import Workbook

        from opora.core.exports import write_row

        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.title = "audit"
        write_row(sheet, [str(c) for c in COLUMNS])
        for event in events:
            write_row(sheet, _row(event))
        buffer = io.BytesIO()
        book.save(buffer)
        response = HttpResponse(buffer.getvalue(), content_type=XLSX)
        response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.xlsx"'
        return response
    from opora.core.exports import plain_text

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([str(c) for c in COLUMNS])
    for event in events:
        # Text cells as the XLSX writer makes them: no control characters, no formulas.
        writer.writerow(
            [
                ("'" + plain_text(v) if v.startswith(("=", "+", "-", "@")) else plain_text(v))
                if isinstance(v, str)
                else v
                for v in _row(event)
            ]
        )
    response = HttpResponse("\ufeff" + out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
    return response


def _break_glass(request: StaffRequest) -> HttpResponse:
    if "reason" not in request.POST:
        # From the list: ask for the reason first.
        pk = request.POST.get("event", "")
        event = AuditEvent.objects.filter(pk=pk).first() if pk.isdigit() else None
        return page(
            request,
            "web/audit_log_details.html",
            {
                "nav": "audit_log",
                "form": BreakGlassForm(initial={"event": pk}),
                "event": event,
                "row": _row(event) if event else None,
            },
            status=200 if event else 404,
        )
    form = BreakGlassForm(request.POST)
    event = None
    if form.is_valid():
        event = AuditEvent.objects.filter(pk=form.cleaned_data["event"]).first()
    if event is None or not form.is_valid():
        pk = request.POST.get("event", "")
        event = AuditEvent.objects.filter(pk=pk).first() if pk.isdigit() else None
        return page(
            request,
            "web/audit_log_details.html",
            {
                "nav": "audit_log",
                "form": form,
                "event": event,
                "row": _row(event) if event else None,
            },
            status=400,
        )
    audit_record(
        actor=request.user,
        event_type=AuditEventType.AUDIT_DETAILS_OPENED,
        subject=event,
        extra={
            "seq": "—" if event.seq is None else event.seq,
            "event_type": event.event_type,
            "reason": form.cleaned_data["reason"],
        },
    )
    return page(
        request,
        "web/audit_log_details.html",
        {"nav": "audit_log", "event": event, "row": _row(event), "details": _details(event)},
    )


@never_cache
@role_required(Action.AUDIT_VIEW, needs_service=False)
def audit_log(request: StaffRequest) -> HttpResponse:
    if request.method == "POST":
        return _break_glass(request)
    form = AuditFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    qs = _filtered(data)
    fmt = request.GET.get("format", "")
    if fmt in ("csv", "xlsx") and (not form.is_bound or form.is_valid()):
        return _export(request, qs, fmt, data)
    number = request.GET.get("page", "1")
    # Recorded before the page is counted, so that the count and the rows agree.
    audit_record(
        actor=request.user,
        event_type=AuditEventType.AUDIT_LOG_VIEWED,
        subject=request.user,
        extra={"page": number[:10], "filters": _filters(data)},
    )
    current = Paginator(qs, PER_PAGE).get_page(number)
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("format", None)
    rows = [
        {"event": e, "cells": _row(e), "hidden": is_personal_data_read(e.event_type)}
        for e in current.object_list
    ]
    return page(
        request,
        "web/audit_log.html",
        {
            "nav": "audit_log",
            "form": form,
            "rows": rows,
            "page_obj": current,
            "columns": COLUMNS,
            "query": query.urlencode(),
        },
    )
