"""Reads the staff screens need that no domain selector offers (yet): the actor's service, the
staff of a service, a few look-ups by primary key scoped to the actor's service."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from opora.accounts.models import Role, User
from opora.core.models import Region, Service
from opora.intake.models import Channel, ServiceForm, ServiceRequest
from opora.registry.models import EligibilityCheck
from opora.scheduling.calendar import ServiceCalendar, local_now, to_local
from opora.scheduling.models import HandoffRun, Schedule, Slot


def staff_service(user: User) -> Service | None:
    """The service a staff member works for: the first of their services.

    A superuser with no service of their own works for the first active service, so an
    administrator can always open the screens.
    """
    service = user.services.filter(is_active=True).order_by("pk").first()
    if service is None and user.is_superuser:
        service = Service.objects.filter(is_active=True).order_by("pk").first()
    return service


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
    if check.actor_id != actor.pk and not actor.is_superuser:
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


def queue_rows(*, service: Service, requests: Iterable[ServiceRequest]) -> list[QueueRow]:
    """Each request with its deadline hint: an e-mail (or a written answer asked for) is answered
    within the service's working days (regulation 002 §4.6.3); every other request is served
    within its calendar days of registration (regulation 004)."""
    calendar = ServiceCalendar(service)
    today = local_now(service).date()
    rows = []
    for r in requests:
        registered = to_local(service, r.created_at).date()
        written = r.channel == Channel.EMAIL or r.preferred_form == ServiceForm.WRITTEN
        if written:
            due = calendar.add_working_days(registered, service.written_answer_working_days)
        else:
            due = registered + dt.timedelta(days=service.service_within_days)
        rows.append(QueueRow(request=r, due=due, written=written, overdue=due < today))
    return rows


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
