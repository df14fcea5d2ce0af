"""Bookings: book, reschedule, cancel; the change-check registry and the client's notices.

Locks are always taken in one order — request, then slot, then booking — by
`_lock_request_and_slot()`, so concurrent writers queue instead of deadlocking. The database
settles races (partial unique constraints on active bookings); the loser gets `Conflict`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias, TypedDict

from django.db import (
    IntegrityError,
    OperationalError,
    connections,
    router,
    transaction,
)
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import (
    DateField,
    Exists,
    Func,
    Model,
    OuterRef,
    QuerySet,
    Subquery,
)
from django.db.models.query import get_related_populators
from django.db.models.sql.compiler import SQLCompiler
from django.utils import timezone
from django.utils.translation import gettext as _

from opora.accounts import policy
from opora.accounts.actors import Actor
from opora.accounts.models import User
from opora.accounts.policy import Action
from opora.core.actors import ClientActor
from opora.core.audit import AuditEventType, audit_record
from opora.core.errors import Conflict, DomainError, NotFound, PermissionDenied
from opora.core.models import CalendarOverride
from opora.core.writes import NEW_PK, save_together
from opora.intake.models import ServiceRequest
from opora.intake.services import request_private_token
from opora.notifications.services import (
    notification_send_to_client,
    shortlink_for,
    shortlink_url,
)
from opora.scheduling import locks, scripts
from opora.scheduling.calendar import ServiceCalendar, to_local
from opora.scheduling.ics import booking_ics
from opora.scheduling.models import WRITTEN_FORMS, Booking, ConsultationForm, Slot
from opora.scheduling.services._common import (
    BOOKING_ROLES,
    LOCK_NOT_AVAILABLE,
    _d,
    _member_to_check,
    _not_member,
    _require,
    _require_role,
    _t,
)

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

# --- bookings ---------------------------------------------------------------------------------


# Stand-ins for the numbers a compiled query is run with; no row has a negative id.
_PLACEHOLDER_BASE = -7_340_000
_compiled_queries: dict[
    tuple[Any, ...], tuple[Any, str, list[Any], dict[int, str], tuple[Any, ...]]
] = {}


def _fetch_compiled(
    model: type[Model], key: tuple[Any, ...], build: Callable[..., QuerySet[Any]], **values: int
) -> list[Any]:
    """`list(build(**values))`, a queryset of `model` built and compiled to SQL once per process.

    Building and compiling a queryset with joins and annotations costs ~1 ms of Python, ten times
    what the database needs to answer it; the lock queries run on every press of «book», so for a
    refused attempt that was most of the cost. The queryset is built once with stand-in numbers for
    `values`, compiled, and then only executed with the real ones; the rows become model instances
    as `QuerySet` makes them (converters, select_related, annotations). `key` must name everything
    else the SQL depends on.
    """
    db = router.db_for_write(model)
    connection = connections[db]
    key = (db, connection.vendor, model._meta.label, *key)
    entry = _compiled_queries.get(key)
    if entry is None:
        names = sorted(values)
        stand_ins = {name: _PLACEHOLDER_BASE - i for i, name in enumerate(names)}
        compiler = build(**stand_ins).query.get_compiler(using=db)
        sql, params = compiler.as_sql()
        slots = {
            i: name
            for i, p in enumerate(params)
            for name, stand_in in stand_ins.items()
            if type(p) is int and p == stand_in
        }
        if sorted(slots.values()) != names:
            raise RuntimeError(f"compiled query {key!r}: a value does not reach the SQL")
        # How rows become instances, as django.db.models.query.ModelIterable does it.
        select, klass_info = compiler.select, compiler.klass_info
        first, last = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        shape = (
            klass_info["model"],
            first,
            last,
            [f[0].target.attname for f in select[first:last]],
            # django-stubs describes Django 6's signature (with `fetch_mode`); this is 5.2's.
            get_related_populators(klass_info, select, db),  # type: ignore[call-arg]
            list(compiler.annotation_col_map.items()),
            compiler.get_converters([s[0] for s in select[: compiler.col_count]]),
        )
        entry = _compiled_queries[key] = (compiler, sql, list(params), slots, shape)
    compiler, sql, params, slots, shape = entry
    locks.compiled_lock_check(compiler, connection)
    params = list(params)
    for i, name in slots.items():
        params[i] = values[name]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    row_model, first, last, init_list, populators, annotations, converters = shape
    if converters:
        rows = compiler.apply_converters(rows, converters)
    objects = []
    for row in rows:
        obj = row_model.from_db(db, init_list, row[first:last])
        for populator in populators:
            populator.populate(row, obj)
        for name, position in annotations:
            setattr(obj, name, row[position])
        objects.append(obj)
    return objects


class _LocalDate(Func):
    """The date of a timestamp in the time zone named by a text column (e.g. the service's)."""

    output_field = DateField()
    arity = 2

    def as_sql(
        self,
        compiler: SQLCompiler,
        connection: BaseDatabaseWrapper,
        function: str | None = None,
        template: str | None = None,
        arg_joiner: str | None = None,
        **extra_context: Any,
    ) -> tuple[str, tuple[Any, ...]]:
        (ts, ts_params), (tz, tz_params) = (compiler.compile(e) for e in self.source_expressions)
        if connection.vendor == "postgresql":
            return f"({ts} AT TIME ZONE {tz})::date", (*ts_params, *tz_params)
        if connection.vendor == "sqlite":
            # Django's own SQLite function, as TruncDate uses it, with the zone from the column.
            return (
                f"django_datetime_cast_date({ts}, {tz}, %s)",
                (*ts_params, *tz_params, connection.timezone_name),
            )
        raise NotImplementedError(f"_LocalDate on {connection.vendor}")


class _LockedRequestColumns(TypedDict):
    actor_works_here: bool  # only when locked with `member_id`


class _LockedSlotColumns(TypedDict):
    local_date: dt.date
    day_override: bool | None


LockedRequest: TypeAlias = "WithAnnotations[ServiceRequest, _LockedRequestColumns]"
LockedSlot: TypeAlias = "WithAnnotations[Slot, _LockedSlotColumns]"


def _locked_request_query(*, request_id: int, member_id: int = 0) -> QuerySet[ServiceRequest]:
    requests = locks.service_request_qs_select_for_update().select_related("service")
    if member_id:
        requests = requests.annotate(
            actor_works_here=Exists(
                User.services.through.objects.filter(
                    user_id=member_id, service_id=OuterRef("service_id")
                )
            )
        )
    return requests.filter(pk=request_id)


def _locked_slots_query(**ids: int) -> QuerySet[LockedSlot]:
    override = CalendarOverride.objects.filter(
        service_id=OuterRef("service_id"), date=OuterRef("local_date")
    ).values("is_working_day")[:1]
    # NOWAIT: a slot another operator is booking at this very moment is as good as taken. Failing
    # at once keeps the losers of a race from queueing behind the winner's commit.
    return (
        locks.slot_qs_select_for_update()
        .select_related("consultant")
        .annotate(local_date=_LocalDate("starts_at", "service__time_zone"))
        .annotate(day_override=Subquery(override))
        .filter(pk__in=ids.values())
        .order_by("pk")
    )


def _lock_request_and_slot(
    *,
    request_id: int,
    slot_id: int,
    other_slot_id: int | None = None,
    member_id: int | None = None,
    busy: Callable[[], DomainError] | None = None,
) -> tuple[LockedRequest, LockedSlot]:
    """The one place that locks for a booking change: the request row first, then the slot rows.

    Every writer takes its locks in this order (request, then slots by id, then the booking), so
    two writers never wait for each other in a cycle. `other_slot_id` is the slot a rescheduled
    booking leaves. On SQLite the IMMEDIATE transaction already serialises writers.

    Each lock query also reads what the booking checks need, so they cost no round trip of their
    own: the request comes with its service, and with `member_id` whether that user works for it
    (`request.actor_works_here`); each slot comes with its consultant, the request's service (when
    it is the slot's) and the service's calendar override of the slot's local date
    (`slot.day_override`: True, False or None).

    A slot row another transaction holds (NOWAIT) raises `busy()`: by default "this time has just
    been taken", which is what it means to someone booking it; a cancel says something else.
    """
    member: dict[str, int] = {"member_id": member_id} if member_id is not None else {}
    found = _fetch_compiled(
        ServiceRequest,
        ("booking-lock-request", member_id is not None),
        _locked_request_query,
        request_id=request_id,
        **member,
    )
    if not found:
        raise NotFound(_("The request does not exist."))
    request = found[0]
    service = request.service
    ids = sorted({pk for pk in (slot_id, other_slot_id) if pk is not None})
    try:
        locked = _fetch_compiled(
            Slot,
            ("booking-lock-slots", len(ids)),
            _locked_slots_query,
            **{f"slot{i}": pk for i, pk in enumerate(ids)},
        )
    except OperationalError as exc:
        if getattr(exc.__cause__, "sqlstate", None) == LOCK_NOT_AVAILABLE:
            raise (busy or _slot_taken)() from None
        raise
    slots = {s.pk: s for s in locked}
    if slot_id not in slots:
        raise NotFound(_("The slot does not exist."))
    for slot in slots.values():
        if slot.service_id == service.pk:
            slot.service = service  # the same row: no second join or query for it
    return request, slots[slot_id]


class _SlotDayCalendar(ServiceCalendar):
    """The service's calendar with the override of one date already known (read with the slot
    lock), so checking the slot's day needs no query."""

    def __init__(self, service: Any, date: dt.date, override: bool | None) -> None:
        super().__init__(service)
        self._date, self._override = date, override

    def is_working_day(self, date: dt.date) -> bool:
        if date != self._date:
            return super().is_working_day(date)
        if self._override is not None:
            return self._override
        return self.is_country_working_day(date)


def _slot_calendar(slot: Slot) -> ServiceCalendar | None:
    """A calendar for `slot_problem` from what `_lock_request_and_slot` read, or None."""
    if not hasattr(slot, "day_override"):
        return None
    day = to_local(slot.service, slot.starts_at).date()
    return _SlotDayCalendar(slot.service, day, slot.day_override)


def _mark_slot(slot_id: int, *, booked: bool) -> None:
    # Keeps `Slot.is_booked` in step with the active booking, under the slot row lock.
    Slot.objects.filter(pk=slot_id).update(is_booked=booked)


def slot_problem(
    *, slot: Slot, now: dt.datetime, calendar: ServiceCalendar | None = None
) -> DomainError | None:
    """Why `slot` cannot be booked now (a DomainError to raise), or None when it can."""
    service = slot.service
    starts, ends = to_local(service, slot.starts_at), to_local(service, slot.ends_at)
    fmt = {"date": _d(starts.date()), "time": _t(starts.time()), "end": _t(ends.time())}
    if not slot.is_open:
        return DomainError(
            _("The slot %(date)s %(time)s is closed for booking; pick another slot.") % fmt,
            code="slot_closed",
        )
    if slot.starts_at <= now:
        return DomainError(
            _("The slot %(date)s %(time)s is in the past; pick a future slot.") % fmt,
            code="slot_in_past",
        )
    calendar = calendar or ServiceCalendar(service)
    if not calendar.is_working_day(starts.date()):
        return DomainError(
            _("%(date)s is not a working day of the service; pick another day.") % fmt,
            code="not_working_day",
        )
    if (
        starts.time() < service.consultation_opens
        or ends.date() != starts.date()
        or ends.time() > service.consultation_closes
    ):
        return DomainError(
            _(
                "%(time)s–%(end)s on %(date)s is outside the consultation hours "
                "%(opens)s–%(closes)s; pick another slot."
            )
            % {
                **fmt,
                "opens": _t(service.consultation_opens),
                "closes": _t(service.consultation_closes),
            },
            code="outside_hours",
        )
    return None


def _slot_taken() -> Conflict:
    return Conflict(_("This time has just been taken; pick another slot"), code="slot_taken")


def _room_taken() -> Conflict:
    return Conflict(
        _("This room is already taken at this time; pick another room or time."),
        code="room_taken",
    )


def _check_room_free(slot: Slot) -> None:
    """An in-person slot: its room must have no active booking overlapping the slot's time.

    Checked under the room's row lock, so two bookings of one room at overlapping times are
    serialised (the unique index on place and start time is the last word for equal starts)."""
    place_id = slot.place_id
    if place_id is None:
        return  # not in a room: nothing to clash with (callers check this first)
    locks.place_qs_select_for_update().filter(pk=place_id).first()
    clash = Booking.objects.filter(
        place_id=place_id,
        status=Booking.Status.ACTIVE,
        slot__starts_at__lt=slot.ends_at,
        slot__ends_at__gt=slot.starts_at,
    ).exists()
    if clash:
        raise _room_taken()


def _booking_busy() -> Conflict:
    # A cancel that meets the slot's row lock: someone is booking, moving or cancelling on that
    # slot at this very moment. Nothing was taken from anyone; trying again settles it.
    return Conflict(
        _("Someone else is changing this booking right now; try again in a moment."),
        code="booking_busy",
    )


def _book(
    *,
    actor: Actor,
    request: ServiceRequest,
    slot: Slot,
    now: dt.datetime,
    updates: Sequence[tuple[Model, Sequence[str]]] = (),
    audit: tuple[AuditEventType, dict[str, Any]] | None = None,
    visit_address: str = "",
    ad_hoc: bool = False,
) -> Booking:
    """Insert an active booking; both locks are held. The database has the last word.

    `ad_hoc`: the slot was just made for help given now (closed, starting now): not checked
    against the offer rules.

    With the booking the slot is flagged booked, `updates` ((instance, fields); `NEW_PK` stands
    for the new booking's id) are saved in one statement on PostgreSQL (`core.writes.save_together`);
    then the `audit` event (type, extra) on it is chained into the audit log.
    """
    if slot.service_id != request.service_id:
        raise DomainError(_("The slot belongs to another service."), code="wrong_service")
    problem = None if ad_hoc else slot_problem(slot=slot, now=now, calendar=_slot_calendar(slot))
    if problem is not None:
        raise problem
    if slot.is_booked:
        # The flag is kept in step under this slot lock, which we hold: the slot has an active
        # booking, so answer now instead of after an insert the unique index would refuse.
        raise _slot_taken()
    booking = Booking(
        slot=slot,
        request=request,
        created_by=actor if isinstance(actor, User) and actor.pk else None,
        visit_address=visit_address.strip(),
    )
    if slot.form == ConsultationForm.VISITING and not booking.visit_address:
        raise DomainError(
            _("A visiting consultation needs the address to visit."), code="visit_address"
        )
    if slot.place_id is not None:
        _check_room_free(slot)
        booking.place_id = slot.place_id
        booking.starts_at = slot.starts_at
    # Foreign keys are locked rows already and the unique rules are the database's: skip the
    # extra queries full_clean would make for them.
    booking.full_clean(
        exclude={"slot", "request", "created_by", "replaced_by"},
        validate_unique=False,
        validate_constraints=False,
    )
    slot.is_booked = True  # kept in step with the active booking, under the slot row lock
    # No savepoint: on a violation the whole booking is abandoned anyway, and the partial unique
    # index is the one arbiter of who got the slot.
    try:
        save_together(booking, updates=[(slot, ["is_booked"]), *updates])
    except IntegrityError as exc:
        slot.is_booked = False
        text = str(exc)
        if "booking_one_active_per_place_start" in text:
            raise _room_taken() from None
        if "booking_one_active_per_request" in text or "request_id" in text:
            raise Conflict(
                _("This request already has an active booking; reschedule it instead."),
                code="request_booked",
            ) from None
        raise _slot_taken() from None
    if audit is not None:
        # After the insert (the event names the booking's id) and last: the audit chain's head
        # is locked from here to the commit.
        event_type, extra = audit
        audit_record(actor=actor, event_type=event_type, subject=booking, extra=extra)
    return booking


def _books_own_slot(actor: Actor, slot: Any) -> bool:
    """A consultant booking their own free time (the next consultation from the protocol)."""
    return (
        not isinstance(actor, ClientActor)
        and getattr(actor, "is_authenticated", False)
        and actor.is_active
        and policy.can(actor, Action.CONSULTATION_CONDUCT)  # one who holds consultations
        and getattr(slot, "consultant_id", None) == actor.pk
    )


# A notice's short link keeps working this long after the consultation's end.
SHORT_LINK_KEPT = dt.timedelta(days=30)


def booking_client_link(*, request: ServiceRequest, booking: Booking) -> str:
    """The short link every notice about `request` carries (the same one each time): it opens
    the room while it is open and the request's private page otherwise (`portal.shortlinks`).

    The request is given its private page token if it has none; the link lives until
    SHORT_LINK_KEPT after the booking's slot ends.
    """
    request_private_token(request=request)
    link = shortlink_for(
        target_type=ServiceRequest._meta.label_lower,
        target_id=str(request.pk),
        expires_at=booking.slot.ends_at + SHORT_LINK_KEPT,
    )
    return shortlink_url(link)


def booking_notify_client(
    *,
    request: ServiceRequest,
    booking: Booking,
    kind: str,
    previous: Booking | None = None,
    dedupe_prefix: str = "",
) -> None:
    """Compose the `kind` notice (`scripts.booking_notice`) and store it for every channel the
    client has: a short SMS, an e-mail with an HTML button and the .ics, the messengers with a
    link button; they are delivered after commit. The request's ids spare the messenger lookup
    its own queries."""
    link = booking_client_link(request=request, booking=booking)
    notice = scripts.booking_notice(
        kind, booking, link=link, previous=previous, with_html=bool(request.email)
    )
    attach = request.email and kind in (scripts.CREATED, scripts.RESCHEDULED, scripts.CANCELLED)
    notification_send_to_client(
        kind=kind,
        subject=notice.subject,
        body=notice.text,
        sms_body=notice.sms,
        html_body=notice.html,
        action_url=notice.link,
        action_label=notice.link_label,
        about=booking,
        phone=request.phone,
        email=request.email,
        attachments=[("consultation.ics", booking_ics(booking, join_url=link), "text/calendar")]
        if attach
        else None,
        dedupe_prefix=dedupe_prefix,
        contact_hint={"request_id": request.pk, "client_id": request.client_id},
    )


def _require_eligibility_checked(request: ServiceRequest, service: Any) -> None:
    """The registry rule of booking, shared by every way a request gets a consultant (a slot,
    help started now, a written consultation taken up): where the service checks eligibility,
    a request registered from a letter or a message before the registry check (regulation 001
    §3) gets nothing until the operator has checked the IIN and full name."""
    if service.requires_eligibility and request.eligibility_check_id is None and not request.iin:
        raise DomainError(
            _("Check the IIN and full name in the registries before booking this request."),
            code="eligibility_unchecked",
        )


@transaction.atomic
def booking_create(*, actor: Actor, request: Any, slot: Any, visit_address: str = "") -> Booking:
    """Book `slot` for a new request and tell the client date, time, how to join and to change.

    The slot must be open, in the future, on a working day and inside the consultation hours
    (`DomainError` naming the problem otherwise). If someone else took it first: `Conflict`.
    """
    own_slot = _books_own_slot(actor, slot)
    if not own_slot:
        _require_role(
            actor,
            BOOKING_ROLES,
            service=request.service if isinstance(actor, ClientActor) else None,
            allow_api=True,
            message=_("You are not allowed to book consultations."),
            request_id=request.pk,
        )
    # Whether a staff actor works for the request's service is read with the request lock.
    member_id = _member_to_check(actor)
    request, slot = _lock_request_and_slot(
        request_id=request.pk, slot_id=slot.pk, member_id=member_id
    )
    if member_id is not None and not request.actor_works_here:
        raise _not_member()
    if own_slot and slot.consultant_id != actor.pk:
        raise PermissionDenied(_("You are not allowed to book consultations."))
    _require_eligibility_checked(request, slot.service)
    if request.status != ServiceRequest.Status.NEW:
        if request.status == ServiceRequest.Status.BOOKED:
            raise Conflict(
                _("This request already has an active booking; reschedule it instead."),
                code="request_booked",
            )
        raise DomainError(
            _("Only a new request can be booked; this one is “%(status)s”.")
            % {"status": request.get_status_display()},
            code="request_not_new",
        )
    request.status = ServiceRequest.Status.BOOKED
    booking = _book(
        actor=actor,
        request=request,
        slot=slot,
        now=timezone.now(),
        updates=[(request, ["status", "updated_at"])],
        audit=(AuditEventType.BOOKING_CREATED, {"request_id": request.pk, "slot_id": slot.pk}),
        visit_address=visit_address,
    )
    booking_notify_client(request=request, booking=booking, kind=scripts.CREATED)
    return booking


def _lock_booking(booking_id: int) -> Booking:
    try:
        return (
            locks.booking_qs_select_for_update()
            .select_related("slot__service", "slot__consultant")
            .get(pk=booking_id)
        )
    except Booking.DoesNotExist:
        raise NotFound(_("The booking does not exist.")) from None


def _not_active(booking: Booking, message: str) -> DomainError:
    return DomainError(
        message % {"status": booking.get_status_display()}, code="booking_not_active"
    )


# --- what may stop a booking from changing ----------------------------------------------------

# A booking whose request has ended (done: the protocol is saved; no-show) is the record of what
# happened: it is neither moved nor cancelled.
REQUEST_ENDED = (ServiceRequest.Status.DONE, ServiceRequest.Status.NO_SHOW)

# Checks that higher domains register (from their AppConfig.ready) and that booking_reschedule and
# booking_cancel run under their locks: each takes the locked booking and returns the Conflict to
# raise, or None. "The consultation was held" is known only to consultations, which scheduling may
# not import; consultations registers that check here (`consultations.guards`).
BookingChangeCheck = Callable[[Booking], DomainError | None]
_change_checks: list[BookingChangeCheck] = []


def booking_change_check_register(check: BookingChangeCheck) -> None:
    """Run `check` before every reschedule and cancel (registering the same check twice is a
    no-op)."""
    if check not in _change_checks:
        _change_checks.append(check)


def _refuse_ended(*, request: ServiceRequest, booking: Booking) -> None:
    """Conflict when `booking` may no longer change: its request ended (done, no-show) or a
    registered check (the consultation was held, the protocol still to come) says so."""
    if request.status in REQUEST_ENDED:
        raise Conflict(
            _(
                "The request is “%(status)s”: its booking is the record of what happened and can "
                "no longer be moved or cancelled."
            )
            % {"status": request.get_status_display()},
            code="request_ended",
        )
    for check in _change_checks:
        problem = check(booking)
        if problem is not None:
            raise problem


def _moves_own_booking(actor: Actor, *, booking: Booking, slot: Any) -> bool:
    """A consultant may move a booking of theirs to another slot of theirs (re-provision after a
    technical failure, regulation 002 §4.2.1); other moves are for the booking roles."""
    actor_id = getattr(actor, "pk", None)
    return (
        actor_id is not None
        and actor.is_active
        and getattr(slot, "consultant_id", None) == actor_id
        and Slot.objects.filter(pk=booking.slot_id, consultant_id=actor_id).exists()
    )


@transaction.atomic
def booking_reschedule(*, actor: Actor, booking: Booking, slot: Any) -> Booking:
    """Move a booking to another slot: a new booking is made and the old one points to it.

    The old booking stays (status "rescheduled", `replaced_by` the new one), so the history of a
    request is a chain. All in one transaction; the client is told the new date and time.
    """
    old_request = ServiceRequest.objects.select_related("service").get(pk=booking.request_id)
    if not _moves_own_booking(actor, booking=booking, slot=slot):
        _require(
            actor,
            BOOKING_ROLES,
            service=old_request.service,
            allow_api=True,
            message=_("You are not allowed to change bookings."),
            request_id=old_request.pk,
        )
    request, slot = _lock_request_and_slot(
        request_id=booking.request_id, slot_id=slot.pk, other_slot_id=booking.slot_id
    )
    old = _lock_booking(booking.pk)
    if old.status != Booking.Status.ACTIVE:
        raise _not_active(
            old, _("This booking is “%(status)s”; only an active booking can be rescheduled.")
        )
    _refuse_ended(request=request, booking=old)
    if old.slot_id == slot.pk:
        raise DomainError(_("The booking is already on this slot."), code="same_slot")
    now = timezone.now()
    old.status = Booking.Status.RESCHEDULED
    old.ended_at = now
    old.save(update_fields=["status", "ended_at"])
    _mark_slot(old.slot_id, booked=False)
    old.replaced_by_id = NEW_PK
    updates: list[tuple[Model, Sequence[str]]] = [(old, ["replaced_by"])]
    if request.status != ServiceRequest.Status.BOOKED:
        request.status = ServiceRequest.Status.BOOKED
        updates.append((request, ["status", "updated_at"]))
    new = _book(
        actor=actor,
        request=request,
        slot=slot,
        now=now,
        updates=updates,
        audit=(
            AuditEventType.BOOKING_RESCHEDULED,
            {
                "request_id": request.pk,
                "replaces_booking_id": old.pk,
                "from_slot_id": old.slot_id,
                "slot_id": slot.pk,
            },
        ),
        visit_address=old.visit_address,
    )
    booking_notify_client(request=request, booking=new, kind=scripts.RESCHEDULED, previous=old)
    return new


@transaction.atomic
def booking_cancel(*, actor: Actor, booking: Booking, reason: str = "") -> Booking:
    """Cancel an active booking: the slot is free again, the request is cancelled, client told."""
    old_request = ServiceRequest.objects.select_related("service").get(pk=booking.request_id)
    _require(
        actor,
        BOOKING_ROLES,
        service=old_request.service,
        allow_api=True,
        message=_("You are not allowed to cancel bookings."),
        request_id=old_request.pk,
    )
    request, _slot = _lock_request_and_slot(
        request_id=booking.request_id, slot_id=booking.slot_id, busy=_booking_busy
    )
    booking = _lock_booking(booking.pk)
    if booking.status != Booking.Status.ACTIVE:
        raise _not_active(
            booking, _("This booking is “%(status)s”; only an active booking can be cancelled.")
        )
    _refuse_ended(request=request, booking=booking)
    booking.status = Booking.Status.CANCELLED
    booking.ended_at = timezone.now()
    booking.cancel_reason = (reason or "").strip()[:300]
    booking.full_clean(
        exclude={"slot", "request", "created_by", "replaced_by"},
        validate_unique=False,
        validate_constraints=False,
    )
    booking.save(update_fields=["status", "ended_at", "cancel_reason"])
    _mark_slot(booking.slot_id, booked=False)
    request.status = ServiceRequest.Status.CANCELLED
    request.save(update_fields=["status", "updated_at"])
    # The reason is free text about the client: it stays on the booking, not in the audit log.
    audit_record(
        actor=actor,
        event_type=AuditEventType.BOOKING_CANCELLED,
        subject=booking,
        extra={"request_id": request.pk, "slot_id": booking.slot_id},
    )
    booking_notify_client(request=request, booking=booking, kind=scripts.CANCELLED)
    return booking


# --- Help now, without a slot of the schedule ------------------------------------------------------

IMMEDIATE_MINUTES = 60


@transaction.atomic
def booking_start_now(
    *,
    actor: Actor,
    request: Any,
    consultant: Any,
    form: str,
    minutes: int = IMMEDIATE_MINUTES,
    place: Any = None,
    visit_address: str = "",
    now: dt.datetime | None = None,
) -> Booking:
    """Book `consultant` from now on for `request` (immediate help, a walk-in, a written
    consultation taken up): an ad-hoc slot, closed and never offered, and its booking.

    The consultant must work for the request's service and have no active booking overlapping
    the time (`Conflict` otherwise); the consultant's row is locked, so two operators starting
    help with the same consultant at once are serialised. The request must be new.
    """
    now = now or timezone.now()
    if form not in ConsultationForm.values:
        raise DomainError(_("Unknown form of consultation."), code="form")
    member_id = _member_to_check(actor)
    request = _fetch_request_for_now(request_id=request.pk, member_id=member_id)
    if member_id is not None and not request.actor_works_here:
        raise _not_member()
    if not consultant.services.filter(pk=request.service_id).exists():
        raise DomainError(
            _("The consultant does not work for this service."), code="wrong_consultant"
        )
    _require_eligibility_checked(request, request.service)
    if request.status != ServiceRequest.Status.NEW:
        raise DomainError(
            _("Only a new request can be booked; this one is “%(status)s”.")
            % {"status": request.get_status_display()},
            code="request_not_new",
        )
    if place is not None and place.service_id != request.service_id:
        raise DomainError(_("The place belongs to another service."), code="wrong_place")
    if form == ConsultationForm.IN_PERSON and place is None:
        raise DomainError(_("An in-person consultation needs a room."), code="place")
    ends = now + dt.timedelta(minutes=minutes)
    locks.user_qs_select_for_update().filter(pk=consultant.pk).first()
    # A written consultation is answered between other work: it neither makes nor finds the
    # consultant busy.
    busy = form not in WRITTEN_FORMS and (
        Booking.objects.filter(
            slot__consultant_id=consultant.pk,
            status=Booking.Status.ACTIVE,
            slot__starts_at__lt=ends,
            slot__ends_at__gt=now,
        )
        .exclude(slot__form__in=WRITTEN_FORMS)
        .exists()
    )
    if busy:
        raise Conflict(
            _("The consultant is busy at this time; pick another consultant or book a slot."),
            code="consultant_busy",
        )
    slot = Slot(
        service_id=request.service_id,
        consultant=consultant,
        schedule=None,
        starts_at=now,
        ends_at=ends,
        is_open=False,
        form=form,
        place=place,
    )
    slot.full_clean(exclude={"service", "consultant", "schedule", "place"})
    slot.save()
    request.status = ServiceRequest.Status.BOOKED
    return _book(
        actor=actor,
        request=request,
        slot=slot,
        now=now,
        updates=[(request, ["status", "updated_at"])],
        audit=(
            AuditEventType.BOOKING_CREATED,
            {"request_id": request.pk, "slot_id": slot.pk, "immediate": True, "form": form},
        ),
        visit_address=visit_address,
        ad_hoc=True,
    )


def _fetch_request_for_now(*, request_id: int, member_id: int | None) -> ServiceRequest:
    return _locked_request_query(request_id=request_id, member_id=member_id or 0).get()


def slot_end_ad_hoc(*, slot: Slot, at: dt.datetime) -> None:
    """Help given now has ended at `at`: its ad-hoc slot ends then, so the consultant is free
    again (a slot of the schedule keeps its time)."""
    if slot.schedule_id is not None:
        return
    ends = max(at, slot.starts_at + dt.timedelta(minutes=1))
    Slot.objects.filter(pk=slot.pk, schedule__isnull=True).update(ends_at=ends)
    slot.ends_at = ends
