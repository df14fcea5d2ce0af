"""Role checks for the staff screens: a person without the role gets a plain 403 page, never a trace.

The same decorator decides which service a screen works in (`request.service`): the one the staff
member chose, checked against their services on every request — or, on a page of one record
(`service_from`), that record's service, which then becomes their choice.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from opora.accounts.services import staff_service_choose
from opora.core.models import Service
from opora.web.selectors import SESSION_SERVICE_KEY, staff_service, staff_services


def forbidden(request: HttpRequest, message: str = "") -> HttpResponse:
    return TemplateResponse(request, "403.html", {"message": message}, status=403)


def service_use(
    request: HttpRequest, service: Service, *, previous: Service | None, via: str = "menu"
) -> None:
    """Work in `service` from now on: in this browser (the session) and at the next sign-in (the
    user row, audited). The caller has checked that the user works for it."""
    staff_service_choose(actor=request.user, service=service, previous=previous, via=via)
    request.session[SESSION_SERVICE_KEY] = service.pk
    request.service = service


def role_required(
    *roles: str,
    needs_service: bool = True,
    service_from: Callable[..., Service | None] | None = None,
) -> Callable:
    """Let in signed-in users with one of `roles` (superusers always); set `request.service` and
    `request.staff_services` (every service the user works for, for the header's switcher).

    `service_from(**view_kwargs)` names the service of the record a page shows (a request): when
    the user works for it and it is not the current one, the user switches to it (and is told),
    so the page, its times and its lists are that service's.
    """

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not user.has_role(*roles):
                return forbidden(request)
            request.staff_services = staff_services(user)
            request.service = (
                staff_service(user, request.session, request.staff_services)
                if needs_service
                else None
            )
            if needs_service and request.service is None:
                return TemplateResponse(request, "web/no_service.html", status=403)
            if service_from is not None and request.service is not None:
                _follow_record(request, service_from(**kwargs))
            if request.service is None:
                return view(request, *args, **kwargs)
            # Times on the screens are the service's local times (a published fact for callers).
            # Render here, while the service's time zone is active.
            with timezone.override(request.service.tz):
                response = view(request, *args, **kwargs)
                if isinstance(response, TemplateResponse):
                    response.render()
            return response

        wrapped.roles = roles  # type: ignore[attr-defined]
        wrapped.service_from = service_from  # type: ignore[attr-defined]
        return wrapped

    return decorator


def _follow_record(request: HttpRequest, wanted: Service | None) -> None:
    """Switch to the service of the record being opened, when the user works for it."""
    current = request.service
    if wanted is None or wanted.pk == current.pk:
        return
    if not any(s.pk == wanted.pk for s in request.staff_services):
        return  # not theirs: the page answers "not found" or "forbidden" by itself
    service_use(request, wanted, previous=current, via="record")
    messages.info(
        request,
        _("This request belongs to the service “%(name)s”: you now work in it.")
        % {"name": wanted.name},
    )
