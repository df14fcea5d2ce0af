"""Who may run and lead events: the access policy (`accounts.policy`, actions `event.*`) for the
roles and the services, and the events' own record rule — the lead of an event (and, in the room,
its presenters) lead it without the head's `event.moderate`."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from opora.accounts.actors import Subject
from opora.accounts.models import User
from opora.accounts.policy import Action, can, require
from opora.core.errors import PermissionDenied
from opora.events.models import Event


def require_event_staff(user: Subject, record: Any = None, *, service: Any = None) -> User:
    """The user, when the policy lets them run events (`event.run`: 403 otherwise) — of the
    record's or `service`'s service (404 otherwise, so another service's events do not show)."""
    if not isinstance(user, User):
        raise PermissionDenied(_("Your role does not run events."))
    require(user, Action.EVENT_RUN, record, service=service)
    return user


def may_lead(user: Subject, event: Event, *, presenters: bool = False) -> bool:
    """Whether `user` has the lead's controls on `event`: its lead (or, with `presenters`, one of
    its presenters) — a record rule — or a member of staff with `event.moderate` on its service."""
    user_pk = getattr(user, "pk", None)
    if user_pk is not None and user_pk == event.lead_id:
        return True
    if presenters and user_pk is not None and event.presenters.filter(pk=user_pk).exists():
        return True
    return can(user, Action.EVENT_MODERATE, event)
