"""What every seam of the scheduling writes shares: permission checks (on the access policy),
small helpers and `ScheduleInvalid`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from opora.accounts import policy
from opora.accounts.actors import Actor, User
from opora.accounts.policy import Action
from opora.core.actors import ClientActor
from opora.core.errors import DomainError, PermissionDenied
from opora.scheduling.calendar import ServiceCalendar
from opora.scheduling.models import Schedule

# PostgreSQL's SQLSTATE for a row lock that NOWAIT could not take.
LOCK_NOT_AVAILABLE = "55P03"

# What each seam asks the access policy (`opora.accounts.policy.RULES` says who may). The old
# names of the role lists stay for the callers that pass them to `_require`.
SCHEDULE_EDITORS = Action.SCHEDULE_EDIT
SCHEDULE_SUBMITTERS = Action.SCHEDULE_PREPARE
SCHEDULE_APPROVERS = Action.SCHEDULE_APPROVE
BOOKING_ROLES = Action.REQUEST_BOOK
HANDOFF_ROLES = Action.HANDOFF_SEND

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ScheduleInvalid(DomainError):
    """A schedule (or an imported file) with problems; `errors` lists every one of them."""

    code = "schedule_invalid"

    def __init__(self, errors: Sequence[str], *, header: str | None = None) -> None:
        self.errors = list(errors)
        lines = [header or _("The schedule has errors:")] + [f"— {e}" for e in self.errors]
        super().__init__("\n".join(lines))


# --- helpers ----------------------------------------------------------------------------------


def _d(date: dt.date) -> str:
    return date.strftime("%d.%m.%Y")


def _t(time: dt.time) -> str:
    return time.strftime("%H:%M")


def _m(month: dt.date) -> str:
    return month.strftime("%m.%Y")


@dataclass(frozen=True)
class _RequestOf:
    """What the policy judges a client's booking by: their request of a service."""

    request_id: int | None
    service: Any


def _require_role(
    actor: Actor,
    action: Action,
    *,
    service: Any,
    message: str,
    allow_api: bool = False,
    request_id: int | None = None,
) -> None:
    """Everything `_require` checks except that a staff actor works for `service`.

    The booking path asks that last question inside its request lock query instead of in a round
    trip of its own (`_lock_request_and_slot(member_id=...)`).
    """
    if isinstance(actor, ClientActor):
        # Their own request, of a service that lets clients book themselves (the policy's rule).
        if request_id is None or not policy.can(actor, action, _RequestOf(request_id, service)):
            raise PermissionDenied(message)
        return
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        raise PermissionDenied(message)
    allowed = policy.can(actor, action)
    if not allowed and allow_api and isinstance(actor, User):
        # An integration account (the call-centre software) acts through a live API token.
        allowed = actor.api_tokens.filter(revoked_at__isnull=True).exists()
    if not allowed:
        raise PermissionDenied(message)


def _not_member() -> PermissionDenied:
    return PermissionDenied(_("You do not work for this service."))


def _member_to_check(actor: Actor) -> int | None:
    """The user id whose membership of the service is still to be checked, or None (a client
    acting on their own request, or an administrator, who works for every service)."""
    if isinstance(actor, ClientActor) or policy.sees_every_service(actor):
        return None
    return actor.pk


def _require(
    actor: Actor,
    action: Action,
    *,
    service: Any,
    message: str,
    allow_api: bool = False,
    request_id: int | None = None,
) -> None:
    """Raise PermissionDenied unless the policy lets `actor` take `action` and they work for
    `service`.

    A `ClientActor` passes only for its own request (`request_id`) of a service that lets
    clients book themselves.
    """
    _require_role(
        actor, action, service=service, message=message, allow_api=allow_api, request_id=request_id
    )
    member_id = _member_to_check(actor)
    if member_id is not None and not (
        isinstance(actor, User) and actor.services.filter(pk=service.pk).exists()
    ):
        raise _not_member()


def _check_consultant(service: Any, consultant: Any) -> None:
    # A person who holds consultations (the policy's `consultation.conduct`), still active.
    if not policy.can(consultant, Action.CONSULTATION_CONDUCT):
        raise DomainError(
            _("%(name)s is not an active consultant.") % {"name": consultant.display_name},
            code="not_consultant",
        )
    if not consultant.services.filter(pk=service.pk).exists():
        raise DomainError(
            _("%(name)s is not a consultant of this service.") % {"name": consultant.display_name},
            code="not_consultant",
        )


def _period_errors(
    *,
    service: Any,
    calendar: ServiceCalendar,
    month: dt.date,
    date: dt.date,
    start: dt.time,
    end: dt.time,
) -> list[str]:
    """Everything wrong with one working period; each message names the date and the problem."""
    fmt = {"date": _d(date), "from": _t(start), "to": _t(end), "month": _m(month)}
    if (date.year, date.month) != (month.year, month.month):
        return [_("%(date)s is outside the month %(month)s") % fmt]
    errors = []
    if start >= end:
        errors.append(_("%(date)s: the period %(from)s–%(to)s ends before it starts") % fmt)
    if not calendar.is_working_day(date):
        errors.append(_("%(date)s is not a working day") % fmt)
    opens, closes = service.consultation_opens, service.consultation_closes
    if start < end and (start < opens or end > closes):
        errors.append(
            _(
                "%(date)s: the period %(from)s–%(to)s is outside the consultation hours "
                "%(opens)s–%(closes)s"
            )
            % {**fmt, "opens": _t(opens), "closes": _t(closes)}
        )
    elif start < end:
        minutes = (
            dt.datetime.combine(date, end) - dt.datetime.combine(date, start)
        ).total_seconds() / 60
        if minutes < service.slot_minutes:
            errors.append(
                _("%(date)s: the period %(from)s–%(to)s is shorter than one slot (%(minutes)d min)")
                % {**fmt, "minutes": service.slot_minutes}
            )
    return errors


def _overlap_errors(periods: Iterable[tuple[dt.date, dt.time, dt.time, str]]) -> list[str]:
    """Periods of one consultant that overlap on the same day. The 4th item labels the period."""
    errors = []
    by_date: dict[dt.date, list[tuple[dt.time, dt.time, str]]] = defaultdict(list)
    for date, start, end, label in periods:
        if start < end:
            by_date[date].append((start, end, label))
    for date, items in sorted(by_date.items()):
        items.sort()
        for (s1, e1, l1), (s2, e2, l2) in zip(items, items[1:], strict=False):
            if s2 < e1:
                errors.append(
                    _("%(date)s: the periods %(a)s and %(b)s overlap")
                    % {
                        "date": _d(date),
                        "a": l1 or f"{_t(s1)}–{_t(e1)}",
                        "b": l2 or f"{_t(s2)}–{_t(e2)}",
                    }
                )
    return errors


def _editable_or_explain(schedule: Schedule) -> None:
    fmt = {"name": schedule.consultant.display_name, "month": _m(schedule.month)}
    if schedule.status == Schedule.Status.APPROVED:
        raise DomainError(
            _(
                "The schedule of %(name)s for %(month)s is approved and its slots are open for "
                "booking, so it cannot be edited. Change single bookings instead (reschedule or "
                "cancel them)."
            )
            % fmt,
            code="schedule_approved",
        )
    if schedule.status == Schedule.Status.SUBMITTED:
        raise DomainError(
            _(
                "The schedule of %(name)s for %(month)s is waiting for approval. The head must "
                "return it before it can be edited."
            )
            % fmt,
            code="schedule_submitted",
        )


# --- schedules --------------------------------------------------------------------------------
