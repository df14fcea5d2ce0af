"""The start page sends each person to their own screen."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from opora.accounts.models import Role
from opora.accounts.policy import ADMIN, Action, start_role
from opora.web.decorators import forbidden, role_required
from opora.web.views.common import page

# A role (`Role`, a str) → the name of its start page.
HOME_BY_ROLE: dict[str, str] = {
    Role.OPERATOR: "operator_console",
    Role.COORDINATOR: "coordinator_schedules",
    Role.HEAD: "head_schedules",
    Role.CONSULTANT: "consultant_day",
    Role.AUTHORITY: "authority_home",
    Role.SECURITY_OFFICER: "audit_log",
}


def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.is_authenticated:
        # A visitor is most likely a parent looking for help: the public portal, not the login.
        return redirect("portal:index")
    if not user.is_active:
        return forbidden(request)
    role = start_role(user)
    if role == ADMIN:
        return redirect("admin:index")
    target = HOME_BY_ROLE.get(role) if role is not None else None
    if target is None:
        return forbidden(request)
    return redirect(target)


@role_required(Action.AUTHORITY_VIEW, needs_service=False)
def authority_home(request: HttpRequest) -> HttpResponse:
    return page(request, "web/authority.html")
