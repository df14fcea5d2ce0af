"""Writes of events: create, register, cancel and promote, attend, certify, annotate.

Places are handed out under the event's row lock (`locks.event_qs_select_for_update`): the count
of confirmed registrations and the next waiting position are read and written by one writer at a
time. A second registration with the same contact meets the database's unique constraint
(`registration_one_per_contact`) and gets the first one back: one place per contact.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from opora.accounts.actors import Actor
from opora.accounts.models import User
from opora.accounts.policy import works_for
from opora.core.audit import AuditEventType, audit_record
from opora.core.errors import DomainError, PermissionDenied
from opora.core.inputs import check_text
from opora.core.models import Service
from opora.events import hooks, locks, notices
from opora.events.models import (
    Attendance,
    Certificate,
    Event,
    EventPolicy,
    EventSeries,
    Registration,
)
from opora.intake.models import Client
from opora.intake.services import normalise_phone

MAX_SERIES = 52


def contact_key(*, phone: str, email: str) -> str:
    """The contact one place belongs to: the phone's last 10 digits (so +7 701…, 8 701… and
    701… are one number), else the e-mail in lower case."""
    phone = normalise_phone(phone)
    if phone:
        return "tel:" + phone.lstrip("+")[-10:]
    email = (email or "").strip().lower()
    if email:
        return "mailto:" + email
    raise DomainError(
        _("Give a phone number or an e-mail, so that we can send you the link."),
        code="contact_required",
    )


def policy_of(service: Service) -> EventPolicy:
    """The service's events policy (the defaults when it has not set one)."""
    try:
        return service.event_policy
    except EventPolicy.DoesNotExist:
        return EventPolicy(service=service)


@transaction.atomic
def event_create(
    *,
    actor: User,
    service: Service,
    kind: str,
    title_ru: str,
    starts_at: dt.datetime,
    duration_minutes: int,
    capacity: int,
    lead: User,
    title_kk: str = "",
    title_en: str = "",
    description_ru: str = "",
    description_kk: str = "",
    description_en: str = "",
    language: str = Event.Language.RUSSIAN,
    topic: str = "",
    audience: str = "",
    presenters: list[User] | None = None,
    series: EventSeries | None = None,
    state: str = Event.State.ANNOUNCED,
) -> Event:
    """Create an event of `service`, led by `lead` (who must work for the service)."""
    for name, value in (("title_ru", title_ru), ("title_kk", title_kk), ("title_en", title_en)):
        check_text(name, value, max_length=300)
    if timezone.is_naive(starts_at):
        starts_at = timezone.make_aware(starts_at, service.tz)
    if not works_for(lead, service.pk):
        raise DomainError(_("The lead consultant does not work for this service."), code="lead")
    event = Event(
        service=service,
        kind=kind,
        title_ru=title_ru.strip(),
        title_kk=title_kk.strip(),
        title_en=title_en.strip(),
        description_ru=description_ru.strip(),
        description_kk=description_kk.strip(),
        description_en=description_en.strip(),
        starts_at=starts_at,
        duration_minutes=duration_minutes,
        capacity=capacity,
        language=language,
        topic=topic,
        audience=audience.strip(),
        lead=lead,
        series=series,
        state=state,
    )
    try:
        event.full_clean()
    except ValidationError as exc:
        raise DomainError("; ".join(exc.messages), code="invalid_event") from None
    event.save()
    if presenters:
        event.presenters.set(presenters)
    audit_record(
        actor=actor, event_type=AuditEventType.EVENT_CREATED, subject=event, extra={"kind": kind}
    )
    return event


