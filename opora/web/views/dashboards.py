"""The dashboards: pictures first, a table behind every picture, every chart exportable as its
data (`?export=csv|xlsx&chart=<key>`).

The figures are `opora.journals.dashboards` (database aggregations); the questionnaires' SLA
reads `quality` here (web may import it, journals may not). The authority sees the services it
supervises, as counts only: no list of requests behind a miss, consultants by number.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from typing import Any

from django import forms
from django.db.models import Count, F, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from openpyxl import Workbook

from opora.accounts.policy import Action
from opora.consultations.models import Topic
from opora.core.exports import FORMULA_STARTS, plain_text, write_row
from opora.core.models import Organisation, Region, Service
from opora.intake.models import Channel, ServiceForm, ServiceKind
from opora.journals import dashboards as d
from opora.quality.models import Evaluation
from opora.reports.figures import next_month
from opora.reports.kinds import KINDS, due_date
from opora.reports.models import Report
from opora.reports.selectors import SENT_STATES
from opora.web.decorators import role_required
from opora.web.forms import model_choice_field
from opora.web.templatetags.charts import Chart, bars, lines, stacked
from opora.web.views.common import page

MAX_DAYS = 366
EXPORTS = ("csv", "xlsx")


class DashboardForm(forms.Form):
    date_from = forms.DateField(
        label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    service: forms.ModelChoiceField[Service] = forms.ModelChoiceField(
        label=gettext_lazy("Service"), queryset=None, required=False, empty_label="—"
    )
    organisation: forms.ModelChoiceField[Organisation] = forms.ModelChoiceField(
        label=gettext_lazy("Organisation"), queryset=None, required=False, empty_label="—"
    )
    region: forms.ModelChoiceField[Region] = forms.ModelChoiceField(
        label=gettext_lazy("Region"), queryset=None, required=False, empty_label="—"
    )

    def __init__(self, *args: Any, services: QuerySet[Service], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model_choice_field(self, "service").queryset = services.order_by("name")
        ids = list(services.values_list("pk", flat=True))
        model_choice_field(self, "organisation").queryset = Organisation.objects.filter(
            Q(intake_services__in=ids) | Q(provided_services__in=ids)
        ).distinct()
        model_choice_field(self, "region").queryset = Region.objects.order_by("name_ru")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            raise forms.ValidationError(_("The end of the period is before its start."))
        if start and end and (end - start).days >= MAX_DAYS:
            raise forms.ValidationError(
                _("A period of at most %(days)s days, please.") % {"days": MAX_DAYS}
            )
        return data


def sla_questionnaires(f: d.DashboardFilter, *, now: dt.datetime | None = None) -> d.Sla:
    """Questionnaires (the parents' evaluation) returned within 3 calendar days of the service:
    an evaluation is due once its window has closed or it was submitted; it meets the target when
    submitted before the window closed."""
    now = now or timezone.now()
    qs = Evaluation.objects.filter(
        service__in=f.services(), served_at__gte=f.start, served_at__lt=f.end
    ).filter(Q(submitted_at__isnull=False) | Q(closes_at__lte=now))
    if f.region_id:
        qs = qs.filter(request__region_id=f.region_id)
    met = Q(submitted_at__isnull=False, submitted_at__lte=F("closes_at"))
    counts = qs.aggregate(due=Count("id"), met=Count("id", filter=met))
    misses = qs.exclude(met).order_by("served_at")
    return d.Sla(
        key="questionnaires",
        name=_("Questionnaires within 3 calendar days of the service"),
        target=_("Every questionnaire answered within its 3 days"),
        due=counts["due"],
        met=counts["met"],
        misses=d.miss_rows(misses, f, "request_id", "request__public_code", "served_at"),
    )


def sla_reports(f: d.DashboardFilter, *, today: dt.date | None = None) -> d.Sla:
    """The 1411 reports by their dates (regulation 000 §21–23): every form of every month whose
    due day (the 5th, 10th or 15th of the next month) falls in the period. A report is due once its
    day has passed or it was sent; it meets the target when its latest version was sent on or
    before that day. The list behind the misses names the service, form and month (no person);
    the authority gets the counts only. Reports are per service: the region filter does not cut
    them. A few dozen rows, read by one query."""
    today = today or timezone.localdate()
    months = []
    month = (f.date_from.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    while month <= f.date_to:
        months.append(month)
        month = next_month(month)
    services = list(f.services().order_by("name"))
    latest: dict[tuple[int, str, dt.date], Report] = {}
    for report in Report.objects.filter(service__in=services, month__in=months).order_by("version"):
        latest[(report.service_id, report.kind, report.month)] = report
    due = met = 0
    misses: list[dict[str, Any]] = []
    for service in services:
        for month in months:
            for kind, spec in KINDS.items():
                deadline = due_date(kind, month)
                if getattr(service, f"{spec.receiver}_id") is None or not (
                    f.date_from <= deadline <= f.date_to
                ):
                    continue
                found = latest.get((service.pk, kind, month))
                sent_on = (
                    timezone.localdate(found.sent_at)
                    if found is not None and found.state in SENT_STATES and found.sent_at
                    else None
                )
                if sent_on is None and deadline >= today:
                    continue  # not yet due
                due += 1
                if sent_on is not None and sent_on <= deadline:
                    met += 1
                    continue
                if f.persons and len(misses) < d.MISS_LIST_LIMIT:
                    state = (
                        _("sent %(day)s") % {"day": f"{sent_on:%d.%m.%Y}"}
                        if sent_on
                        else _("not sent")
                    )
                    misses.append(
                        {
                            "label": f"{service.name} · {kind} · {month:%m.%Y} · "
                            + _("due %(day)s") % {"day": f"{deadline:%d.%m.%Y}"}
                            + f" · {state}"
                        }
                    )
    return d.Sla(
        key="reports",
        name=_(
            "Monthly reports by their dates (3.1 by the 5th, 3.2 by the 10th, 3.3–3.4 by the 15th)"
        ),
        target=_("Every report sent by its date"),
        due=due,
        met=met,
        misses=misses,
    )


def _region_name(row: dict[str, Any]) -> str:
    """The region's name in the page's language (Russian when there is none)."""
    lang = (get_language() or "ru").split("-")[0]
    return row.get(f"region__name_{lang}") or row.get("region__name_ru") or ""


def _label(choices: Any, value: Any) -> str:
    return str(dict(choices).get(value, value or "—"))


def _builders(f: d.DashboardFilter) -> dict[str, Callable[[], Chart]]:
    """Every chart of the page by its key, built only when asked (an export builds one)."""

    def per_day() -> Chart:
        data = d.requests_per_day(f)
        rows = [[r["day"], r["requests"], r["persons"]] for r in data]
        total = sum(r["requests"] for r in data)
        persons = sum(r["persons"] for r in data)
        return lines(
            "per-day",
            _("Requests per day"),
            _("%(n)s requests in %(days)s days; on the busiest day %(max)s.")
            % {"n": total, "days": len(rows), "max": max((r[1] for r in rows), default=0)}
            + " "
            + _("Persons per day summed: %(p)s.") % {"p": persons},
            _("Day"),
            [_("Requests"), _("Persons")],
            rows,
        )

    def per_channel() -> Chart:
        data = d.requests_per_channel(f)
        rows = [[_label(Channel.choices, r["channel"]), r["requests"]] for r in data]
        top = rows[0] if rows else None
        summary = (
            _("Most requests came by %(channel)s: %(n)s of %(total)s.")
            % {"channel": top[0], "n": top[1], "total": sum(r[1] for r in rows)}
            if top
            else _("No requests in this period.")
        )
        return bars(
            "per-channel",
            _("Requests per channel"),
            summary,
            [_("Channel"), _("Requests")],
            rows,
        )

    def kinds() -> Chart:
        data = d.services_by_kind_and_form(f)
        forms_seen = sorted({r["preferred_form"] for r in data})
        series = [_label(ServiceForm.choices, v) for v in forms_seen]
        rows = []
        for kind, _name in ServiceKind.choices:
            counts = {r["preferred_form"]: r["services"] for r in data if r["kind"] == kind}
            if counts:
                rows.append(
                    [_label(ServiceKind.choices, kind), *[counts.get(v, 0) for v in forms_seen]]
                )
        total = sum(r["services"] for r in data)
        return stacked(
            "kinds",
            _("Services by kind and form"),
            _("%(n)s services given, by kind and in the form the client asked for.") % {"n": total},
            _("Kind"),
            series,
            rows,
        )

    def topic_chart() -> Chart:
        rows = [[_label(Topic.choices, r["topic"]), r["protocols"]] for r in d.topics(f)]
        return bars(
            "topics",
            _("Topics of consultations"),
            _("%(n)s protocols written in this period.") % {"n": sum(r[1] for r in rows)},
            [_("Topic"), _("Protocols")],
            rows,
        )

    def region_chart() -> Chart:
        rows = [[_region_name(r) or _("Region not given"), r["requests"]] for r in d.regions(f)]
        return bars(
            "regions",
            _("Requests by region"),
            _("Requests from %(n)s regions.") % {"n": len(rows)},
            [_("Region"), _("Requests")],
            rows,
        )

    def load() -> Chart:
        data = d.consultant_load(f)
        rows = [
            [
                r["consultant"],
                r["held"],
                r["consultations"] - r["held"] - r["no_shows"],
                r["no_shows"],
                r["mean_minutes"],
            ]
            for r in data
        ]
        chart = stacked(
            "load",
            _("Consultant load"),
            _("%(n)s consultants; %(c)s consultations booked in this period.")
            % {"n": len(rows), "c": sum(r["consultations"] for r in data)},
            _("Consultant"),
            [_("Held"), _("Other"), _("No-show")],
            [r[:4] for r in rows],
        )
        chart.columns.append(_("Mean length, minutes"))
        chart.rows = rows
        return chart

    def lead() -> Chart:
        data = d.booking_lead_time(f)
        rows = [[r["lead_days"], r["requests"]] for r in data]
        late = sum(r[1] for r in rows if r[0] > 10)
        return bars(
            "lead",
            _("Booking lead time, days from request to booking"),
            _("%(n)s requests booked; %(late)s of them later than 10 days after the request.")
            % {"n": sum(r[1] for r in rows), "late": late},
            [_("Days"), _("Requests")],
            rows,
        )

    return {
        "per-day": per_day,
        "per-channel": per_channel,
        "kinds": kinds,
        "topics": topic_chart,
        "regions": region_chart,
        "load": load,
        "lead": lead,
    }


def _csv_cell(value: Any) -> Any:
    if isinstance(value, str):
        text = plain_text(value)
        return "'" + text if text.startswith(FORMULA_STARTS) else text
    return "" if value is None else value


def export(chart: Chart, fmt: str) -> HttpResponse:
    """The chart's table as CSV or XLSX (every text cell plain text)."""
    filename = f"opora-{chart.key}.{fmt}"
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([_csv_cell(c) for c in chart.columns])
        for row in chart.rows:
            writer.writerow([_csv_cell(c) for c in row])
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    else:
        book = Workbook()
        sheet = book.active
        assert sheet is not None  # a new workbook has its one worksheet
        sheet.title = chart.key[:31]
        write_row(sheet, chart.columns)
        for row in chart.rows:
            write_row(sheet, row)
        out = io.BytesIO()
        book.save(out)
        response = HttpResponse(
            out.getvalue(),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def sla_export(slas: list[d.Sla], fmt: str) -> HttpResponse:
    chart = Chart(
        "sla",
        _("Service levels"),
        "",
        [_("Target"), _("Due"), _("Met"), _("Missed"), _("Actual, %")],
        [[s.name, s.due, s.met, s.missed, s.actual] for s in slas if s.measured],
    )
    return export(chart, fmt)


@role_required(Action.DASHBOARD_VIEW, needs_service=False)
def dashboard(request: HttpRequest) -> HttpResponse:
    services = d.visible_services(request.user)
    form = DashboardForm(request.GET or None, services=services)
    today = timezone.localdate()
    date_from, date_to = today - dt.timedelta(days=29), today
    service_ids = tuple(services.values_list("pk", flat=True))
    organisation_id = region_id = None
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        date_from = data["date_from"] or date_from
        date_to = data["date_to"] or date_to
        if date_to < date_from:
            date_from = date_to - dt.timedelta(days=29)
        if data["service"] is not None:
            service_ids = (data["service"].pk,)
        organisation_id = data["organisation"].pk if data["organisation"] else None
        region_id = data["region"].pk if data["region"] else None
    elif form.is_bound:
        return page(
            request, "web/dashboards/index.html", {"nav": "dashboards", "form": form}, status=400
        )
    f = d.DashboardFilter(
        date_from=date_from,
        date_to=date_to,
        service_ids=service_ids,
        organisation_id=organisation_id,
        region_id=region_id,
        persons=d.shows_persons(request.user),
    )
    with d.dashboard_session():
        return _answer(request, form, f)


def _answer(request: HttpRequest, form: DashboardForm, f: d.DashboardFilter) -> HttpResponse:
    builders = _builders(f)
    fmt = request.GET.get("export", "")
    if fmt:
        key = request.GET.get("chart", "")
        if fmt not in EXPORTS or (key not in builders and key != "sla"):
            return HttpResponse(
                _("No such chart or format."), status=404, content_type="text/plain"
            )
        if key == "sla":
            return sla_export(_slas(f), fmt)
        return export(builders[key](), fmt)
    ctx = {
        "nav": "dashboards",
        "form": form,
        "filter": f,
        "charts": [build() for build in builders.values()],
        "slas": _slas(f),
        "persons": f.persons,
    }
    response = page(request, "web/dashboards/index.html", ctx)
    response.render()  # the figures are read inside the session's transaction
    return response


def _slas(f: d.DashboardFilter) -> list[d.Sla]:
    return [
        *d.registered_slas(f),
        d.sla_service_within_days(f),
        sla_questionnaires(f),
        sla_reports(f),
        d.sla_schedules(f),
    ]
