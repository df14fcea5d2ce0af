"""Staff pages of the 1411 chain: the month's forms with their deadlines, a report with its
figures, sign-off, sending, the receiver's answer and corrections. No client is named on them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from opora.accounts import policy as access_policy
from opora.accounts.policy import Action
from opora.accounts.workplace import StaffRequest, forbidden, role_required
from opora.core.errors import DomainError
from opora.reports import documents, selectors, services
from opora.reports import figures as figures_module
from opora.reports.kinds import KINDS
from opora.reports.models import Report

# The requests behind the discrepancies shown per page (the CSV download streams them all).
UNSERVED_PAGE = 100


def _previous_month(today: dt.date) -> dt.date:
    return (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def _see_other(url: str) -> HttpResponse:
    response = redirect(url)
    response.status_code = 303
    return response


def _error_page(request: HttpRequest, err: DomainError) -> HttpResponse:
    status = getattr(err, "http_status", 400)
    if status == 403:
        return forbidden(request, str(err.message))
    return TemplateResponse(request, "reports/error.html", {"message": err.message}, status=status)


@role_required(Action.REPORT_VIEW, needs_service=False)
def report_list(request: StaffRequest) -> HttpResponse:
    """The month's four forms of every service of the actor's organisation, with due dates."""
    user = request.user
    today = timezone.localdate()
    month = _previous_month(today)
    raw = request.GET.get("month")
    if raw:
        service = selectors.services_of(user).first()
        try:
            month = services.parse_month(raw, service=service) if service else month
        except DomainError as err:
            return _error_page(request, err)
    rows = []
    for d in selectors.deadlines(actor=user, month=month, today=today):
        may_draft = (
            access_policy.can(user, Action.REPORT_SIGN)
            and user.organisation_id == getattr(d.service, KINDS[d.kind].sender + "_id")
            and (d.report is None or d.report.state == Report.State.DRAFT)
        )
        visible = d.report is not None and (
            user.organisation_id == d.report.organisation_from_id
            or d.report.state in selectors.SENT_STATES
            and user.organisation_id == d.report.organisation_to_id
            or access_policy.sees_every_service(user)
        )
        rows.append({"d": d, "may_draft": may_draft, "visible": visible})
    ctx = {
        "nav": "reports",
        "month": month,
        "prev_month": _previous_month(month),
        "next_month": (month + dt.timedelta(days=32)).replace(day=1),
        "rows": rows,
        "received": selectors.reports_visible(user)
        .exclude(organisation_from=user.organisation_id)
        .order_by("-sent_at")[:50],
        "schedules": selectors.schedule_deadlines(actor=user, today=today),
        "show_months_forward": month < _previous_month(today),
    }
    return TemplateResponse(request, "reports/list.html", ctx)


@role_required(Action.REPORT_VIEW, needs_service=False)
@require_POST
def report_draft(request: StaffRequest) -> HttpResponse:
    user = request.user
    service = selectors.services_of(user).filter(pk=request.POST.get("service") or 0).first()
    if service is None:
        return forbidden(request)
    try:
        month = services.parse_month(request.POST.get("month"), service=service)
        report = services.report_draft(
            service=service, kind=request.POST.get("kind", ""), month=month, actor=user
        )
    except DomainError as err:
        return _error_page(request, err)
    messages.success(request, _("The draft is ready: check the figures, then sign."))
    return _see_other(reverse("reports:detail", args=[report.pk]))


@role_required(Action.REPORT_VIEW, needs_service=False)
@require_http_methods(["GET", "POST"])
def report_detail(request: StaffRequest, report_id: int) -> HttpResponse:
    user = request.user
    try:
        report = selectors.access_report(user, report_id)
    except DomainError as err:
        return _error_page(request, err)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "redraft":
                report = services.report_draft(
                    service=report.service, kind=report.kind, month=report.month, actor=user
                )
                messages.success(request, _("The figures are recounted."))
            elif action == "sign":
                report = services.report_sign(report=report, actor=user)
                messages.success(request, _("Signed. The report can no longer change."))
            elif action == "send":
                report = services.report_send(report=report, actor=user)
                messages.success(request, _("Sent to %(to)s.") % {"to": report.organisation_to})
            elif action in ("confirm", "dispute"):
                report = services.report_answer(
                    report=report,
                    actor=user,
                    confirm=action == "confirm",
                    comment=request.POST.get("comment", ""),
                )
                messages.success(request, _("Your answer is recorded."))
            elif action == "correct":
                report = services.report_correct(
                    report=report, actor=user, reason=request.POST.get("reason", "")
                )
                messages.success(request, _("A new version is drafted: check it, then sign."))
            else:
                return _error_page(request, DomainError(_("Unknown action.")))
        except DomainError as err:
            return _error_page(request, err)
        return _see_other(reverse("reports:detail", args=[report.pk]))
    figures = report.figures
    sees_requests = selectors.sees_requests(user, report)
    unserved: list[dict] = []
    after = 0
    if sees_requests and "after" in request.GET:
        # The requests behind the discrepancies, as they stand now: a page of them by number.
        try:
            after = max(0, int(request.GET.get("after") or 0))
        except ValueError:
            after = 0
        unserved = figures_module.unserved_page(
            report.service, report.month, after=after, limit=UNSERVED_PAGE
        )
    ctx = {
        "nav": "reports",
        "report": report,
        "spec": KINDS[report.kind],
        "due": services.due_date(report.kind, report.month),
        "tables": documents.breakdown_tables(figures),
        "discrepancies": figures.get("discrepancies", []) if sees_requests else [],
        "unserved_total": sum(g.get("unserved", 0) for g in figures.get("discrepancies", [])),
        "unserved": unserved,
        "unserved_after": after,
        "unserved_next": unserved[-1]["number"] if len(unserved) == UNSERVED_PAGE else None,
        "versions": selectors.versions_of(report, user),
        "responsible": services.is_responsible(user, report),
        "receiver": services.is_receiver(user, report),
        "latest": not hasattr(report, "replaced_by"),
    }
    return TemplateResponse(request, "reports/detail.html", ctx)


@role_required(Action.REPORT_VIEW, needs_service=False)
def report_download(
    request: StaffRequest, report_id: int, fmt: str
) -> HttpResponse | StreamingHttpResponse:
    try:
        report = selectors.access_report(request.user, report_id)
    except DomainError as err:
        return _error_page(request, err)
    if fmt == "csv":  # the requests behind the discrepancies, all of them, streamed
        if not selectors.sees_requests(request.user, report):
            return forbidden(request)
        return _unserved_csv(report)
    if fmt not in ("xlsx", "pdf"):
        raise Http404
    if fmt == "pdf":
        content, mime = documents.report_pdf(report), "application/pdf"
    else:
        content, mime = documents.report_xlsx(report), services.XLSX_MIME
    response = HttpResponse(content, content_type=mime)
    name = documents.report_filename(report, fmt)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _unserved_csv(report: Report) -> StreamingHttpResponse:
    """Every handed-over request of the month with no ended consultation (as of now), by number:
    streamed from a server-side cursor, never held whole (1.1M rows at 2M requests a month)."""
    import csv

    class Echo:
        def write(self, value: str) -> str:
            return value

    writer = csv.writer(Echo())
    rows = figures_module.unserved_qs(report.service, report.month).values_list(
        "req_id", "request__status", "region_name", "consultant_id"
    )

    def lines() -> Iterator[str]:
        yield writer.writerow([_("Request"), _("Status"), _("Region"), _("Consultant")])
        with figures_module.figures_session():
            for number, status, region, consultant in rows.iterator(chunk_size=5000):
                yield writer.writerow([number, status, region or "", consultant or ""])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    name = f"report-{report.kind}-{report.month:%Y-%m}-unserved.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
