"""Role checks for the staff screens: a person without the role gets a plain 403 page, never a trace."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from opora.web.selectors import staff_service


def forbidden(request: HttpRequest, message: str = "") -> HttpResponse:
    return TemplateResponse(request, "403.html", {"message": message}, status=403)


def role_required(*roles: str, needs_service: bool = True) -> Callable:
    """Let in signed-in users with one of `roles` (superusers always); set `request.service`."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not user.has_role(*roles):
                return forbidden(request)
            request.service = staff_service(user) if needs_service else None
            if needs_service and request.service is None:
                return TemplateResponse(request, "web/no_service.html", status=403)
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
        return wrapped

    return decorator
