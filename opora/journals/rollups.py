"""The dashboards' daily roll-up: written by database aggregation, read beside a live count.

Each measure is one `values().annotate()` over the requests, the consultations or the protocols,
grouped by (service, local day, region of the request) and the measure's own keys; the totals
over all regions (`by_region` false) are summed from those rows in the database, so a page without
a region filter reads a few thousand rows for a month. The same definition serves both sides:

- the writer (`refresh_days`, `rebuild`, `refresh_due`) runs it for a range of days as
  `INSERT INTO journals_dailyfigure ... SELECT ... FROM (<the aggregation>)` — no Python loop
  over rows — after deleting those days' rows, in one transaction under an advisory lock;
- the reader (`figure`) sums the roll-up's rows of the settled days of a period and runs the
  aggregation live for the rest: today, the days after `RollupState.covered_through` and the days
  marked dirty since their roll-up. So a figure always equals the live aggregation.

Days are marked dirty after the commit of every save or delete of a request, a booking, a slot, a
consultation or a protocol (signals connected in `JournalsConfig.ready`). A bulk `update()` sends
no signal: the refresh every 5 minutes also rebuilds the last `RECENT_DAYS`, and the nightly
rebuild (and `opora rebuild_rollups`) everything.

Distinct persons do not sum across days, services or regions: the roll-up counts them per
(service, local day) among the rows selected (all regions, or one region's) and the "persons"
figure is defined as that — a person counted once per day and service — both in the roll-up and
live (docs/PERFORMANCE.md, "Dashboards").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import (
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Min,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import TruncDate
from django.utils import timezone

from opora.consultations.models import Consultation, Protocol
from opora.intake.models import ServiceRequest
from opora.journals.locks import rollup_refresh_lock
from opora.journals.models import DailyFigure, RollupDirty, RollupState
from opora.scheduling.models import Booking, Slot

M = DailyFigure.Measure
# Days always refreshed by the periodic task, whatever was marked (a bulk update sends no signal).
RECENT_DAYS = 2
# The roll-up's columns in the order the INSERT names them.
COLUMNS = (
    "service_id",
    "day",
    "region_id",
    "by_region",
    "measure",
    "key",
    "key2",
    "days",
    "ref",
    "n",
    "held",
    "no_shows",
    "held_length",
    "timed",
)
# What a column holds when a measure has no such key or count.
EMPTY = {
    "key": "''",
    "key2": "''",
    "days": "NULL",
    "ref": "NULL",
    "held_length": "NULL",
    "region_id": "NULL",
}
# Kept per region only (the regions chart); every other measure also as totals over regions.
REGION_ONLY = (M.REGION,)
# Keys of the totals: every column but the region's and the counts.
TOTAL_KEYS = ("service_id", "day", "measure", "key", "key2", "days", "ref")
TOTAL_SUMS = ("n", "held", "no_shows", "held_length", "timed")
# The live side's names of the roll-up's service and region columns.
LIVE_NAME = {"service_id": "svc", "region_id": "reg"}


@dataclass(frozen=True)
class Spec:
    """One measure: its rows, the time that places a row on a day, its keys and its counts."""

    time_field: str
    service_field: str
    region_field: str
    keys: dict[str, Any]  # roll-up column -> expression
    counts: dict[str, Any]  # roll-up column -> aggregate


def _spec(measure: str) -> tuple[Spec, QuerySet[Any]]:
    from opora.journals import dashboards as d  # the shared definitions (imports this module)

    requests = ServiceRequest.objects.all()
    on_request = {"service_field": "service_id", "region_field": "region_id"}
    if measure == M.CHANNEL:
        spec = Spec(
            "created_at", **on_request, keys={"key": F("channel")}, counts={"n": Count("id")}
        )
        return spec, requests
    if measure == M.REGION:
        return Spec("created_at", **on_request, keys={}, counts={"n": Count("id")}), requests
    if measure == M.PERSONS:
        return Spec("created_at", **on_request, keys={}, counts={"n": d._persons()}), requests
    if measure == M.KIND_FORM:
        spec = Spec(
            "created_at",
            **on_request,
            keys={"key": F("kind"), "key2": F("preferred_form")},
            counts={"n": Count("id")},
        )
        done = requests.filter(status=ServiceRequest.Status.DONE, counted_with__isnull=True)
        return spec, done
    if measure == M.LEAD:
        spec = Spec(
            "created_at",
            **on_request,
            keys={"days": d._first_booking_days("created_at")},
            counts={"n": Count("id")},
        )
        return spec, requests
    if measure == M.SERVICE_DAYS:
        spec = Spec(
            "created_at",
            **on_request,
            keys={"days": d._first_booking_days("slot__starts_at")},
            counts={"n": Count("id")},
        )
        return spec, requests.exclude(status__in=d.NOT_OWED)
    if measure == M.CONSULTANT:
        ended = Q(status=Consultation.Status.ENDED)
        timed = ended & Q(started_at__isnull=False, ended_at__isnull=False)
        length = ExpressionWrapper(F("ended_at") - F("started_at"), output_field=DurationField())
        spec = Spec(
            "booking__slot__starts_at",
            "booking__slot__service_id",
            "booking__request__region_id",
            keys={"ref": F("booking__slot__consultant_id")},
            counts={
                "n": Count("id"),
                "held": Count("id", filter=ended),
                "no_shows": Count("id", filter=Q(status=Consultation.Status.NO_SHOW)),
                "held_length": Sum(length, filter=timed),
                "timed": Count("id", filter=timed),
            },
        )
        return spec, Consultation.objects.all()
    if measure == M.TOPIC:
        spec = Spec(
            "consultation__booking__slot__starts_at",
            "consultation__booking__slot__service_id",
            "consultation__booking__request__region_id",
            keys={"key": F("topic")},
            counts={"n": Count("id")},
        )
        return spec, Protocol.objects.all()
    raise ValueError(f"no such measure: {measure}")


def _in_ranges(field: str, ranges: Iterable[tuple[dt.datetime, dt.datetime]]) -> Q:
    q = Q(pk__in=[])
    for start, end in ranges:
        q |= Q(**{f"{field}__gte": start, f"{field}__lt": end})
    return q


def aggregation(
    measure: str,
    ranges: list[tuple[dt.datetime, dt.datetime]],
    *,
    group: Iterable[str] | None = None,
    service_ids: Any = None,
    region_id: int | None = None,
    by_region: bool = True,
) -> QuerySet[Any]:
    """The measure's live aggregation over `ranges` of time, grouped by the roll-up's columns
    `group` (default: all of the measure's, as the roll-up keeps them — per region or, with
    `by_region` false, over all regions), with the roll-up's column names (the service as `svc`,
    the region as `reg`)."""
    spec, qs = _spec(measure)
    qs = qs.filter(_in_ranges(spec.time_field, ranges))
    if service_ids is not None:
        qs = qs.filter(**{f"{spec.service_field}__in": service_ids})
    if region_id:
        qs = qs.filter(**{spec.region_field: region_id})
    qs = qs.annotate(svc=F(spec.service_field), day=TruncDate(spec.time_field))
    if by_region:  # (a join to the request for the consultations and protocols)
        qs = qs.annotate(reg=F(spec.region_field))
    qs = qs.annotate(**spec.keys)
    if measure == M.LEAD:
        qs = qs.filter(days__isnull=False)  # booked requests only
    if group is None:
        names = ["svc", "day", *(["reg"] if by_region else []), *spec.keys]
    else:
        names = [LIVE_NAME.get(g, g) for g in group]
    return qs.values(*names).annotate(**spec.counts).order_by()


# --- The writer ---------------------------------------------------------------------------------


def _day_ranges(days: Iterable[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """Sorted days as contiguous (first, last) ranges."""
    out: list[tuple[dt.date, dt.date]] = []
    for day in sorted(set(days)):
        if out and out[-1][1] + dt.timedelta(days=1) == day:
            out[-1] = (out[-1][0], day)
        else:
            out.append((day, day))
    return out


def _instants(first: dt.date, last: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The local days first..last as [start, end) in the current time zone."""
    start = timezone.make_aware(dt.datetime.combine(first, dt.time.min))
    end = timezone.make_aware(dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min))
    return start, end


