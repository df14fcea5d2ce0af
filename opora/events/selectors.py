"""Reads of events: the coming events of a service, attendance, the participant registry of
regulation 002 Appendix 3 and the services counted for the journal of services."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, TypedDict

from django.db.models import Count, F, Min, Q, QuerySet, Value
from django.utils import timezone

from opora.accounts.models import User
from opora.core.errors import NotFound
from opora.core.models import Service
from opora.events.models import Attendance, Certificate, Event, Registration
from opora.intake.models import Client

if TYPE_CHECKING:
    from typing_extensions import ReadOnly


def events_coming(*, service: Service, limit: int = 10) -> list[Event]:
    """The announced, open events of `service` that have not ended, soonest first, each with
    `places_left`."""
    now = timezone.now()
    events = (
        Event.objects.filter(service=service, state=Event.State.ANNOUNCED)
        .exclude(kind=Event.Kind.GROUP)
        .filter(starts_at__gt=now - dt.timedelta(hours=24))
        .annotate(
            confirmed=Count(
                "registrations", filter=Q(registrations__status=Registration.Status.CONFIRMED)
            )
        )
        .order_by("starts_at", "pk")
    )
    result = [e for e in events[: limit * 2] if e.ends_at > now][:limit]
    for event in result:
        event.places_left = max(event.capacity - event.confirmed, 0)  # type: ignore[attr-defined]
    return list(result)  # of `Event`s (annotated with `confirmed`, a list of their own type)


def event_get(*, pk: int) -> Event:
    event = Event.objects.select_related("service", "lead").filter(pk=pk).first()
    if event is None:
        raise NotFound("")
    return event


def places_left(event: Event) -> int:
    confirmed = event.registrations.filter(status=Registration.Status.CONFIRMED).count()
    return max(event.capacity - confirmed, 0)


def event_attendance(*, event: Event) -> list[dict[str, Any]]:
    """Participants (confirmed registrations) with their first join and last leave."""
    rows = (
        Registration.objects.filter(event=event, status=Registration.Status.CONFIRMED)
        .annotate(joined_at=Min("attendances__joined_at"))
        .order_by("pk")
    )
    result = []
    for r in rows:
        stays = list(r.attendances.all())
        left = [a.left_at for a in stays]
        left_at = [t for t in left if t is not None]
        result.append(
            {
                "registration": r.pk,
                "name": r.display_name,
                "joined_at": r.joined_at,
                "left_at": None if (not left or len(left_at) < len(left)) else max(left_at),
                "stays": len(stays),
            }
        )
    return result


class ParticipantRow(TypedDict):
    """A row of `participants_rows`."""

    pk: ReadOnly[int]
    event_id: ReadOnly[int]
    date: ReadOnly[dt.datetime]
    specialist_last: ReadOnly[str | None]
    specialist_first: ReadOnly[str | None]
    topic: ReadOnly[str]
    second_full_name: ReadOnly[str]
    note: ReadOnly[str]
    joined_at: ReadOnly[dt.datetime | None]
    code: ReadOnly[str]
    anonymous: ReadOnly[bool]
    full_name: ReadOnly[str]
    lead_id: ReadOnly[int | None]
    lead_first: ReadOnly[str | None]
    lead_last: ReadOnly[str | None]
    lead_username: ReadOnly[str | None]


def participants_rows(
    service: Service, date_from: dt.date, date_to: dt.date
) -> QuerySet[Registration, ParticipantRow]:
    """The «Реестр участников группового онлайн консультирования» (regulation 002 Appendix 3):
    one row per participant of a held group consultation who joined, with the date, the
    specialist, the topic, «Фамилия, имя, отчество клиента» and «Примечание» (the lead's note).
    Both parents on one registration are one row (second_full_name beside the first).

    `date_from`/`date_to` are local days of the service, both included.
    """
    tz = service.tz
    start = dt.datetime.combine(date_from, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return (
        Registration.objects.filter(
            event__service=service,
            event__kind=Event.Kind.GROUP,
            event__starts_at__gte=start,
            event__starts_at__lt=end,
            status=Registration.Status.CONFIRMED,
            attendances__isnull=False,
        )
        .exclude(event__state=Event.State.CANCELLED)
        .annotate(
            date=F("event__starts_at"),
            specialist_last=F("event__lead__last_name"),
            specialist_first=F("event__lead__first_name"),
            topic=F("event__topic"),
            joined_at=Min("attendances__joined_at"),
            # What the journals' rows say of the lead (`journals.rows`), in both queries.
            lead_id=F("event__lead_id"),
            lead_first=F("event__lead__first_name"),
            lead_last=F("event__lead__last_name"),
            lead_username=F("event__lead__username"),
        )
        .values(
            "pk",
            "event_id",
            "date",
            "specialist_last",
            "specialist_first",
            "topic",
            "second_full_name",
            "note",
            "joined_at",
            "code",
            "anonymous",
            "full_name",
            "lead_id",
            "lead_first",
            "lead_last",
            "lead_username",
        )
        .order_by("date", "event_id", "pk")
    )


class EventServiceRow(TypedDict):
    """A row of `services_rows`."""

    pk: ReadOnly[int]
    event_id: ReadOnly[int]
    date: ReadOnly[dt.datetime]
    event_kind: ReadOnly[str]
    counted_as: ReadOnly[str]
    topic: ReadOnly[str]
    code: ReadOnly[str]
    anonymous: ReadOnly[bool]
    full_name: ReadOnly[str]
    second_full_name: ReadOnly[str]
    lead_id: ReadOnly[int | None]
    lead_first: ReadOnly[str | None]
    lead_last: ReadOnly[str | None]
    lead_username: ReadOnly[str | None]


def services_rows(
    service: Service, date_from: dt.date, date_to: dt.date
) -> QuerySet[Registration, EventServiceRow]:
    """The services events gave, for the journal of services: each participant who joined is one
    service — of the content kind for a group consultation (`counted_as="content"`), of the
    event kind for an educational event (`counted_as="event"`). One row per registration, so
    both parents on one registration count once."""
    tz = service.tz
    start = dt.datetime.combine(date_from, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    from django.db.models import Case, When

    return (
        Registration.objects.filter(
            event__service=service,
            event__starts_at__gte=start,
            event__starts_at__lt=end,
            status=Registration.Status.CONFIRMED,
            attendances__isnull=False,
        )
        .exclude(event__state=Event.State.CANCELLED)
        .annotate(
            date=F("event__starts_at"),
            event_kind=F("event__kind"),
            counted_as=Case(
                When(event__kind=Event.Kind.GROUP, then=Value("content")), default=Value("event")
            ),
            topic=F("event__topic"),
            # What the journals' rows say of the lead (`journals.rows`), in both queries.
            lead_id=F("event__lead_id"),
            lead_first=F("event__lead__first_name"),
            lead_last=F("event__lead__last_name"),
            lead_username=F("event__lead__username"),
        )
        .values(
            "pk",
            "event_id",
            "date",
            "event_kind",
            "counted_as",
            "topic",
            "code",
            "anonymous",
            "full_name",
            "second_full_name",
            "lead_id",
            "lead_first",
            "lead_last",
            "lead_username",
        )
        .distinct()
        .order_by("date", "event_id", "pk")
    )


def certificate_by_code(*, code: str) -> Certificate:
    """The certificate with `code`, or NotFound with no hint of any other."""
    certificate = Certificate.objects.filter(code=(code or "").strip().upper()[:32]).first()
    if certificate is None:
        raise NotFound("")
    return certificate


def attendance_open(*, event: Event, registration: Registration) -> Attendance | None:
    return Attendance.objects.filter(
        event=event, registration=registration, left_at__isnull=True
    ).first()


def events_of_service(*, service: Service, limit: int = 100) -> list[Event]:
    """All events of `service`, the latest first, with the count of places taken."""
    return list(
        Event.objects.filter(service=service)
        .select_related("lead")
        .annotate(
            confirmed=Count(
                "registrations", filter=Q(registrations__status=Registration.Status.CONFIRMED)
            )
        )
        .order_by("-starts_at")[:limit]
    )


def event_registrations(*, event: Event) -> list[Registration]:
    """The live registrations of `event` (places first, then the waiting list in order)."""
    return list(
        Registration.objects.filter(event=event)
        .exclude(status=Registration.Status.CANCELLED)
        .prefetch_related("attendances")
        .order_by("status", "waiting_position", "pk")
    )


def events_coming_and_past(
    *, service: Service, limit: int = 100
) -> tuple[list[Event], list[Event]]:
    """The staff page's two lists: events that have not ended (soonest first) and the ended or
    cancelled ones (latest first), each with `confirmed` and `waiting` counts."""
    now = timezone.now()
    rows = (
        Event.objects.filter(service=service)
        .select_related("lead", "series", "service")
        .annotate(
            confirmed=Count(
                "registrations", filter=Q(registrations__status=Registration.Status.CONFIRMED)
            ),
            waiting=Count(
                "registrations", filter=Q(registrations__status=Registration.Status.WAITING)
            ),
        )
        .order_by("starts_at", "pk")
    )
    # An event lasts at most a day (`duration_minutes`): starts before now - 1 day are past.
    recent = rows.filter(starts_at__gt=now - dt.timedelta(days=1))
    coming: list[Event] = []
    for event in recent:
        if event.ends_at > now and event.state != Event.State.CANCELLED and len(coming) < limit:
            coming.append(event)
    shown = {e.pk for e in coming}
    past: list[Event] = list(
        rows.exclude(pk__in=shown)
        .filter(Q(starts_at__lte=now) | Q(state=Event.State.CANCELLED))
        .order_by("-starts_at", "-pk")[:limit]
    )
    return coming, past


def invitable_clients(*, actor: User, service: Service, limit: int = 300) -> list[Client]:
    """The clients of `service` (who asked it for help), by name, for a group consultation's
    invitation. A read of personal data: audited."""
    from opora.core.audit import AuditEventType, audit_record

    clients = list(
        Client.objects.filter(requests__service=service)
        .distinct()
        .order_by("last_name", "first_name", "pk")[:limit]
    )
    audit_record(
        actor=actor,
        event_type=AuditEventType.EVENT_INVITEES_LISTED,
        subject=service,
        extra={"count": len(clients)},
    )
    return clients
