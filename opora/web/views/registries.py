"""The request registries of regulations 002 (Appendix 2) and 003 (Appendix 2): on screen and as
XLSX, each read audited (how many rows and which filters, never a name)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from opora.accounts.models import Role
from opora.core.errors import DomainError
from opora.intake import selectors as intake_selectors
from opora.intake import services as intake_services
from opora.scheduling.calendar import local_day_bounds, local_now
from opora.web import registries
from opora.web.decorators import role_required
from opora.web.forms import RegistryFilterForm
from opora.web.selectors import service_consultant_get
from opora.web.views.common import lookup_error, page

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NAV = {"requests": "registry_requests", "appeals": "registry_appeals"}


def _period(form: RegistryFilterForm, service: Any) -> tuple[dt.date, dt.date]:
    """The filter's period; the current month by default."""
    today = local_now(service).date()
    data = getattr(form, "cleaned_data", {})
    start = data.get("date_from") or today.replace(day=1)
    end = data.get("date_to") or today
    return start, max(start, end)


def _registry(request: HttpRequest, registry: str) -> HttpResponse:
    service = request.service
    user = request.user
    is_consultant = user.role == Role.CONSULTANT and not user.is_superuser
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
    try:
        qs = registries.registry_requests(
            actor=user,
            service=service,
            date_from=date_from,
            date_to=date_to,
            channel=data.get("channel", ""),
            status=data.get("status", ""),
            consultant=consultant,
        )
    except DomainError as err:
        return lookup_error(request, err)
    rows = registries.registry_rows(registry, qs)
    export = request.GET.get("format") == "xlsx"
    intake_services.registry_read_record(
        actor=user,
        service=service,
        registry=registry,
        export=export,
        rows=len(rows),
        filters={
            "from": date_from.isoformat(),
            "to": date_to.isoformat(),
            "channel": data.get("channel") or None,
            "status": data.get("status") or None,
            "consultant_id": consultant.pk if consultant else None,
        },
    )
    if export:
        response = HttpResponse(
            registries.registry_workbook(registry=registry, rows=rows), content_type=XLSX
        )
        filename = f"{registry}-{date_from:%Y%m%d}-{date_to:%Y%m%d}.xlsx"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
    counts = None
    if not is_consultant:
        start = local_day_bounds(service, date_from)[0]
        end = local_day_bounds(service, date_to)[1]
        counts = intake_selectors.services_count(service=service, start=start, end=end)
    query = request.GET.copy()
    query["date_from"] = date_from.isoformat()
    query["date_to"] = date_to.isoformat()
    query["format"] = "xlsx"
    title, columns = registries.REGISTRIES[registry]
    ctx = {
        "nav": NAV[registry],
        "registry": registry,
        "title": title,
        "columns": columns,
        "rows": rows,
        "form": form,
        "date_from": date_from,
        "date_to": date_to,
        "counts": counts,
        "export_url": f"{reverse(NAV[registry])}?{query.urlencode()}",
    }
    return page(request, "web/registries/registry.html", ctx, status=400 if form.errors else 200)


@role_required(*registries.REGISTRY_ROLES)
def registry_requests(request: HttpRequest) -> HttpResponse:
    """«Журнал регистрации заявок на дистанционное консультирование (д/к)», regulation 002."""
    return _registry(request, "requests")


@role_required(*registries.REGISTRY_ROLES)
def registry_appeals(request: HttpRequest) -> HttpResponse:
    """«Журнал учета обращений граждан в дистанционную приемную», regulation 003."""
    return _registry(request, "appeals")