def _insert(measure: str, ranges: list[tuple[dt.datetime, dt.datetime]], by_region: bool) -> None:
    """INSERT … SELECT of the measure's aggregation over `ranges` (the ORM's SQL as a subquery)."""
    spec, _qs = _spec(measure)
    sql, params = aggregation(measure, ranges, by_region=by_region).query.sql_with_params()
    present = {"service_id": "svc", "day": "day"}
    if by_region:
        present["region_id"] = "reg"
    present.update({k: k for k in spec.keys})
    present.update({k: k for k in spec.counts})
    select = []
    for column in COLUMNS:
        if column == "measure":
            select.append("%s")
        elif column == "by_region":
            select.append("TRUE" if by_region else "FALSE")
        elif column in present:
            select.append(connection.ops.quote_name(present[column]))
        else:
            select.append(EMPTY.get(column, "0"))
    _execute(f"SELECT {', '.join(select)} FROM ({sql}) q", [measure, *params])  # noqa: S608


def _execute(select: str, params: list[Any]) -> None:
    table = connection.ops.quote_name(DailyFigure._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in COLUMNS)
    with connection.cursor() as cursor:
        # Names from the model and the ORM's own SQL; values are parameters.
        cursor.execute(f"INSERT INTO {table} ({columns}) {select}", params)  # noqa: S608


