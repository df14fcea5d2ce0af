"""The header's service switcher: a staff member of several services chooses the one they work in."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from opora.accounts.policy import Action
from opora.accounts.workplace import StaffRequest
from opora.core.errors import DomainError
from opora.web.decorators import forbidden, role_required, service_use
from opora.web.selectors import staff_service_get
from opora.web.views.common import go


@role_required(Action.WORKPLACE_USE)
@require_POST
def service_switch(request: StaffRequest) -> HttpResponse:
    """Work in the chosen service; back to the page the switcher was on, where that still makes
    sense (a page of another service's record goes to the start page instead)."""
    service = staff_service_get(user=request.user, pk=request.POST.get("service"))
    if service is None:
        return forbidden(request, _("You do not work for this service."))
    previous = request.service
    try:
        service_use(request, service, previous=previous)
    except DomainError as err:
        return forbidden(request, str(err.message))
    if service.pk != previous.pk:
        messages.success(
            request, _("You now work in the service “%(name)s”.") % {"name": service.name}
        )
    return go(request, _back_to(request, service.pk))


def _back_to(request: HttpRequest, service_pk: int) -> str:
    """`next` when it is a page of this site that does not belong to another service's record."""
    home = reverse("home")
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return home
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return home  # only paths of this site, never another address even on the same host
    try:
        match = resolve(parts.path)
    except Resolver404:
        return home
    service_from = getattr(match.func, "service_from", None)
    if service_from is not None:
        record_service = service_from(**match.kwargs)
        if record_service is not None and record_service.pk != service_pk:
            return home
    return target