def series_starts(
    *,
    first: dt.datetime,
    every_days: int,
    count: int | None = None,
    until: dt.date | None = None,
    tz: dt.tzinfo | None = None,
) -> list[dt.datetime]:
    """The starts of a series: `count` of them, or every one up to `until` (a local day, included),
    `every_days` apart (a weekly group: 7). More than `MAX_SERIES` is refused with the number."""
    if not 1 <= every_days <= 366:
        raise DomainError(_("Repeat every 1 to 366 days."), code="invalid_series")
    if (count is None) == (until is None):
        raise DomainError(
            _("Give either the number of events or the last date of the series."),
            code="invalid_series",
        )
    if count is not None:
        if count < 1:
            raise DomainError(_("A series has at least one event."), code="invalid_series")
        total = count
    else:
        assert until is not None  # noqa: S101 (checked above)
        days = (until - timezone.localtime(first, tz).date()).days
        if days < 0:
            raise DomainError(
                _("The series' last date is before its first event."),
                code="invalid_series",
            )
        total = days // every_days + 1
    if total > MAX_SERIES:
        raise DomainError(
            _("The series is too long: %(n)s events, at most %(max)s.")
            % {"n": total, "max": MAX_SERIES},
            code="series_too_long",
        )
    return [first + dt.timedelta(days=every_days * i) for i in range(total)]


@transaction.atomic
def event_series_create(
    *,
    actor: User,
    service: Service,
    every_days: int,
    count: int | None = None,
    until: dt.date | None = None,
    invited: Sequence[Client] = (),
    **fields: Any,
) -> list[Event]:
    """The events of a series `every_days` apart, `count` of them or up to `until` (one
    `EventSeries`); the invited clients of a group consultation are invited to each."""
    first: dt.datetime = fields.pop("starts_at")
    if timezone.is_naive(first):
        first = timezone.make_aware(first, service.tz)
    starts = series_starts(
        first=first, every_days=every_days, count=count, until=until, tz=service.tz
    )
    series = EventSeries.objects.create(service=service, title=str(fields.get("title_ru", "")))
    events = []
    for start in starts:
        event = event_create(actor=actor, service=service, series=series, starts_at=start, **fields)
        event_invite(actor=actor, event=event, clients=invited)
        events.append(event)
    return events


def check_not_past(starts_at: dt.datetime) -> None:
    if starts_at <= timezone.now():
        raise DomainError(
            _("The event's start is in the past: choose a later date and time."),
            code="past",
        )


@transaction.atomic
def event_plan_create(
    *,
    actor: User,
    service: Service,
    starts_at: dt.datetime,
    every_days: int | None = None,
    count: int | None = None,
    until: dt.date | None = None,
    invited: Sequence[Client] = (),
    **fields: Any,
) -> list[Event]:
    """The staff page's write: one event, or a series when `every_days` is given; never in the
    past; a group consultation's invited clients get their places."""
    if timezone.is_naive(starts_at):
        starts_at = timezone.make_aware(starts_at, service.tz)
    check_not_past(starts_at)
    if invited and fields.get("kind") != Event.Kind.GROUP:
        raise DomainError(
            _("Only a group consultation has invited clients."), code="invited_not_group"
        )
    if every_days is not None:
        return event_series_create(
            actor=actor,
            service=service,
            every_days=every_days,
            count=count,
            until=until,
            invited=invited,
            starts_at=starts_at,
            **fields,
        )
    event = event_create(actor=actor, service=service, starts_at=starts_at, **fields)
    event_invite(actor=actor, event=event, clients=invited)
    return [event]


@transaction.atomic
def event_invite(*, actor: User, event: Event, clients: Sequence[Client]) -> list[Registration]:
    """Register the invited clients of a group consultation (each by the contact they gave the
    service; one place each). More invited than places is refused."""
    if not clients:
        return []
    if len(clients) > event.capacity:
        raise DomainError(
            _("%(n)s clients invited but the event has %(c)s places.")
            % {"n": len(clients), "c": event.capacity},
            code="too_many_invited",
        )
    registrations = []
    for client in clients:
        result = registration_create(
            actor=actor,
            event=event,
            full_name=client.full_name,
            phone=client.phone,
            email=client.email,
        )
        if result.registration.client_id is None:
            result.registration.client = client
            result.registration.save(update_fields=["client"])
        registrations.append(result.registration)
    return registrations