def _insert_totals(days: list[tuple[dt.date, dt.date]]) -> None:
    """The totals over all regions of the counting measures, summed from their rows per region
    (distinct persons are counted again instead: they do not sum over regions)."""
    q = connection.ops.quote_name
    table = q(DailyFigure._meta.db_table)
    keys = ", ".join(q(c) for c in TOTAL_KEYS)
    select = []
    for column in COLUMNS:
        if column == "region_id":
            select.append("NULL")
        elif column == "by_region":
            select.append("FALSE")
        elif column in TOTAL_SUMS:
            select.append(f"SUM({q(column)})")
        else:
            select.append(q(column))
    in_days = " OR ".join(f"({q('day')} >= %s AND {q('day')} <= %s)" for _ in days)
    params: list[Any] = [M.PERSONS, *REGION_ONLY]
    for first, last in days:
        params += [first, last]
    skip = ", ".join(["%s"] * (1 + len(REGION_ONLY)))
    _execute(
        f"SELECT {', '.join(select)} FROM {table} WHERE {q('by_region')} "  # noqa: S608
        f"AND {q('measure')} NOT IN ({skip}) AND ({in_days}) GROUP BY {keys}",
        params,
    )


def _write(days: list[tuple[dt.date, dt.date]]) -> None:
    """Recount the day ranges (inside the caller's transaction, time zone and lock)."""
    if not days:
        return
    stale = Q(pk__in=[])
    for first, last in days:
        stale |= Q(day__gte=first, day__lte=last)
    DailyFigure.objects.filter(stale).delete()
    ranges = [_instants(first, last) for first, last in days]
    for measure in M.values:
        _insert(measure, ranges, by_region=True)
    _insert_totals(days)
    _insert(M.PERSONS, ranges, by_region=False)


def _state() -> RollupState:
    state = RollupState.objects.order_by("pk").first()
    return state or RollupState.objects.create()


def refresh_days(days: Iterable[dt.date]) -> int:
    """Recount `days` now (and forget their dirty marks read before the recount)."""
    days = sorted(set(days))
    with timezone.override(settings.TIME_ZONE), transaction.atomic():
        rollup_refresh_lock()
        marks = list(RollupDirty.objects.filter(day__in=days).values_list("day", "marked_at"))
        _write(_day_ranges(days))
        for day, marked_at in marks:
            RollupDirty.objects.filter(day=day, marked_at=marked_at).delete()
    return len(days)


