"""The row locks of scheduling, in one place (every `select_for_update` of the app is here).

Each function returns a queryset that locks the rows it reads; the caller narrows it inside its own
transaction. The booking writes take their locks in one order — request, then slots, then the
booking — through `services.bookings._lock_request_and_slot()`, whose lock queries are compiled
once and re-run by hand (`_fetch_compiled`); `compiled_lock_check()` is the transaction check
Django makes for a locking queryset, for those hand-run queries.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.db.transaction import TransactionManagementError

from opora.accounts.models import User
from opora.core.models import Service
from opora.intake.models import ServiceRequest
from opora.scheduling.models import Booking, HandoffRun, Place, Schedule, Slot


def schedule_qs_select_for_update(*, of_self: bool = False) -> QuerySet[Schedule]:
    """`of_self`: only the schedule's own row, not the rows joined by `select_related`."""
    if of_self:
        return Schedule.objects.select_for_update(of=("self",))
    return Schedule.objects.select_for_update()


def service_request_qs_select_for_update() -> QuerySet[ServiceRequest]:
    """Only the request's own row (`of=self`): its service, joined, stays free."""
    return ServiceRequest.objects.select_for_update(of=("self",))


def slot_qs_select_for_update() -> QuerySet[Slot]:
    """Only the slots' own rows, NOWAIT: a slot another operator is booking at this very moment is
    as good as taken. Failing at once keeps the losers of a race from queueing behind the winner's
    commit."""
    return Slot.objects.select_for_update(of=("self",), nowait=True)


def place_qs_select_for_update() -> QuerySet[Place]:
    """A room's row: in-person bookings of one room queue behind each other (taken after the
    slots, before the booking, in the booking writers' order)."""
    return Place.objects.select_for_update(of=("self",))


def user_qs_select_for_update() -> QuerySet[User]:
    """A consultant's row: help started now with one consultant is serialised."""
    return User.objects.select_for_update(of=("self",))


def booking_qs_select_for_update() -> QuerySet[Booking]:
    """Only the booking's own row (`of=self`), not its slot, service or consultant."""
    return Booking.objects.select_for_update(of=("self",))


def handoff_run_qs_select_for_update() -> QuerySet[HandoffRun]:
    return HandoffRun.objects.select_for_update()


def service_qs_select_for_update() -> QuerySet[Service]:
    """The service's own row, FOR NO KEY UPDATE: the hand-off runs of one service take it first,
    so two never choose their requests at once. NO KEY: new requests and bookings, which only
    reference the service, are not held up by it."""
    return Service.objects.select_for_update(of=("self",), no_key=True)


def compiled_lock_check(compiler: Any, connection: Any) -> None:
    """A locking query compiled once and run by hand must still run inside a transaction, as
    `QuerySet` itself demands of `select_for_update()`."""
    if compiler.query.select_for_update and connection.get_autocommit():
        raise TransactionManagementError("select_for_update cannot be used outside a transaction.")