EDITABLE = (
    "title_ru",
    "title_kk",
    "title_en",
    "description_ru",
    "description_kk",
    "description_en",
    "starts_at",
    "duration_minutes",
    "capacity",
    "language",
    "topic",
    "audience",
    "lead",
)


@transaction.atomic
def event_update(
    *, actor: User, event: Event, presenters: Sequence[User] | None = None, **changes: Any
) -> Event:
    """Change an announced event that has not ended. A start moved into the past and fewer places
    than the participants who hold one are refused; more places go to the waiting list in order
    (each one told)."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise DomainError(_("Unknown field."), code="field")
    event = locks.event_qs_select_for_update().get(pk=event.pk)
    if event.state != Event.State.ANNOUNCED or event.ends_at <= timezone.now():
        raise DomainError(
            _("Only a coming event can be changed; this one has ended or is cancelled."),
            code="not_editable",
        )
    for name in ("title_ru", "title_kk", "title_en"):
        if name in changes:
            check_text(name, changes[name], max_length=300)
    starts_at = changes.get("starts_at")
    if starts_at is not None:
        if timezone.is_naive(starts_at):
            changes["starts_at"] = starts_at = timezone.make_aware(starts_at, event.service.tz)
        if starts_at != event.starts_at:
            check_not_past(starts_at)
    lead = changes.get("lead")
    if lead is not None and not works_for(lead, event.service_id):
        raise DomainError(_("The lead consultant does not work for this service."), code="lead")
    confirmed = Registration.objects.filter(
        event=event, status=Registration.Status.CONFIRMED
    ).count()
    capacity = changes.get("capacity", event.capacity)
    if capacity < confirmed:
        raise DomainError(
            _("%(n)s participants already have a place: the event needs at least %(n)s places.")
            % {"n": confirmed},
            code="capacity_below_confirmed",
        )
    for name, value in changes.items():
        setattr(event, name, value.strip() if isinstance(value, str) else value)
    try:
        event.full_clean()
    except ValidationError as exc:
        raise DomainError("; ".join(exc.messages), code="invalid_event") from None
    event.save()
    if presenters is not None:
        event.presenters.set(presenters)
    audit_record(
        actor=actor,
        event_type=AuditEventType.EVENT_UPDATED,
        subject=event,
        extra={"fields": sorted(changes)},
    )
    _promote_waiting(actor=actor, event=event, free=capacity - confirmed)
    return event


def _promote_waiting(*, actor: User, event: Event, free: int) -> None:
    """Give `free` places to the first on the waiting list (under the event's lock), renumber the
    rest from 1 (lowest first, so the unique positions never collide)."""
    waiting = list(
        Registration.objects.filter(event=event, status=Registration.Status.WAITING).order_by(
            "waiting_position"
        )
    )
    if free <= 0 or not waiting:
        return
    for registration in waiting[:free]:
        registration.status = Registration.Status.CONFIRMED
        registration.waiting_position = None
        registration.save(update_fields=["status", "waiting_position"])
        audit_record(
            actor=actor,
            event_type=AuditEventType.EVENT_REGISTRATION_PROMOTED,
            subject=registration,
            extra={"event": event.pk},
        )
        notices.registration_promoted(registration)
    for position, registration in enumerate(waiting[free:], start=1):
        registration.waiting_position = position
        registration.save(update_fields=["waiting_position"])


@transaction.atomic
def event_cancel(*, actor: User, event: Event) -> Event:
    """Cancel a coming event: its participants (and those waiting) are told through the outbox;
    their registrations stay as they were, for the record. Cancelling twice changes nothing."""
    event = locks.event_qs_select_for_update().get(pk=event.pk)
    if event.state == Event.State.CANCELLED:
        return event
    if event.ends_at <= timezone.now():
        raise DomainError(_("This event has already taken place."), code="ended")
    event.state = Event.State.CANCELLED
    event.save(update_fields=["state"])
    told = 0
    for registration in Registration.objects.filter(event=event).exclude(
        status=Registration.Status.CANCELLED
    ):
        told += notices.event_cancelled(registration)
    audit_record(
        actor=actor,
        event_type=AuditEventType.EVENT_CANCELLED,
        subject=event,
        extra={"told": told},
    )
    return event


@dataclass(frozen=True)
class RegistrationResult:
    registration: Registration
    created: bool  # False: the contact already had a live registration (returned as it is)

    @property
    def waiting(self) -> bool:
        return self.registration.status == Registration.Status.WAITING


def registration_create(
    *,
    actor: Actor | None,
    event: Event,
    full_name: str = "",
    phone: str = "",
    email: str = "",
    anonymous: bool = False,
    second_full_name: str = "",
    announcements_opt_in: bool = False,
) -> RegistrationResult:
    """A place at `event`, or a place on its waiting list when it is full.

    Registering again with the same contact returns the live registration (one place per
    contact). Anonymous registration only where the service allows it; a group consultation is
    closed (staff register the invited clients), an educational event open to anyone.
    """
    for name, value in (("full_name", full_name), ("second_full_name", second_full_name)):
        check_text(name, value, max_length=300)
    full_name, second_full_name = full_name.strip(), second_full_name.strip()
    if anonymous and not policy_of(event.service).allows_anonymous:
        raise DomainError(
            _("This service does not take anonymous registrations: give your name."),
            code="anonymous_not_allowed",
        )
    if not anonymous and not full_name:
        raise DomainError(_("Give your full name."), code="full_name_required")
    if anonymous:
        full_name = second_full_name = ""
    key = contact_key(phone=phone, email=email)
    if event.is_group and not isinstance(actor, User):
        raise PermissionDenied(_("A group consultation is by invitation of the service."))
    if event.state != Event.State.ANNOUNCED or event.ends_at <= timezone.now():
        raise DomainError(_("Registration for this event is closed."), code="closed")
    existing = _live_registration(event, key)
    if existing is not None:
        return RegistrationResult(existing, created=False)
    try:
        with transaction.atomic():
            registration = _register_locked(
                actor=actor,
                event=event,
                full_name=full_name,
                second_full_name=second_full_name,
                anonymous=anonymous,
                phone=normalise_phone(phone),
                email=email.strip(),
                key=key,
                opt_in=announcements_opt_in,
            )
    except IntegrityError:
        # The same contact registered at this very moment in another request.
        existing = _live_registration(event, key)
        if existing is None:
            raise
        return RegistrationResult(existing, created=False)
    return RegistrationResult(registration, created=True)


def _live_registration(event: Event, key: str) -> Registration | None:
    return (
        Registration.objects.filter(event=event, contact=key)
        .exclude(status=Registration.Status.CANCELLED)
        .first()
    )


def _register_locked(
    *,
    actor: Actor | None,
    event: Event,
    full_name: str,
    second_full_name: str,
    anonymous: bool,
    phone: str,
    email: str,
    key: str,
    opt_in: bool,
) -> Registration:
    locked = locks.event_qs_select_for_update().get(pk=event.pk)
    if locked.state != Event.State.ANNOUNCED:
        # Cancelled while this registration waited for the lock: its participants were told.
        raise DomainError(_("Registration for this event is closed."), code="closed")
    live = Registration.objects.filter(event=locked)
    confirmed = live.filter(status=Registration.Status.CONFIRMED).count()
    registration = Registration(
        event=locked,
        full_name=full_name,
        second_full_name=second_full_name,
        anonymous=anonymous,
        phone=phone,
        email=email,
        contact=key,
        announcements_opt_in=opt_in,
    )
    if confirmed < locked.capacity:
        registration.status = Registration.Status.CONFIRMED
    else:
        last = live.filter(status=Registration.Status.WAITING).aggregate(m=Max("waiting_position"))
        registration.status = Registration.Status.WAITING
        registration.waiting_position = (last["m"] or 0) + 1
    registration.full_clean(validate_unique=False, validate_constraints=False)
    registration.save()
    audit_record(
        actor=actor,
        event_type=AuditEventType.EVENT_REGISTERED,
        subject=registration,
        extra={"event": locked.pk, "status": registration.status},
    )
    notices.registration_confirmed(registration)
    return registration


@transaction.atomic
def registration_cancel(*, actor: Actor | None, registration: Registration) -> Registration:
    """Give up a place (or a place on the waiting list). A freed place goes to the first waiting,
    who is told; the others waiting move up one."""
    event = locks.event_qs_select_for_update().get(pk=registration.event_id)
    registration = locks.registration_qs_select_for_update().get(pk=registration.pk)
    if registration.status == Registration.Status.CANCELLED:
        return registration
    was = registration.status
    position = registration.waiting_position
    registration.status = Registration.Status.CANCELLED
    registration.waiting_position = None
    registration.cancelled_at = timezone.now()
    registration.save(update_fields=["status", "waiting_position", "cancelled_at"])
    audit_record(
        actor=actor,
        event_type=AuditEventType.EVENT_REGISTRATION_CANCELLED,
        subject=registration,
        extra={"event": event.pk, "was": was},
    )
    waiting = Registration.objects.filter(event=event, status=Registration.Status.WAITING)
    if was == Registration.Status.CONFIRMED:
        first = waiting.order_by("waiting_position").first()
        if first is not None:
            position = first.waiting_position
            first.status = Registration.Status.CONFIRMED
            first.waiting_position = None
            first.save(update_fields=["status", "waiting_position"])
            audit_record(
                actor=actor,
                event_type=AuditEventType.EVENT_REGISTRATION_PROMOTED,
                subject=first,
                extra={"event": event.pk},
            )
            notices.registration_promoted(first)
    if position is not None:
        # Move the ones behind up, lowest first, so the unique positions never collide.
        for behind in waiting.filter(waiting_position__gt=position).order_by("waiting_position"):
            assert behind.waiting_position is not None  # `__gt` leaves out the NULLs
            behind.waiting_position = behind.waiting_position - 1
            behind.save(update_fields=["waiting_position"])
    return registration


def registration_for_link(*, token: str) -> Registration:
    """The registration of a private link, or DomainError (404) saying the link is unknown."""
    from opora.core.errors import NotFound

    registration = (
        Registration.objects.select_related("event__service", "event__lead")
        .filter(token=token)
        .first()
    )
    if registration is None:
        raise NotFound(_("This link is not valid. Check the message we sent you."))
    return registration


@transaction.atomic
def attendance_join(
    *, event: Event, registration: Registration | None = None, user: User | None = None
) -> Attendance:
    """A join to the room. Opening the room again while a stay is open keeps that stay."""
    now = timezone.now()
    qs = Attendance.objects.filter(event=event, left_at__isnull=True)
    qs = qs.filter(registration=registration) if registration else qs.filter(user=user)
    current = qs.first()
    if current is not None:
        return current
    return Attendance.objects.create(
        event=event, registration=registration, user=user, joined_at=now
    )


@transaction.atomic
def attendance_leave(*, attendance: Attendance, at: dt.datetime | None = None) -> Attendance:
    if attendance.left_at is None:
        attendance.left_at = max(at or timezone.now(), attendance.joined_at)
        attendance.save(update_fields=["left_at"])
    return attendance


def attended_share(registration: Registration, *, now: dt.datetime | None = None) -> Decimal:
    """The share of the event's time the participant was in the room (overlapping stays once)."""
    event = registration.event
    now = now or timezone.now()
    spans = sorted(
        (max(a.joined_at, event.starts_at), min(a.left_at or now, event.ends_at))
        for a in registration.attendances.all()
    )
    total = dt.timedelta()
    end: dt.datetime | None = None
    for start, stop in spans:
        if end is not None and start < end:
            start = end
        if stop > start:
            total += stop - start
            end = stop
    length = event.ends_at - event.starts_at
    return Decimal(total / length).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)