def rebuild(*, today: dt.date | None = None) -> int:
    """Recount every day up to yesterday: the roll-up anew. Returns the number of days."""
    with timezone.override(settings.TIME_ZONE), transaction.atomic():
        rollup_refresh_lock()
        today = today or timezone.localdate()
        yesterday = today - dt.timedelta(days=1)
        marks = list(RollupDirty.objects.filter(day__lte=yesterday).values_list("day", "marked_at"))
        first_times = [
            ServiceRequest.objects.aggregate(t=Min("created_at"))["t"],
            Slot.objects.filter(bookings__isnull=False).aggregate(t=Min("starts_at"))["t"],
        ]
        firsts = [timezone.localtime(t).date() for t in first_times if t is not None]
        DailyFigure.objects.all().delete()
        first = min(firsts, default=today)
        if first <= yesterday:
            _write([(first, yesterday)])
        for day, marked_at in marks:
            RollupDirty.objects.filter(day=day, marked_at=marked_at).delete()
        state = _state()
        state.covered_through = yesterday
        state.time_zone = settings.TIME_ZONE
        state.refreshed_at = timezone.now()
        state.save()
    return max((yesterday - first).days + 1, 0)


def refresh_due(*, today: dt.date | None = None) -> int:
    """The periodic refresh: the days marked dirty, the last `RECENT_DAYS` and the days since the
    last refresh, up to yesterday; everything when the roll-up was never built (or was built in
    another time zone). Returns the number of days recounted."""
    with timezone.override(settings.TIME_ZONE):
        today = today or timezone.localdate()
        state = RollupState.objects.order_by("pk").first()
        if state is None or state.covered_through is None or state.time_zone != settings.TIME_ZONE:
            return rebuild(today=today)
        yesterday = today - dt.timedelta(days=1)
        since = min(state.covered_through, yesterday - dt.timedelta(days=RECENT_DAYS - 1))
        days = {since + dt.timedelta(days=i) for i in range((yesterday - since).days + 1)}
        days |= set(RollupDirty.objects.filter(day__lte=yesterday).values_list("day", flat=True))
        done = refresh_days(days)
        RollupState.objects.filter(pk=state.pk).update(
            covered_through=yesterday, refreshed_at=timezone.now()
        )
        return done


# --- Dirty days ---------------------------------------------------------------------------------


def _local_day(instant: dt.datetime | None) -> dt.date | None:
    if instant is None:
        return None
    return timezone.localtime(instant, timezone.get_default_timezone()).date()


def mark_dirty(instants: Iterable[dt.datetime | None]) -> None:
    """Mark the local days of `instants` as changed since their roll-up (upsert: a later mark
    replaces `marked_at`, so a refresh running now keeps it)."""
    days = {d for d in (_local_day(t) for t in instants) if d is not None}
    if not days:
        return
    now = timezone.now()
    RollupDirty.objects.bulk_create(
        [RollupDirty(day=day, marked_at=now) for day in sorted(days)],
        update_conflicts=True,
        unique_fields=["day"],
        update_fields=["marked_at"],
    )


def _after_commit(instants: list[dt.datetime | None]) -> None:
    transaction.on_commit(lambda: mark_dirty(instants))


def on_request_change(instance: ServiceRequest, **_kw: Any) -> None:
    slots = Booking.objects.filter(request_id=instance.pk).values_list("slot__starts_at", flat=True)
    _after_commit([instance.created_at, *slots])


def on_booking_change(instance: Booking, **_kw: Any) -> None:
    registered = ServiceRequest.objects.filter(pk=instance.request_id).values_list(
        "created_at", flat=True
    )
    starts = Slot.objects.filter(pk=instance.slot_id).values_list("starts_at", flat=True)
    _after_commit([*registered, *starts])


def on_slot_change(instance: Slot, **_kw: Any) -> None:
    registered: list[dt.datetime | None] = []
    if instance.is_booked and instance.pk:
        registered = list(
            Booking.objects.filter(slot_id=instance.pk).values_list(
                "request__created_at", flat=True
            )
        )
    _after_commit([instance.starts_at, *registered])


def on_consultation_change(instance: Consultation, **_kw: Any) -> None:
    starts = Booking.objects.filter(pk=instance.booking_id).values_list(
        "slot__starts_at", flat=True
    )
    _after_commit(list(starts))


def on_protocol_change(instance: Protocol, **_kw: Any) -> None:
    starts = Consultation.objects.filter(pk=instance.consultation_id).values_list(
        "booking__slot__starts_at", flat=True
    )
    _after_commit(list(starts))


