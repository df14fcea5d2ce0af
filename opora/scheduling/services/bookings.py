"""Writes of the scheduling domain: consultant schedules, slots, bookings and the daily hand-off.

Locks are always taken in one order — request, then slot, then booking — by
`_lock_request_and_slot()`, so concurrent writers queue instead of deadlocking. The database
settles races (partial unique constraints on active bookings); the loser gets `Conflict`.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any, BinaryIO

from django.conf import settings
from django.db import (
    IntegrityError,
    OperationalError,
    connections,
    router,
    transaction,
)
from django.db.models import (
    DateField,
    Exists,
    Func,
    Model,
    OuterRef,
    Prefetch,
    QuerySet,
    Subquery,
)
from django.db.models.query import get_related_populators
from django.db.transaction import TransactionManagementError
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from opora.accounts.models import Role, User
from opora.core.actors import ClientActor
from opora.core.audit import AuditEventType, audit_event, audit_record
from opora.core.errors import Conflict, DomainError, NotFound, PermissionDenied
from opora.core.models import CalendarOverride
from opora.core.writes import NEW_PK, save_together
from opora.intake.models import ServiceRequest
from opora.intake.services import request_private_token
from opora.notifications.models import Notification
from opora.notifications.services import (
    notification_create,
    notification_send_to_client,
    shortlink_for,
    shortlink_url,
)
from opora.scheduling import scripts
from opora.scheduling.calendar import ServiceCalendar, make_aware_local, to_local
from opora.scheduling.ics import booking_ics
from opora.scheduling.models import Booking, HandoffRun, Schedule, SchedulePeriod, Slot

logger = logging.getLogger(__name__)

# PostgreSQL's SQLSTATE for a row lock that NOWAIT could not take.
LOCK_NOT_AVAILABLE = "55P03"

SCHEDULE_EDITORS = (Role.COORDINATOR, Role.HEAD, Role.ADMIN)
SCHEDULE_SUBMITTERS = (Role.COORDINATOR, Role.ADMIN)
SCHEDULE_APPROVERS = (Role.HEAD, Role.ADMIN)
BOOKING_ROLES = (Role.OPERATOR, Role.COORDINATOR, Role.HEAD, Role.ADMIN)
HANDOFF_ROLES = (Role.COORDINATOR, Role.HEAD, Role.ADMIN)

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Regulation 001 §6: the data of a request, as the university receives it every day.
HANDOFF_COLUMNS = [
    "№",
    "Дата и время регистрации",
    "Ф.И.О.",
    "ИИН",
    "Телефон",
    "Регион",
    "Дата и время консультации",
    "Консультант",
    "Статус",
]


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


def _is_admin(actor: Any) -> bool:
    return bool(actor.is_superuser or actor.role == Role.ADMIN)


def _require_role(
    actor: Any,
    roles: Iterable[str],
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
        if request_id is None or actor.request_id != request_id or not service.allows_self_booking:
            raise PermissionDenied(message)
        return
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        raise PermissionDenied(message)
    allowed = actor.has_role(*roles)
    if not allowed and allow_api:
        # An integration account (the call-centre software) acts through a live API token.
        allowed = actor.api_tokens.filter(revoked_at__isnull=True).exists()
    if not allowed:
        raise PermissionDenied(message)


def _not_member() -> PermissionDenied:
    return PermissionDenied(_("You do not work for this service."))


def _member_to_check(actor: Any) -> int | None:
    """The user id whose membership of the service is still to be checked, or None (a client
    acting on their own request, or an administrator, who works for every service)."""
    if isinstance(actor, ClientActor) or _is_admin(actor):
        return None
    return actor.pk


def _require(
    actor: Any,
    roles: Iterable[str],
    *,
    service: Any,
    message: str,
    allow_api: bool = False,
    request_id: int | None = None,
) -> None:
    """Raise PermissionDenied unless `actor` has one of `roles` and works for `service`.

    A `ClientActor` passes only for its own request (`request_id`) of a service that lets
    clients book themselves.
    """
    _require_role(
        actor, roles, service=service, message=message, allow_api=allow_api, request_id=request_id
    )
    member_id = _member_to_check(actor)
    if member_id is not None and not actor.services.filter(pk=service.pk).exists():
        raise _not_member()


def _check_consultant(service: Any, consultant: Any) -> None:
    if consultant.role != Role.CONSULTANT or not consultant.is_active:
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


@transaction.atomic
def schedule_save(
    *,
    actor: Any,
    service: Any,
    consultant: Any,
    month: dt.date,
    periods: list[tuple[dt.date, dt.time, dt.time]],
) -> Schedule:
    """Create or replace the working periods of a consultant's month.

    Every period must lie inside the month, on a working day of the service and inside its
    consultation hours. All problems are reported at once (`ScheduleInvalid`); nothing is written
    then. Only a draft or a returned schedule can be edited.
    """
    _require(
        actor,
        SCHEDULE_EDITORS,
        service=service,
        message=_("Only a coordinator, the head or an administrator may edit schedules."),
    )
    month = month.replace(day=1)
    _check_consultant(service, consultant)
    calendar = ServiceCalendar(service)
    errors: list[str] = []
    for date, start, end in periods:
        errors += _period_errors(
            service=service, calendar=calendar, month=month, date=date, start=start, end=end
        )
    errors += _overlap_errors((d, s, e, "") for d, s, e in periods)
    if errors:
        raise ScheduleInvalid(errors)

    schedule, created = Schedule.objects.select_for_update().get_or_create(
        service=service, consultant=consultant, month=month, defaults={"created_by": actor}
    )
    _editable_or_explain(schedule)
    if created:
        schedule.full_clean()
    schedule.periods.all().delete()
    rows = [
        SchedulePeriod(schedule=schedule, date=d, start_time=s, end_time=e)
        for d, s, e in sorted(periods)
    ]
    for row in rows:
        row.full_clean(exclude={"schedule"}, validate_unique=False, validate_constraints=False)
    SchedulePeriod.objects.bulk_create(rows)
    audit_record(
        actor=actor,
        event_type=AuditEventType.SCHEDULE_SAVED,
        subject=schedule,
        extra={"month": month.isoformat(), "periods": len(rows), "consultant_id": consultant.pk},
    )
    return schedule


def _norm_name(value: str) -> str:
    return " ".join(value.casefold().replace("ё", "е").split())


def _consultant_index(service: Any) -> dict[str, set[int]]:
    index: dict[str, set[int]] = defaultdict(set)
    users = User.objects.filter(role=Role.CONSULTANT, is_active=True, services=service)
    for u in users:
        names = {
            u.username,
            f"{u.last_name} {u.first_name} {u.patronymic}",
            f"{u.last_name} {u.first_name}",
            f"{u.first_name} {u.last_name}",
            f"{u.first_name} {u.patronymic} {u.last_name}",
        }
        for name in names:
            key = _norm_name(name)
            if key:
                index[key].add(u.pk)
    return index


_DATE_PATTERNS = ("%d.%m.%Y", "%Y-%m-%d", "%d.%m.%y", "%d/%m/%Y")


def _cell_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and 1 <= value < 200000:
        from openpyxl.utils.datetime import from_excel

        converted = from_excel(value)
        return converted.date() if isinstance(converted, dt.datetime) else None
    if isinstance(value, str):
        text = value.strip()
        for pattern in _DATE_PATTERNS:
            try:
                return dt.datetime.strptime(text, pattern).date()  # noqa: DTZ007 - a date only
            except ValueError:
                continue
    return None


_TIME_RE = re.compile(r"^(\d{1,2})[:.](\d{2})(?::(\d{2}))?$")


def _cell_time(value: Any) -> dt.time | None:
    if isinstance(value, dt.datetime):
        return value.time()
    if isinstance(value, dt.time):
        return value
    if isinstance(value, float) and 0 <= value < 1:
        minutes = round(value * 24 * 60)
        return dt.time(minutes // 60, minutes % 60) if minutes < 24 * 60 else None
    if isinstance(value, str):
        match = _TIME_RE.match(value.strip())
        if match:
            hour, minute = int(match.group(1)), int(match.group(2))
            if hour < 24 and minute < 60:
                return dt.time(hour, minute)
    return None


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def schedule_import_xlsx(
    *, actor: Any, service: Any, month: dt.date, file: BinaryIO
) -> list[Schedule]:
    """Import a month of schedules from XLSX: consultant (username or full name) | date | from | to.

    The first row is a header. Every bad row is reported with its row number in one
    `ScheduleInvalid`; if any row is bad nothing is written. The periods of each consultant named
    in the file replace that consultant's periods for the month.
    """
    _require(
        actor,
        SCHEDULE_EDITORS,
        service=service,
        message=_("Only a coordinator, the head or an administrator may import schedules."),
    )
    month = month.replace(day=1)
    import openpyxl  # here, not at every process's start-up

    try:
        workbook = openpyxl.load_workbook(file, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable upload gets the same clear answer
        raise DomainError(
            _("The file could not be read as an Excel workbook (.xlsx)."), code="bad_file"
        ) from exc
    sheet = workbook.worksheets[0]
    index = _consultant_index(service)
    calendar = ServiceCalendar(service)
    errors: list[str] = []
    plan: dict[int, list[tuple[dt.date, dt.time, dt.time, int]]] = defaultdict(list)
    first_row: dict[int, int] = {}
    seen_rows = 0

    def row_error(row: int, problem: str) -> None:
        errors.append(_("Row %(row)d: %(problem)s") % {"row": row, "problem": problem})

    for row_no, values in enumerate(sheet.iter_rows(min_row=2, values_only=True), start=2):
        cells = (list(values) + [None] * 4)[:4]
        if all(_blank(c) for c in cells):
            continue
        seen_rows += 1
        who, day, start_raw, end_raw = cells
        consultant_pk = None
        if _blank(who):
            row_error(row_no, _("the consultant is missing"))
        else:
            matches = index.get(_norm_name(str(who)), set())
            if not matches:
                row_error(
                    row_no,
                    _("no consultant of this service is called “%(name)s”") % {"name": who},
                )
            elif len(matches) > 1:
                row_error(
                    row_no,
                    _("“%(name)s” matches several consultants; use the username") % {"name": who},
                )
            else:
                consultant_pk = next(iter(matches))
        date = _cell_date(day)
        if date is None:
            row_error(
                row_no,
                _("“%(value)s” is not a date (use DD.MM.YYYY)")
                % {"value": "" if day is None else day},
            )
        start, end = _cell_time(start_raw), _cell_time(end_raw)
        columns = (
            (start_raw, start, pgettext("schedule column", "from")),
            (end_raw, end, pgettext("schedule column", "to")),
        )
        for raw, parsed, label in columns:
            if parsed is None:
                row_error(
                    row_no,
                    _("“%(value)s” in the column “%(column)s” is not a time (use HH:MM)")
                    % {"value": "" if raw is None else raw, "column": label},
                )
        if date is None or start is None or end is None:
            continue
        for problem in _period_errors(
            service=service, calendar=calendar, month=month, date=date, start=start, end=end
        ):
            row_error(row_no, problem)
        if consultant_pk is not None:
            plan[consultant_pk].append((date, start, end, row_no))
            first_row.setdefault(consultant_pk, row_no)
    workbook.close()

    if not seen_rows:
        raise DomainError(_("The file has no schedule rows under the header."), code="empty_file")
    consultants = User.objects.in_bulk(list(plan))
    for pk, items in plan.items():
        errors += _overlap_errors((d, s, e, _("row %(row)d") % {"row": r}) for d, s, e, r in items)
        existing = (
            Schedule.objects.filter(service=service, consultant_id=pk, month=month)
            .select_related("consultant")
            .first()
        )
        if existing is not None:
            try:
                _editable_or_explain(existing)
            except DomainError as exc:
                row_error(first_row[pk], str(exc.message))
    if errors:
        raise ScheduleInvalid(
            errors, header=_("The file was not imported; fix these rows and try again:")
        )

    schedules = []
    with transaction.atomic():
        for pk, items in plan.items():
            schedules.append(
                schedule_save(
                    actor=actor,
                    service=service,
                    consultant=consultants[pk],
                    month=month,
                    periods=[(d, s, e) for d, s, e, _row in items],
                )
            )
    return schedules


def _lock_schedule(schedule: Schedule) -> Schedule:
    return (
        Schedule.objects.select_for_update(of=("self",))
        .select_related("service", "consultant")
        .get(pk=schedule.pk)
    )


@transaction.atomic
def schedule_submit(*, actor: Any, schedule: Schedule) -> Schedule:
    """The coordinator sends a draft or returned schedule to the head for approval."""
    _require(
        actor,
        SCHEDULE_SUBMITTERS,
        service=schedule.service,
        message=_("Only a coordinator may submit schedules for approval."),
    )
    schedule = _lock_schedule(schedule)
    _editable_or_explain(schedule)
    schedule.status = Schedule.Status.SUBMITTED
    schedule.submitted_at = timezone.now()
    schedule.full_clean()
    schedule.save(update_fields=["status", "submitted_at"])
    audit_record(actor=actor, event_type=AuditEventType.SCHEDULE_SUBMITTED, subject=schedule)
    return schedule


def _materialise_slots(schedule: Schedule) -> tuple[int, int]:
    """Create the slots of an approved schedule; return (created, skipped periods).

    Slots start at each period's start and step by the service's slot length; only whole slots
    inside the consultation hours of a working day are made (the calendar may have changed since
    the schedule was saved). Existing slots of the consultant are kept.
    """
    service = schedule.service
    calendar = ServiceCalendar(service)
    step = dt.timedelta(minutes=service.slot_minutes)
    wanted: list[Slot] = []
    skipped = 0
    for period in schedule.periods.all():
        if not calendar.is_working_day(period.date):
            skipped += 1
            continue
        start = max(period.start_time, service.consultation_opens)
        end = min(period.end_time, service.consultation_closes)
        at = make_aware_local(service, period.date, start)
        stop = make_aware_local(service, period.date, end)
        while at + step <= stop:
            wanted.append(
                Slot(
                    service=service,
                    consultant_id=schedule.consultant_id,
                    schedule=schedule,
                    starts_at=at,
                    ends_at=at + step,
                )
            )
            at += step
    if not wanted:
        return 0, skipped
    existing = set(
        Slot.objects.filter(
            consultant_id=schedule.consultant_id,
            starts_at__gte=wanted[0].starts_at,
            starts_at__lte=wanted[-1].starts_at,
        ).values_list("starts_at", flat=True)
    )
    new = [s for s in wanted if s.starts_at not in existing]
    # ignore_conflicts: a slot made meanwhile for the same consultant (another service) wins.
    Slot.objects.bulk_create(new, batch_size=1000, ignore_conflicts=True)
    return len(new), skipped


@transaction.atomic
def schedule_approve(*, actor: Any, schedule: Schedule) -> Schedule:
    """The head approves a submitted schedule; its slots become bookable."""
    _require(
        actor,
        SCHEDULE_APPROVERS,
        service=schedule.service,
        message=_("Only the head may approve schedules."),
    )
    schedule = _lock_schedule(schedule)
    if schedule.status != Schedule.Status.SUBMITTED:
        raise DomainError(
            _("Only a submitted schedule can be approved; this one is “%(status)s”.")
            % {"status": schedule.get_status_display()},
            code="schedule_not_submitted",
        )
    schedule.status = Schedule.Status.APPROVED
    schedule.approved_by = actor
    schedule.approved_at = timezone.now()
    schedule.full_clean()
    schedule.save(update_fields=["status", "approved_by", "approved_at"])
    created, skipped = _materialise_slots(schedule)
    audit_record(
        actor=actor,
        event_type=AuditEventType.SCHEDULE_APPROVED,
        subject=schedule,
        extra={"slots_created": created, "periods_skipped": skipped},
    )
    return schedule


@transaction.atomic
def schedule_return(*, actor: Any, schedule: Schedule, comment: str) -> Schedule:
    """The head returns a submitted schedule to the coordinator with a comment on what to fix."""
    _require(
        actor,
        SCHEDULE_APPROVERS,
        service=schedule.service,
        message=_("Only the head may return schedules."),
    )
    comment = (comment or "").strip()
    if not comment:
        raise DomainError(
            _("Say what has to be changed: a comment is required."), code="comment_required"
        )
    schedule = _lock_schedule(schedule)
    if schedule.status != Schedule.Status.SUBMITTED:
        raise DomainError(
            _("Only a submitted schedule can be returned; this one is “%(status)s”.")
            % {"status": schedule.get_status_display()},
            code="schedule_not_submitted",
        )
    schedule.status = Schedule.Status.RETURNED
    schedule.comment = comment
    schedule.full_clean()
    schedule.save(update_fields=["status", "comment"])
    audit_record(actor=actor, event_type=AuditEventType.SCHEDULE_RETURNED, subject=schedule)
    return schedule


# --- bookings ---------------------------------------------------------------------------------


# Stand-ins for the numbers a compiled query is run with; no row has a negative id.
_PLACEHOLDER_BASE = -7_340_000
_compiled_queries: dict[tuple, tuple[Any, str, list[Any], dict[int, str], tuple]] = {}


def _fetch_compiled(
    model: type[Model], key: tuple, build: Callable[..., QuerySet], **values: int
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
            get_related_populators(klass_info, select, db),
            list(compiler.annotation_col_map.items()),
            compiler.get_converters([s[0] for s in select[: compiler.col_count]]),
        )
        entry = _compiled_queries[key] = (compiler, sql, list(params), slots, shape)
    compiler, sql, params, slots, shape = entry
    if compiler.query.select_for_update and connection.get_autocommit():
        raise TransactionManagementError("select_for_update cannot be used outside a transaction.")
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

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, tuple]:
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


def _locked_request_query(*, request_id: int, member_id: int = 0) -> QuerySet:
    requests = ServiceRequest.objects.select_for_update(of=("self",)).select_related("service")
    if member_id:
        requests = requests.annotate(
            actor_works_here=Exists(
                User.services.through.objects.filter(
                    user_id=member_id, service_id=OuterRef("service_id")
                )
            )
        )
    return requests.filter(pk=request_id)


def _locked_slots_query(**ids: int) -> QuerySet:
    override = CalendarOverride.objects.filter(
        service_id=OuterRef("service_id"), date=OuterRef("local_date")
    ).values("is_working_day")[:1]
    # NOWAIT: a slot another operator is booking at this very moment is as good as taken. Failing
    # at once keeps the losers of a race from queueing behind the winner's commit.
    return (
        Slot.objects.select_for_update(of=("self",), nowait=True)
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
) -> tuple[ServiceRequest, Slot]:
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
    found = _fetch_compiled(
        ServiceRequest,
        ("booking-lock-request", member_id is not None),
        _locked_request_query,
        request_id=request_id,
        **({"member_id": member_id} if member_id is not None else {}),
    )
    if not found:
        raise NotFound(_("The request does not exist."))
    request = found[0]
    service = request.service
    ids = sorted({slot_id, other_slot_id} - {None})
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


def _booking_busy() -> Conflict:
    # A cancel that meets the slot's row lock: someone is booking, moving or cancelling on that
    # slot at this very moment. Nothing was taken from anyone; trying again settles it.
    return Conflict(
        _("Someone else is changing this booking right now; try again in a moment."),
        code="booking_busy",
    )


def _book(
    *,
    actor: Any,
    request: ServiceRequest,
    slot: Slot,
    now: dt.datetime,
    updates: Sequence[tuple[Model, Sequence[str]]] = (),
    audit: tuple[str, dict] | None = None,
) -> Booking:
    """Insert an active booking; both locks are held. The database has the last word.

    With the booking the slot is flagged booked, `updates` ((instance, fields); `NEW_PK` stands
    for the new booking's id) are saved and the `audit` event (type, extra) on it is written: one
    statement on PostgreSQL (`core.writes.save_together`).
    """
    if slot.service_id != request.service_id:
        raise DomainError(_("The slot belongs to another service."), code="wrong_service")
    problem = slot_problem(slot=slot, now=now, calendar=_slot_calendar(slot))
    if problem is not None:
        raise problem
    if slot.is_booked:
        # The flag is kept in step under this slot lock, which we hold: the slot has an active
        # booking, so answer now instead of after an insert the unique index would refuse.
        raise _slot_taken()
    booking = Booking(
        slot=slot, request=request, created_by=actor if getattr(actor, "pk", None) else None
    )
    # Foreign keys are locked rows already and the unique rules are the database's: skip the
    # extra queries full_clean would make for them.
    booking.full_clean(
        exclude={"slot", "request", "created_by", "replaced_by"},
        validate_unique=False,
        validate_constraints=False,
    )
    slot.is_booked = True  # kept in step with the active booking, under the slot row lock
    events = []
    if audit is not None:
        event_type, extra = audit
        events.append(audit_event(actor=actor, event_type=event_type, subject=booking, extra=extra))
    # No savepoint: on a violation the whole booking is abandoned anyway, and the partial unique
    # index is the one arbiter of who got the slot.
    try:
        save_together(booking, updates=[(slot, ["is_booked"]), *updates], then=events)
    except IntegrityError as exc:
        slot.is_booked = False
        text = str(exc)
        if "booking_one_active_per_request" in text or "request_id" in text:
            raise Conflict(
                _("This request already has an active booking; reschedule it instead."),
                code="request_booked",
            ) from None
        raise _slot_taken() from None
    return booking


def _books_own_slot(actor: Any, slot: Any) -> bool:
    """A consultant booking their own free time (the next consultation from the protocol)."""
    return (
        not isinstance(actor, ClientActor)
        and getattr(actor, "is_authenticated", False)
        and actor.is_active
        and actor.role == Role.CONSULTANT
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


@transaction.atomic
def booking_create(*, actor: Any, request: Any, slot: Any) -> Booking:
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
    if (
        slot.service.requires_eligibility
        and request.eligibility_check_id is None
        and not request.iin
    ):
        # Registered from a letter or a message before the registry check (regulation 001 §3).
        raise DomainError(
            _("Check the IIN and full name in the registries before booking this request."),
            code="eligibility_unchecked",
        )
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
    )
    booking_notify_client(request=request, booking=booking, kind=scripts.CREATED)
    return booking


def _lock_booking(booking_id: int) -> Booking:
    try:
        return (
            Booking.objects.select_for_update(of=("self",))
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


def _moves_own_booking(actor: Any, *, booking: Booking, slot: Any) -> bool:
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
def booking_reschedule(*, actor: Any, booking: Booking, slot: Any) -> Booking:
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
    )
    booking_notify_client(request=request, booking=new, kind=scripts.RESCHEDULED, previous=old)
    return new


@transaction.atomic
def booking_cancel(*, actor: Any, booking: Booking, reason: str = "") -> Booking:
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


# --- daily hand-off ---------------------------------------------------------------------------


def _naive_local(service: Any, value: dt.datetime | None) -> dt.datetime | None:
    # Excel has no time zones: write the service's wall-clock time.
    return to_local(service, value).replace(tzinfo=None) if value is not None else None


def handoff_workbook(*, service: Any, date: dt.date, requests: Sequence[ServiceRequest]) -> bytes:
    """The XLSX of the day's requests, columns as in regulation 001 §6."""
    import openpyxl  # here, not at every process's start-up

    from opora.core.exports import write_row  # every cell plain text: names come from the public

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = date.strftime("%d.%m.%Y")
    write_row(sheet, HANDOFF_COLUMNS)
    with translation.override(settings.LANGUAGE_CODE):
        for number, req in enumerate(requests, start=1):
            active = getattr(req, "active_bookings", None) or []
            booking = active[0] if active else None
            phones = ", ".join(p for p in (req.phone, req.phone_extra) if p)
            write_row(
                sheet,
                [
                    number,
                    _naive_local(service, req.created_at),
                    req.full_name,
                    req.iin,
                    phones,
                    req.region.name if req.region_id else "",
                    _naive_local(service, booking.slot.starts_at) if booking else None,
                    booking.slot.consultant.display_name if booking else "",
                    str(req.get_status_display()),
                ],
            )
    for row in sheet.iter_rows(min_row=2):
        for cell in (row[1], row[6]):
            cell.number_format = "DD.MM.YYYY HH:MM"
    for letter, width in zip("ABCDEFGHI", (5, 20, 36, 14, 24, 24, 20, 30, 16), strict=True):
        sheet.column_dimensions[letter].width = width
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


@transaction.atomic
def handoff_send(*, service: Any, date: dt.date, actor: Any = None) -> HandoffRun:
    """Send the requests registered on the local `date` to the provider (regulation 000 §12).

    Idempotent: one HandoffRun per service and day, taken under a row lock; a day already sent is
    returned as it is. The e-mail with the XLSX is stored as a notification in the same
    transaction (`run.notification`) and delivered after commit by the notifications dispatcher,
    which retries a failed send and leaves it visible as failed; nothing is sent from here.
    """
    if actor is not None:
        _require(
            actor,
            HANDOFF_ROLES,
            service=service,
            message=_("Only a coordinator may send the day's requests."),
        )
    if not service.handoff_email:
        raise DomainError(
            _("The service has no hand-off e-mail address; set it in the service settings."),
            code="no_handoff_email",
        )
    from opora.intake.selectors import requests_registered_on

    run, _created = HandoffRun.objects.select_for_update().get_or_create(service=service, date=date)
    if run.sent_at is not None:
        return run
    requests = list(
        requests_registered_on(service=service, date=date)
        .select_related("region")
        .prefetch_related(
            Prefetch(
                "bookings",
                queryset=Booking.objects.filter(status=Booking.Status.ACTIVE).select_related(
                    "slot__consultant"
                ),
                to_attr="active_bookings",
            )
        )
        .order_by("created_at", "pk")
    )
    content = handoff_workbook(service=service, date=date, requests=requests)
    recipients = [service.handoff_email]
    run.recipients = recipients
    run.request_count = len(requests)
    run.sent_at = timezone.now()
    run.error = ""
    run.full_clean(exclude={"service"}, validate_unique=False, validate_constraints=False)
    run.save(update_fields=["recipients", "request_count", "sent_at", "error"])
    audit_record(
        actor=actor,
        event_type=AuditEventType.HANDOFF_SENT,
        subject=run,
        extra={"date": date.isoformat(), "request_count": run.request_count},
    )
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("%(service)s: requests of %(date)s") % {
            "service": service.name,
            "date": _d(date),
        }
        body = _("Requests registered on %(date)s: %(count)d. The list is attached.") % {
            "date": _d(date),
            "count": run.request_count,
        }
    subject = subject[: Notification._meta.get_field("subject").max_length]
    filename = f"requests-{date.isoformat()}.xlsx"
    run.notification = notification_create(
        channel=Notification.Channel.EMAIL,
        recipient=service.handoff_email,
        subject=subject,
        body=body,
        kind="handoff",
        about=run,
        attachments=[(filename, content, XLSX_MIME)],
        dedupe_key=f"handoff:{run.pk}",
        copy_to_messengers=False,
    )
    run.save(update_fields=["notification"])
    return run