@transaction.atomic
def certificates_issue(*, actor: Actor | None, event: Event) -> list[Certificate]:
    """A certificate for every confirmed, named participant who attended at least the service's
    minimum share (default 70 %). Calling it again issues only the missing ones."""
    minimum = policy_of(event.service).certificate_min_share
    hours = (Decimal(event.duration_minutes) / 60).quantize(Decimal("0.1"))
    issued = []
    registrations = (
        Registration.objects.filter(event=event, status=Registration.Status.CONFIRMED)
        .exclude(anonymous=True)
        .prefetch_related("attendances")
    )
    for registration in registrations:
        if hasattr(registration, "certificate") or attended_share(registration) < minimum:
            continue
        certificate = Certificate.objects.create(
            registration=registration,
            full_name=registration.full_name,
            event_title=event.title_ru,
            event_date=timezone.localtime(event.starts_at, event.service.tz).date(),
            hours=hours,
            service_name=event.service.name,
        )
        issued.append(certificate)
        notices.certificate_issued(certificate)
    audit_record(
        actor=actor,
        event_type=AuditEventType.EVENT_CERTIFICATES_ISSUED,
        subject=event,
        extra={"count": len(issued)},
    )
    return issued


@transaction.atomic
def registration_note_set(*, actor: User, registration: Registration, note: str) -> Registration:
    """The «Примечание» of the participant registry; the lead (or the head) writes it."""
    check_text("note", note, max_length=500)
    registration.note = note.strip()
    registration.save(update_fields=["note"])
    audit_record(actor=actor, event_type=AuditEventType.EVENT_NOTE_WRITTEN, subject=registration)
    return registration


