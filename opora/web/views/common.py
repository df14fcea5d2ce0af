"""Small helpers shared by the staff views."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django_htmx.http import HttpResponseClientRedirect

from opora.core.errors import DomainError, NotFound
from opora.core.errors import PermissionDenied as DomainPermissionDenied
from opora.scheduling.calendar import local_now
from opora.web.decorators import forbidden


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


def today(service: Any) -> dt.date:
    return local_now(service).date()


def next_month(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def prev_month(month: dt.date) -> dt.date:
    return (month - dt.timedelta(days=1)).replace(day=1)