def connect_signals() -> None:
    from django.db.models.signals import post_delete, post_save

    for model, handler in (
        (ServiceRequest, on_request_change),
        (Booking, on_booking_change),
        (Slot, on_slot_change),
        (Consultation, on_consultation_change),
        (Protocol, on_protocol_change),
    ):
        uid = f"journals-rollup-{model._meta.label_lower}"
        post_save.connect(handler, sender=model, dispatch_uid=uid + "-save")
        post_delete.connect(handler, sender=model, dispatch_uid=uid + "-delete")


# --- The reader ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """Which days of a period come from the roll-up and which are counted live."""

    rolled: tuple[dt.date, dt.date] | None  # first and last day read from the roll-up
    dirty: tuple[dt.date, ...]  # ... except these
    live: tuple[tuple[dt.datetime, dt.datetime], ...]  # counted live: [start, end) instants


def plan(date_from: dt.date, date_to: dt.date) -> Plan:
    everything_live = Plan(None, (), (_instants(date_from, date_to),))
    state = RollupState.objects.order_by("pk").first()
    if (
        state is None
        or state.covered_through is None
        or state.time_zone != timezone.get_current_timezone_name()
    ):
        return everything_live
    last = min(date_to, state.covered_through)
    if last < date_from:
        return everything_live
    dirty = tuple(
        RollupDirty.objects.filter(day__gte=date_from, day__lte=last)
        .order_by("day")
        .values_list("day", flat=True)
    )
    live_days = set(dirty)
    live_days |= {last + dt.timedelta(days=i + 1) for i in range((date_to - last).days)}
    live = tuple(_instants(a, b) for a, b in _day_ranges(live_days))
    return Plan((date_from, last), dirty, live)


def _add(total: dict[str, Any], row: dict[str, Any], counts: Iterable[str]) -> None:
    for name in counts:
        value = row.get(name)
        if value is None:
            continue
        total[name] = value if total.get(name) is None else total[name] + value


def figure(
    measure: str,
    group: tuple[str, ...],
    *,
    date_from: dt.date,
    date_to: dt.date,
    services: QuerySet[Any],
    region_id: int | None = None,
) -> list[dict[str, Any]]:
    """The measure's counts per `group` (roll-up column names) over the period: the roll-up's
    rows of its settled days plus the live aggregation of the others. A few dozen rows."""
    spec, _qs = _spec(measure)
    counts = list(spec.counts)
    p = plan(date_from, date_to)
    by_region = bool(region_id) or "region_id" in group or measure in REGION_ONLY
    service_ids = list(services.values_list("pk", flat=True))
    out: dict[tuple[Any, ...], dict[str, Any]] = {}

    def add(row: dict[str, Any], names: tuple[str, ...]) -> None:
        key = tuple(row[n] for n in names)
        total = out.setdefault(key, {**dict(zip(group, key, strict=True)), **dict.fromkeys(counts)})
        _add(total, row, counts)

    if p.rolled is not None:
        rows = DailyFigure.objects.filter(
            measure=measure,
            service_id__in=service_ids,
            day__gte=p.rolled[0],
            day__lte=p.rolled[1],
            by_region=by_region,
        ).exclude(day__in=p.dirty)
        if region_id:
            rows = rows.filter(region_id=region_id)
        for row in rows.values(*group).annotate(**{c: Sum(c) for c in counts}).order_by():
            add(row, group)
    if p.live:
        # Distinct persons are counted per (service, day) of the rows selected, as the roll-up
        # keeps them (a region filter selects that region's rows).
        live_group = group
        if measure == M.PERSONS:
            live_group = tuple(dict.fromkeys((*group, "service_id", "day")))
        live_names = tuple(LIVE_NAME.get(g, g) for g in group)
        for row in aggregation(
            measure,
            list(p.live),
            group=live_group,
            # A list, not a subquery: the planner then walks the slots of the day by index.
            service_ids=service_ids,
            region_id=region_id,
            by_region=by_region,
        ):
            add(row, live_names)
    for total in out.values():
        for name in counts:
            if total[name] is None and name != "held_length":
                total[name] = 0
    return list(out.values())