@dataclass(frozen=True)
class Announced:
    mail: int  # e-mail addresses of past participants who agreed to be told
    chats: int  # the service's messenger subscribers who did not turn announcements off


@transaction.atomic
def event_announcement_send(*, actor: User, event: Event) -> Announced:
    """Announce the event: by e-mail to the service's past participants who agreed to be told,
    and through the registered fan-outs (`hooks`) to the service's messenger subscribers. Every
    message is an outbox row, stored once per recipient and event (sending twice adds none)."""
    if event.is_group or event.state != Event.State.ANNOUNCED or event.ends_at <= timezone.now():
        raise DomainError(
            _("Only a coming open event is announced (not a group consultation)."),
            code="not_announceable",
        )
    seen: set[str] = set()
    for registration in (
        Registration.objects.filter(event__service=event.service, announcements_opt_in=True)
        .exclude(event=event)
        .exclude(status=Registration.Status.CANCELLED)
        .order_by("-created_at")
    ):
        if registration.contact in seen:
            continue
        seen.add(registration.contact)
        notices.announcement(event, registration)
    chats = sum(hooks.announcement_fanout(event).values())
    audit_record(
        actor=actor,
        event_type=AuditEventType.EVENT_ANNOUNCEMENT_SENT,
        subject=event,
        extra={"count": len(seen), "chats": chats},
    )
    return Announced(mail=len(seen), chats=chats)


def reminders_send_due(*, now: dt.datetime | None = None) -> int:
    """Remind the confirmed participants the day and the hour before (each reminder once)."""
    now = now or timezone.now()
    sent = 0
    hour, day = dt.timedelta(hours=1), dt.timedelta(days=1)
    # The day's reminder only while more than an hour is left: then the hour's takes over.
    for kind, after, before in (("day", hour, day), ("hour", dt.timedelta(), hour)):
        due = Registration.objects.filter(
            status=Registration.Status.CONFIRMED,
            event__state=Event.State.ANNOUNCED,
            event__starts_at__gt=now + after,
            event__starts_at__lte=now + before,
        ).select_related("event__service")
        for registration in due:
            with transaction.atomic():
                sent += notices.reminder(registration, kind)
    return sent
