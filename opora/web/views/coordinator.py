"""The coordinator: consultants' monthly schedules (regulation 000 §13: by the 25th for the next
month) and the day's requests sent to the provider (§12: daily 17:45–18:00)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from opora.accounts.policy import Action
from opora.accounts.workplace import StaffRequest
from opora.core.errors import DomainError
from opora.scheduling import selectors as scheduling_selectors
from opora.scheduling import services as scheduling_services
from opora.scheduling.calendar import working_days_in_month
from opora.web.decorators import role_required
from opora.web.forms import ImportForm, ScheduleMonthForm, parse_date, parse_month
from opora.web.selectors import (
    handoff_for,
    schedule_for,
    schedule_get,
    service_consultant_get,
    service_consultants,
)
from opora.web.views.common import go, next_month, page, prev_month, today


def domain_error_lines(err: DomainError) -> tuple[str, list[str]]:
    """(headline, itemised problems) of a DomainError; ScheduleInvalid lists rows in `.errors`."""
    items = list(getattr(err, "errors", None) or [])
    text = str(err.message)
    if items:
        return text.split("\n", 1)[0], items
    return text, []


def _schedules_url(month: dt.date) -> str:
    return f"{reverse('coordinator_schedules')}?month={month:%Y-%m}"


def _schedules_page(
    request: StaffRequest, month: dt.date, status: int = 200, **extra: Any
) -> HttpResponse:
    service = request.service
    local_today = today(service)
    coming = next_month(local_today.replace(day=1))
    by_consultant = {
        s.consultant_id: s
        for s in scheduling_selectors.schedules_for_month(service=service, month=month)
    }
    rows = [
        {"consultant": c, "schedule": by_consultant.get(c.pk)}
        for c in service_consultants(service=service)
    ]
    ctx = {
        "nav": "schedules",
        "month": month,
        "prev_month": prev_month(month),
        "next_month": next_month(month),
        "rows": rows,
        "coming_month": coming,
        "due_date": scheduling_selectors.schedule_due_date(service=service, month=coming),
        "overdue": scheduling_selectors.schedule_overdue(
            service=service, month=coming, today=local_today
        ),
        "import_form": ImportForm(initial={"month": f"{month:%Y-%m}"}),
    }
    ctx.update(extra)
    return page(request, "web/coordinator/schedules.html", ctx, status=status)


@role_required(Action.SCHEDULE_PREPARE)
def schedules(request: StaffRequest) -> HttpResponse:
    month = parse_month(request.GET.get("month")) or next_month(
        today(request.service).replace(day=1)
    )
    return _schedules_page(request, month)


@role_required(Action.SCHEDULE_PREPARE)
@require_POST
def schedule_submit(request: StaffRequest, pk: int) -> HttpResponse:
    schedule = schedule_get(service=request.service, pk=pk)
    if schedule is None:
        raise Http404
    try:
        scheduling_services.schedule_submit(actor=request.user, schedule=schedule)
    except DomainError as err:
        messages.error(request, str(err.message))
    else:
        messages.success(
            request,
            _("The schedule of %(name)s is sent for approval.")
            % {"name": schedule.consultant.display_name},
        )
    return go(request, _schedules_url(schedule.month))


@role_required(Action.SCHEDULE_PREPARE)
@require_POST
def schedule_import(request: StaffRequest) -> HttpResponse:
    form = ImportForm(request.POST, request.FILES)
    month = parse_month(request.POST.get("month")) or next_month(
        today(request.service).replace(day=1)
    )
    if form.is_valid():
        month = form.cleaned_data["month"]
        try:
            imported = scheduling_services.schedule_import_xlsx(
                actor=request.user,
                service=request.service,
                month=month,
                file=form.cleaned_data["file"],
            )
        except DomainError as err:
            headline, items = domain_error_lines(err)
            return _schedules_page(
                request,
                month,
                status=400,
                import_form=form,
                import_error=headline,
                import_errors=items,
            )
        messages.success(
            request,
            _("Imported schedules: %(count)d. Check them and send them for approval.")
            % {"count": len(imported)},
        )
        return go(request, _schedules_url(month))
    return _schedules_page(request, month, status=400, import_form=form)


@role_required(Action.SCHEDULE_PREPARE)
@require_http_methods(["GET", "POST"])
def schedule_edit(request: StaffRequest, consultant_id: int, month: str) -> HttpResponse:
    """One row per working day; pre-filled with the consultation hours as a suggestion."""
    service = request.service
    month_date = parse_month(month)
    consultant = service_consultant_get(service=service, pk=consultant_id)
    if month_date is None or consultant is None:
        raise Http404
    schedule = schedule_for(service=service, consultant=consultant, month=month_date)
    days = working_days_in_month(service, month_date)
    if schedule is not None:
        initial: dict[dt.date, tuple[Any, ...]] = {}
        for period in schedule.periods.all():
            initial.setdefault(
                period.date,
                (period.start_time, period.end_time, period.topic, period.target_group),
            )
        extra_days = sorted(set(initial) - set(days))
        days = sorted(set(days) | set(extra_days))
    else:
        suggestion = (service.consultation_opens, service.consultation_closes)
        initial = {d: suggestion for d in days}
    editable = schedule is None or schedule.status in ("draft", "returned")
    form = ScheduleMonthForm(
        request.POST if request.method == "POST" else None, days=days, initial_periods=initial
    )
    headline = ""
    items: list[str] = []
    if request.method == "POST" and editable and form.is_valid():
        try:
            scheduling_services.schedule_save(
                actor=request.user,
                service=service,
                consultant=consultant,
                month=month_date,
                periods=form.periods,
            )
        except DomainError as err:
            headline, items = domain_error_lines(err)
        else:
            messages.success(
                request,
                _("The schedule of %(name)s for %(month)s is saved.")
                % {"name": consultant.display_name, "month": f"{month_date:%m.%Y}"},
            )
            return go(request, _schedules_url(month_date))
    ctx = {
        "nav": "schedules",
        "consultant": consultant,
        "month": month_date,
        "schedule": schedule,
        "editable": editable,
        "locked": not editable,
        "form": form,
        "save_error": headline,
        "save_errors": items,
    }
    status = 400 if (form.errors or headline) else 200
    return page(request, "web/coordinator/schedule_edit.html", ctx, status=status)


@role_required(Action.SCHEDULE_PREPARE)
@require_http_methods(["GET", "POST"])
def handoff(request: StaffRequest) -> HttpResponse:
    """The day's requests (the list that goes out at the hand-off time) and whether it went."""
    service = request.service
    date = parse_date(request.GET.get("date") or request.POST.get("date")) or today(service)
    if request.method == "POST":
        try:
            run = scheduling_services.handoff_send(service=service, date=date, actor=request.user)
        except DomainError as err:
            messages.error(request, str(err.message))
        else:
            messages.success(
                request,
                _("Sent: %(count)d requests of %(date)s to %(to)s.")
                % {
                    "count": run.request_count,
                    "date": f"{date:%d.%m.%Y}",
                    "to": ", ".join(run.recipients),
                },
            )
        return go(request, f"{reverse('coordinator_handoff')}?date={date:%Y-%m-%d}")
    # Every request once, in the first hand-off after it: what is in this one, what waits (issue 11).
    requests, later = scheduling_services.handoff_lists(service=service, date=date)
    ctx = {
        "nav": "handoff",
        "date": date,
        "prev_date": date - dt.timedelta(days=1),
        "next_date": date + dt.timedelta(days=1),
        "requests": requests,
        "later": later,
        "run": handoff_for(service=service, date=date),
    }
    return page(request, "web/coordinator/handoff.html", ctx)
