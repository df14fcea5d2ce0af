"""Who may run events, until the access policy (`accounts.policy`) names event actions: a
consultant, the head or a coordinator of the event's service; an administrator of any."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from opora.accounts.models import Role, User
from opora.accounts.policy import works_for
from opora.core.errors import NotFound, PermissionDenied

EVENT_ROLES = (Role.CONSULTANT, Role.HEAD, Role.COORDINATOR, Role.ADMIN)


def require_event_staff(user: Any, service_id: int | None = None) -> User:
    """The user, when their role runs events (403 otherwise) and they work for `service_id`
    (404 otherwise, so that another service's events do not show)."""
    if not isinstance(user, User) or not user.has_role(*EVENT_ROLES):
        raise PermissionDenied(_("Your role does not run events."))
    if service_id is not None and not (user.is_superuser or works_for(user, service_id)):
        raise NotFound(_("Event not found."))
    return user
