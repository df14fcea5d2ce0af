"""The header's "service I work in" for staff pages, also on pages the staff decorator does not
wrap (the consultation room, the journal): the same choice, read the same way."""

from __future__ import annotations

from typing import Any

from django import template

from opora.accounts.policy import Action, can
from opora.web.selectors import staff_service, staff_services

register = template.Library()


@register.inclusion_tag("web/partials/service_switcher.html", takes_context=True)
def service_switcher(context: Any) -> dict[str, Any]:
    """The current service and, for a member of several, a form to switch (POST, no script)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not can(user, Action.WORKPLACE_USE):
        return {"services": []}
    services = getattr(request, "staff_services", None)
    if services is None:
        services = staff_services(user)
        current = staff_service(user, request.session, services)
    else:
        current = getattr(request, "service", None) or staff_service(
            user, request.session, services
        )
    return {
        "services": services,
        "current": current,
        # Back to this page after switching — unless it answered a form (a POST address
        # cannot be opened again): then the start page.
        "next": request.get_full_path() if request.method == "GET" else "",
        "csrf_token": context.get("csrf_token"),
    }
