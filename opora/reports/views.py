"""Staff pages of the 1411 chain: the month's forms with their deadlines, a report with its
figures, sign-off, sending, the receiver's answer and corrections. No client is named on them."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from opora.accounts.models import Role
from opora.accounts.workplace import StaffRequest, forbidden, role_required
from opora.core.errors import DomainError
from opora.reports import documents, selectors, services
from opora.reports.kinds import KINDS
from opora.reports.models import Report

ROLES = selectors.REPORT_ROLES


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


@role_required(*ROLES, needs_service=False)
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
            user.has_role(*services.RESPONSIBLE_ROLES)
            and user.organisation_id == getattr(d.service, KINDS[d.kind].sender + "_id")
            and (d.report is None or d.report.state == Report.State.DRAFT)
        )
        visible = d.report is not None and (
            user.organisation_id == d.report.organisation_from_id
            or d.report.state in selectors.SENT_STATES
            and user.organisation_id == d.report.organisation_to_id
            or user.is_superuser
            or user.role == Role.ADMIN
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
        "schedules": selectors.schedule_deadlines(actor=user, today=today)
        if user.has_role(Role.HEAD, Role.AUTHORITY, Role.COORDINATOR, Role.ADMIN)
        else [],
        "show_months_forward": month < _previous_month(today),
    }
    return TemplateResponse(request, "reports/list.html", ctx)


@role_required(*ROLES, needs_service=False)
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


@role_required(*ROLES, needs_service=False)
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
    ctx = {
        "nav": "reports",
        "report": report,
        "spec": KINDS[report.kind],
        "due": services.due_date(report.kind, report.month),
        "tables": documents.breakdown_tables(figures),
        "discrepancies": figures.get("discrepancies", [])
        if selectors.sees_requests(user, report)
        else [],
        "versions": selectors.versions_of(report, user),
        "responsible": services.is_responsible(user, report),
        "receiver": services.is_receiver(user, report),
        "latest": not hasattr(report, "replaced_by"),
    }
    return TemplateResponse(request, "reports/detail.html", ctx)


@role_required(*ROLES, needs_service=False)
def report_download(request: StaffRequest, report_id: int, fmt: str) -> HttpResponse:
    try:
        report = selectors.access_report(request.user, report_id)
    except DomainError as err:
        return _error_page(request, err)
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
