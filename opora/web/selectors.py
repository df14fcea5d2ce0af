"""Reads the staff screens need that no domain selector offers (yet): the actor's service, the
staff of a service, a few look-ups by primary key scoped to the actor's service. The service a
staff member works in (`staff_service`, `staff_services`) comes from `accounts.workplace`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from opora.accounts.models import Role, User
from opora.accounts.policy import sees_every_service
from opora.accounts.workplace import SESSION_SERVICE_KEY as SESSION_SERVICE_KEY
from opora.accounts.workplace import staff_service as staff_service
from opora.accounts.workplace import staff_services as staff_services
from opora.core.models import Region, Service
from opora.intake.models import Channel, ServiceForm, ServiceRequest
from opora.intake.selectors import request_queue
from opora.registry.models import EligibilityCheck
from opora.scheduling.calendar import ServiceCalendar, local_now, to_local
from opora.scheduling.models import HandoffRun, Schedule, Slot


def staff_service_get(*, user: User, pk: Any) -> Service | None:
    """One of the services `user` works for by its primary key; None for any other."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    return next((s for s in staff_services(user) if s.pk == pk), None)


def request_service_get(*, pk: Any, **_other_url_args: Any) -> Service | None:
    """The service of request `pk` (None when there is none): which service a request page works
    in. Whether the actor may open the request is checked by the page itself."""
    try:
        found = ServiceRequest.objects.select_related("service").filter(pk=int(pk)).first()
    except (TypeError, ValueError):
        return None
    return found.service if found is not None else None


def service_consultants(*, service: Service) -> QuerySet[User]:
    return (
        User.objects.filter(services=service, role=Role.CONSULTANT, is_active=True)
        .order_by("last_name", "first_name", "pk")
        .distinct()
    )


def service_consultant_get(*, service: Service, pk: Any) -> User | None:
    try:
        return service_consultants(service=service).get(pk=int(pk))
    except (User.DoesNotExist, TypeError, ValueError):
        return None


def service_regions(*, service: Service) -> QuerySet[Region]:
    return Region.objects.filter(country=service.country).order_by("name_ru")


def eligibility_check_get(*, actor: User, service: Service, pk: Any) -> EligibilityCheck | None:
    """A check the actor ran for this service within the last few hours (the same call)."""
    try:
        check = EligibilityCheck.objects.get(pk=int(pk), service=service)
    except (EligibilityCheck.DoesNotExist, TypeError, ValueError):
        return None
    if check.actor_id != actor.pk and not sees_every_service(actor):
        return None
    return check


def slot_get(*, service: Service, pk: Any) -> Slot | None:
    try:
        return Slot.objects.select_related("consultant").get(pk=int(pk), service=service)
    except (Slot.DoesNotExist, TypeError, ValueError):
        return None


def schedule_get(*, service: Service, pk: Any) -> Schedule | None:
    try:
        return Schedule.objects.select_related("consultant").get(pk=int(pk), service=service)
    except (Schedule.DoesNotExist, TypeError, ValueError):
        return None


def schedule_for(*, service: Service, consultant: User, month: dt.date) -> Schedule | None:
    return (
        Schedule.objects.filter(service=service, consultant=consultant, month=month)
        .prefetch_related("periods")
        .first()
    )


def schedules_submitted(*, service: Service) -> QuerySet[Schedule]:
    return (
        Schedule.objects.filter(service=service, status=Schedule.Status.SUBMITTED)
        .select_related("consultant", "created_by")
        .prefetch_related("periods")
        .order_by("month", "consultant__last_name", "pk")
    )


def handoff_for(*, service: Service, date: dt.date) -> HandoffRun | None:
    return HandoffRun.objects.filter(service=service, date=date).first()


@dataclass(frozen=True)
class QueueRow:
    request: ServiceRequest
    due: dt.date  # the service's deadline, a local date
    written: bool  # a written answer (working days) rather than "service within N days"
    overdue: bool


def queue_rows(
    *, requests: Iterable[ServiceRequest], service: Service | None = None
) -> list[QueueRow]:
    """Each request with its deadline hint: an e-mail (or a written answer asked for) is answered
    within the service's working days (regulation 002 §4.6.3); every other request is served
    within its calendar days of registration (regulation 004).

    Each request's own service sets its deadline (the rows may come from several services);
    `service` is the one of them all when there is one.
    """
    calendars: dict[int, ServiceCalendar] = {}
    todays: dict[int, dt.date] = {}
    rows = []
    for r in requests:
        own = service if service is not None and r.service_id == service.pk else r.service
        if own.pk not in calendars:
            calendars[own.pk] = ServiceCalendar(own)
            todays[own.pk] = local_now(own).date()
        registered = to_local(own, r.created_at).date()
        written = r.channel == Channel.EMAIL or r.preferred_form == ServiceForm.WRITTEN
        if written:
            due = calendars[own.pk].add_working_days(registered, own.written_answer_working_days)
        else:
            due = registered + dt.timedelta(days=own.service_within_days)
        rows.append(QueueRow(request=r, due=due, written=written, overdue=due < todays[own.pk]))
    return rows


def staff_request_queue(
    *, actor: User, services: list[Service], channel: str = "", status: str = ""
) -> list[ServiceRequest]:
    """The waiting requests of several services in one list, oldest first (each service's own
    queue, checked by `intake.selectors.request_queue`, merged); each request carries its
    service."""
    rows: list[ServiceRequest] = []
    for service in services:
        for r in request_queue(actor=actor, service=service, channel=channel, status=status):
            r.service = service
            rows.append(r)
    return sorted(rows, key=lambda r: (r.created_at, r.pk))


def service_request_find(*, service: Service, value: str) -> ServiceRequest | None:
    """A request of `service` by its number or its code (as read out on the phone)."""
    value = (value or "").strip().lstrip("№#").strip()
    qs = ServiceRequest.objects.filter(service=service)
    if value.isdigit():
        return qs.filter(pk=int(value)).first()
    code = value.upper().replace(" ", "")
    if len(code) == 8 and "-" not in code:
        code = f"{code[:4]}-{code[4:]}"
    return qs.filter(public_code=code).first() if code else None
