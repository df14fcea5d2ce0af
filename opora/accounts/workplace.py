"""The service a staff member works in, for every staff page of every app.

The choice is kept in the browser's session and on the user row (`User.current_service`, audited
by `staff_service_choose`), checked against the user's services on every request. The staff
decorator `role_required` sets `request.service` from it — or, on a page of one record
(`service_from`), from that record's service, which then becomes the choice.

It lives here, at the bottom of the import picture with the staff accounts, so that the pages of
a domain (the consultation room, the protocol, the journal and the recordings in `consultations`)
use the same mechanism as the staff screens of `web` without importing a higher app; `web`
re-exports these names.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy

from opora.accounts.models import User
from opora.accounts.policy import Action, refusal, sees_every_service
from opora.accounts.services import staff_service_choose
from opora.core.models import Service

# Where the service a staff member chose is kept for this browser (the user row keeps it across
# sign-ins: `User.current_service`).
SESSION_SERVICE_KEY = "staff_service_id"

# What a staff member is told when opening a record switched them to its service.
REQUEST_OF_SERVICE = gettext_lazy(
    "This request belongs to the service “%(name)s”: you now work in it."
)


def staff_services(user: User) -> list[Service]:
    """The active services `user` works for, in a fixed order (their own by primary key).

    An administrator works for every active service: their own first, then the others.
    """
    if not (user.is_authenticated and user.is_active):
        return []
    own = list(user.services.filter(is_active=True).order_by("pk"))
    if not sees_every_service(user):
        return own
    others = Service.objects.filter(is_active=True).exclude(pk__in=[s.pk for s in own])
    return own + list(others.order_by("pk"))


def staff_service(
    user: User, session: Any = None, services: list[Service] | None = None
) -> Service | None:
    """The service a staff member works in: the one chosen in this browser (`session`), else the
    one they chose last (`User.current_service`), else the first of their services.

    A choice is checked on every call against `services` (default: `staff_services(user)`), so a
    service they no longer work for, or one that was closed, falls back to the first.
    """
    if services is None:
        services = staff_services(user)
    if not services:
        return None
    by_pk = {s.pk: s for s in services}
    for candidate in (
        session.get(SESSION_SERVICE_KEY) if session is not None else None,
        user.current_service_id,
    ):
        if candidate in by_pk:
            return by_pk[candidate]
    return services[0]


class StaffRequest(HttpRequest):
    """What a view behind `role_required` receives (for type checking only: at run time it is
    Django's request with these attributes set by the decorator)."""

    user: User
    service: Service
    staff_services: list[Service]


def forbidden(request: HttpRequest, message: str = "") -> HttpResponse:
    return TemplateResponse(request, "403.html", {"message": message}, status=403)


def service_use(
    request: StaffRequest, service: Service, *, previous: Service | None, via: str = "menu"
) -> None:
    """Work in `service` from now on: in this browser (the session) and at the next sign-in (the
    user row, audited). The caller has checked that the user works for it."""
    staff_service_choose(actor=request.user, service=service, previous=previous, via=via)
    request.session[SESSION_SERVICE_KEY] = service.pk
    request.service = service


def role_required(
    action: Action,
    *,
    needs_service: bool = True,
    service_from: Callable[..., Service | None] | None = None,
    switched: Any = REQUEST_OF_SERVICE,
) -> Callable:
    """Let in signed-in users the access policy lets take the action (`role_required(Action.X)`,
    see `opora.accounts.policy`); set `request.service` and `request.staff_services` (every
    service the user works for, for the header's switcher).

    `service_from(**view_kwargs)` names the service of the record a page shows (a request, a
    consultation): when the user works for it and it is not the current one, the user switches to
    it and is told with `switched` (a message with `%(name)s`), so the page, its times and its
    lists are that service's.
    """

    action = Action(action)

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if not isinstance(user, User) or not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            error = refusal(user, action)
            if error is not None:
                return forbidden(request, str(error.message))
            # From here on the request is a `StaffRequest`: the attributes are set just below.
            staff = cast(StaffRequest, request)
            staff.staff_services = staff_services(user)
            service = (
                staff_service(user, request.session, staff.staff_services)
                if needs_service
                else None
            )
            # None only on a page that needs no service (`needs_service=False`).
            staff.service = service  # type: ignore[assignment]
            if needs_service and service is None:
                return TemplateResponse(request, "web/no_service.html", status=403)
            if service_from is not None and service is not None:
                follow_record(staff, service_from(**kwargs), switched=switched)
            if staff.service is None:
                return view(request, *args, **kwargs)
            # Times on the screens are the service's local times (a published fact for callers).
            # Render here, while the service's time zone is active.
            with timezone.override(staff.service.tz):
                response = view(request, *args, **kwargs)
                if isinstance(response, TemplateResponse):
                    response.render()
            return response

        wrapped.action = action  # type: ignore[attr-defined]
        wrapped.service_from = service_from  # type: ignore[attr-defined]
        return wrapped

    return decorator


def follow_record(
    request: StaffRequest, wanted: Service | None, *, switched: Any = REQUEST_OF_SERVICE
) -> bool:
    """Switch to the service of the record being opened, when the user works for it; True when
    the user now works in `wanted`."""
    current = request.service
    if wanted is None:
        return False
    if wanted.pk == current.pk:
        return True
    if not any(s.pk == wanted.pk for s in request.staff_services):
        return False  # not theirs: the page answers "not found" or "forbidden" by itself
    service_use(request, wanted, previous=current, via="record")
    messages.info(request, str(switched) % {"name": wanted.display_name})
    return True
