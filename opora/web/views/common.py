"""Small helpers shared by the staff views."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django_htmx.http import HttpResponseClientRedirect
from django_htmx.middleware import HtmxDetails

from opora.accounts.workplace import StaffRequest
from opora.core.errors import DomainError, NotFound
from opora.core.errors import PermissionDenied as DomainPermissionDenied
from opora.core.models import Service
from opora.scheduling.calendar import local_now
from opora.web.decorators import forbidden


class HtmxStaffRequest(StaffRequest):
    """A staff page's request that also answers htmx (`request.htmx`, set by django-htmx's
    middleware on every request; for type checking only)."""

    htmx: HtmxDetails


def page(
    request: HttpRequest, template: str, context: dict[str, Any] | None = None, status: int = 200
) -> TemplateResponse:
    ctx = {"service": getattr(request, "service", None)}
    ctx.update(context or {})
    return TemplateResponse(request, template, ctx, status=status)


def go(request: HttpRequest, url: str) -> HttpResponse:
    """Redirect after a successful write (303 for plain forms, a client redirect for htmx)."""
    if getattr(request, "htmx", False):
        return HttpResponseClientRedirect(url)
    return _see_other(url)


def _see_other(url: str) -> HttpResponse:
    response = HttpResponseRedirect(url)
    response.status_code = 303
    return response


def lookup_error(request: HttpRequest, err: DomainError) -> HttpResponse:
    """NotFound → 404 page, PermissionDenied → 403 page (services decide who sees what)."""
    if isinstance(err, NotFound):
        raise Http404(str(err.message))
    if isinstance(err, DomainPermissionDenied):
        return forbidden(request, str(err.message))
    raise err


def attach_error(form: Any, err: DomainError, fields_by_code: dict[str, str]) -> None:
    """Show a service's DomainError on the field it is about (by its code), else above the form."""
    field = fields_by_code.get(getattr(err, "code", ""))
    form.add_error(field if field in form.fields else None, err.message)


# Whether the staff lists show the current service or every service of the user ("all"),
# remembered for this browser once chosen.
SCOPE_SESSION_KEY = "staff_list_scope"
SCOPE_ALL = "all"
SCOPE_CURRENT = "current"


def list_services(request: StaffRequest) -> tuple[list[Service], bool]:
    """The services a staff list shows, and whether that is all of the user's: `?scope=all`
    («Все мои службы») or `?scope=current`, else the choice made last in this browser."""
    scope = request.GET.get("scope", "")
    if scope in (SCOPE_ALL, SCOPE_CURRENT):
        request.session[SCOPE_SESSION_KEY] = scope
    else:
        scope = request.session.get(SCOPE_SESSION_KEY, SCOPE_CURRENT)
    services = list(getattr(request, "staff_services", None) or [])
    if scope == SCOPE_ALL and len(services) > 1:
        return services, True
    return [request.service], False


def today(service: Service) -> dt.date:
    return local_now(service).date()


def next_month(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def prev_month(month: dt.date) -> dt.date:
    return (month - dt.timedelta(days=1)).replace(day=1)
