"""The 1411 figures of each month, stored: written by the figures' own aggregation, read while clean.

A month's report (3.1–3.4) is the figures of two measures — handed over, served — with their
breakdowns by region, consultant and day, and the discrepancies per (region, consultant). Counting
them live reads every row of the month again for each breakdown (seconds at 2M requests:
docs/PERFORMANCE.md). Here they are counted once per month and service and kept in
`reports_monthfigure`, one row per measure and breakdown key:

- the writer (`recompute`) runs `figures.handed_over_qs` / `figures.served_qs` — the same
  querysets the live figures use — as the source of one `INSERT … SELECT … GROUP BY GROUPING SETS
  ((), (region), (consultant), (day), (region, consultant))` per measure on PostgreSQL (one pass
  over the month's rows; elsewhere one `GROUP BY` per set through the ORM), plus the first
  `figures.SAMPLE` numbers of each discrepancy's unserved requests. Persons are distinct counts of
  each row's own key, never summed from other rows (a person served on two days is one person of
  the month);
- `MonthFigureState` says when a month was computed (`computed_from`: before the aggregation read
  anything); every write that can change a month's figures marks the month in `MonthDirty` after
  its commit (signals connected in `ReportsConfig.ready`: requests, bookings, slots,
  consultations, hand-off runs and items). A month is **clean** while no mark is as late as its
  `computed_from`; the month in progress is never clean;
- the reader (`figures_of`) recomputes (and stores) a month that is not clean, then reads the
  stored rows: a few hundred rows, so the figures are always those of the live aggregation.

A bulk `update()` sends no signal: `opora rebuild_report_figures` (and the nightly task
`rebuild_report_figures`) recomputes every month; `refresh_report_figures` the marked ones.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
import zoneinfo
from collections.abc import Iterable
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Exists, F, Max, Min, OuterRef, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from opora.consultations.models import Consultation
from opora.core.models import Service
from opora.intake.models import ServiceRequest
from opora.reports import figures as f
from opora.reports.models import MonthDirty, MonthFigure, MonthFigureState
from opora.scheduling.calendar import local_now
from opora.scheduling.models import Booking, HandoffItem, HandoffRun, Slot

B = MonthFigure.Breakdown
# Each breakdown's keys (the roll-up's columns), as GROUPING SETS name them.
SETS: dict[int, tuple[str, ...]] = {
    B.TOTAL: (),
    B.REGION: ("region_id",),
    B.CONSULTANT: ("consultant_id",),
    B.DAY: ("day",),
    B.PAIR: ("region_id", "consultant_id"),
}
SOURCE = frozenset(("region_id", "consultant_id", "day", "person_client", "req_id"))
COLUMNS = (
    "service_id",
    "month",
    "measure",
    "breakdown",
    "region_id",
    "consultant_id",
    "day",
    "requests",
    "persons",
    "unserved",
    "sample",
)


def _ended() -> Exists:
    return Exists(
        Consultation.objects.filter(
            booking__request_id=OuterRef("request_id"), status=Consultation.Status.ENDED
        )
    )


def source(service: Any, month: dt.date, measure: str) -> QuerySet[Any]:
    """The month's rows of a measure with the roll-up's keys (and, handed over, whether the
    request is still unserved): the live figures' own querysets."""
    if measure == f.HANDED_OVER:
        qs = f.handed_over_qs(service, month, SOURCE).annotate(unserved=~_ended())
        return qs.values(*sorted(SOURCE), "unserved").order_by()
    # (No ORDER BY: the consultations' default ordering would sort the month's rows for nothing.)
    return f.served_qs(service, month, SOURCE).values(*sorted(SOURCE)).order_by()


def _grouping_select(source_sql: str, unserved: str, sets: str) -> str:
    return (
        "SELECT %s, %s, %s, GROUPING(region_id, consultant_id, day), region_id, "  # noqa: S608
        "consultant_id, day, count(DISTINCT req_id), count(DISTINCT person_client) "
        "+ count(DISTINCT req_id) FILTER (WHERE person_client IS NULL), "
        f"{unserved}, '[]'::jsonb FROM {source_sql} src GROUP BY GROUPING SETS ({sets})"
    )


def _insert_grouping_sets(service: Any, month: dt.date) -> str:
    """PostgreSQL: the month's handed-over rows joined once into a temporary table (read twice:
    the figures, the unserved numbers), then one statement with a `GROUPING SETS` pass over them
    and one over the served rows. Returns the temporary table's name."""
    q = connection.ops.quote_name
    sets = ", ".join("(" + ", ".join(keys) + ")" for keys in SETS.values())
    handed = f"reports_handed_{uuid.uuid4().hex[:12]}"
    handed_sql, handed_params = source(service, month, f.HANDED_OVER).query.sql_with_params()
    served_sql, served_params = source(service, month, f.SERVED).query.sql_with_params()
    with connection.cursor() as cursor:
        # Names from the model, a random hex and the ORM's own SQL; values are parameters.
        cursor.execute(
            f"CREATE TEMPORARY TABLE {handed} ON COMMIT DROP AS {handed_sql}", handed_params
        )
        cursor.execute(
            f"INSERT INTO {q(MonthFigure._meta.db_table)} ({', '.join(q(c) for c in COLUMNS)}) "
            + _grouping_select(handed, "count(*) FILTER (WHERE unserved)", sets)
            + " UNION ALL "
            + _grouping_select(f"({served_sql})", "0", sets),
            [service.pk, month, f.HANDED_OVER, service.pk, month, f.SERVED, *served_params],
        )
    return handed


def _insert_per_set(service: Any, month: dt.date, measure: str) -> None:
    """Any database: one `GROUP BY` per breakdown through the ORM."""
    rows = []
    for breakdown, keys in SETS.items():
        counts: dict[str, Any] = {
            "n_requests": Count("req_id", distinct=True),
            "n_clients": Count("person_client", distinct=True),
            "n_anonymous": Count("req_id", distinct=True, filter=Q(person_client__isnull=True)),
        }
        if measure == f.HANDED_OVER:
            counts["n_unserved"] = Count("req_id", filter=Q(unserved=True))
        qs = source(service, month, measure)
        grouped = (
            qs.values(*keys).annotate(**counts).order_by() if keys else [qs.aggregate(**counts)]
        )
        for row in grouped:
            rows.append(
                MonthFigure(
                    service_id=service.pk,
                    month=month,
                    measure=measure,
                    breakdown=breakdown,
                    region_id=row.get("region_id"),
                    consultant_id=row.get("consultant_id"),
                    day=row.get("day"),
                    requests=row["n_requests"] or 0,
                    persons=(row["n_clients"] or 0) + (row["n_anonymous"] or 0),
                    unserved=row.get("n_unserved") or 0,
                )
            )
    MonthFigure.objects.bulk_create(rows, batch_size=500)


def _ranked_unserved(service: Any, month: dt.date) -> QuerySet[Any]:
    """The first `SAMPLE` unserved requests of each (region, consultant), by number."""
    return (
        f.handed_over_qs(service, month, frozenset(("region_id", "consultant_id", "req_id")))
        .filter(~_ended())
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("region_id"), F("consultant_id")],
                order_by=F("req_id").asc(),
            )
        )
        .filter(rank__lte=f.SAMPLE)
        .values_list("region_id", "consultant_id", "req_id")
    )


def _write_samples(service: Any, month: dt.date, *, handed: str | None) -> None:
    """Each discrepancy's first unserved numbers into its (region, consultant) row: one
    `UPDATE … FROM` the temporary table of the handed-over rows on PostgreSQL, through Python
    elsewhere."""
    if handed is not None:
        q = connection.ops.quote_name
        stmt = (
            f"UPDATE {q(MonthFigure._meta.db_table)} m SET sample = s.sample FROM ("  # noqa: S608 - names from the model and a random hex; values are parameters
            "SELECT region_id, consultant_id, "
            "to_jsonb((array_agg(req_id ORDER BY req_id))[1:%s]) AS sample "
            f"FROM {handed} WHERE unserved GROUP BY region_id, consultant_id) s "
            "WHERE m.service_id = %s AND m.month = %s AND m.measure = %s AND m.breakdown = %s "
            "AND m.region_id IS NOT DISTINCT FROM s.region_id "
            "AND m.consultant_id IS NOT DISTINCT FROM s.consultant_id"
        )
        with connection.cursor() as cursor:
            cursor.execute(stmt, [f.SAMPLE, service.pk, month, f.HANDED_OVER, B.PAIR])
        return
    ranked = _ranked_unserved(service, month)
    samples: dict[tuple[Any, Any], list[int]] = {}
    for region, consultant, req in ranked:
        samples.setdefault((region, consultant), []).append(req)
    if not samples:
        return
    pairs = list(
        MonthFigure.objects.filter(
            service=service, month=month, measure=f.HANDED_OVER, breakdown=B.PAIR, unserved__gt=0
        )
    )
    for row in pairs:
        row.sample = sorted(samples.get((row.region_id, row.consultant_id), []))
    MonthFigure.objects.bulk_update(pairs, ["sample"], batch_size=500)


def month_over(service: Any, month: dt.date, now: dt.datetime | None = None) -> bool:
    """The month has ended in the service's time zone (its figures can be kept)."""
    return month.replace(day=1) < local_now(service, now).date().replace(day=1)


def recompute(service: Any, month: dt.date, *, grouping_sets: bool | None = None) -> float:
    """Count the month's figures anew and store them (and, for a month that has ended, that they
    are clean as of now). Returns the seconds taken."""
    with f.figures_session():
        return _recompute(service, month, grouping_sets=grouping_sets)


def recount(service: Any, month: dt.date) -> float:
    """`recompute` inside the caller's `figures.figures_session` (a transaction, JIT off)."""
    return _recompute(service, month)


def _recompute(service: Any, month: dt.date, *, grouping_sets: bool | None = None) -> float:
    """`recompute` inside the caller's `figures_session` (a transaction, JIT off)."""
    from opora.reports.locks import month_figures_lock

    month = month.replace(day=1)
    if grouping_sets is None:
        grouping_sets = connection.vendor == "postgresql"
    t0 = time.perf_counter()
    with transaction.atomic(savepoint=False):
        month_figures_lock(service.pk, month)
        computed_from = timezone.now()
        MonthFigure.objects.filter(service=service, month=month).delete()
        handed = None
        if grouping_sets:
            handed = _insert_grouping_sets(service, month)
        else:
            for measure in (f.HANDED_OVER, f.SERVED):
                _insert_per_set(service, month, measure)
        _write_samples(service, month, handed=handed)
        seconds = time.perf_counter() - t0
        if month_over(service, month, computed_from):
            MonthFigureState.objects.bulk_create(
                [
                    MonthFigureState(
                        service_id=service.pk,
                        month=month,
                        computed_from=computed_from,
                        computed_at=timezone.now(),
                        seconds=seconds,
                    )
                ],
                update_conflicts=True,
                unique_fields=["service", "month"],
                update_fields=["computed_from", "computed_at", "seconds"],
            )
        else:
            MonthFigureState.objects.filter(service=service, month=month).delete()
    return seconds


def is_clean(service: Any, month: dt.date) -> bool:
    month = month.replace(day=1)
    stale = MonthDirty.objects.filter(
        month=OuterRef("month"), marked_at__gte=OuterRef("computed_from")
    )
    flags = list(
        MonthFigureState.objects.filter(service=service, month=month)
        .annotate(stale=Exists(stale))
        .values_list("stale", flat=True)
    )
    return bool(flags) and not flags[0] and month_over(service, month)


def ensure(service: Any, month: dt.date) -> bool:
    """Recompute the month unless it is clean; True when it was recomputed. Inside
    `figures.figures_session`."""
    if is_clean(service, month):
        return False
    _recompute(service, month)
    return True


# --- The reader ---------------------------------------------------------------------------------


def stored(service: Any, month: dt.date, *, pairs: bool = True) -> list[dict[str, Any]]:
    """Every stored row of the month (both measures, every breakdown: a few hundred rows; without
    the (region, consultant) rows of the discrepancies unless `pairs`), in the order the live
    GROUP BYs give them (the database's collation, NULLs last)."""
    qs = MonthFigure.objects.filter(service=service, month=month.replace(day=1))
    if not pairs:
        qs = qs.exclude(breakdown=B.PAIR)
    rows = qs.values(
        "measure",
        "breakdown",
        "consultant_id",
        "day",
        "requests",
        "persons",
        "unserved",
        "sample",
        region_code=F("region__code"),
        region_name=F("region__name_ru"),
    ).order_by("measure", "breakdown", "region_code", "region_name", "consultant_id", "day")
    return [dict(row) for row in rows]


def labels_of(rows: list[dict[str, Any]], *, coded: bool) -> dict[int, str]:
    """The consultants of the `stored` rows by name (a code for the authority): one query."""
    ids = {r["consultant_id"] for r in rows if r["consultant_id"]}
    return f.consultant_labels(ids, coded=coded)


def measure_figures(
    rows: list[dict[str, Any]],
    measure: str,
    *,
    coded: bool,
    labels: dict[int, str] | None = None,
) -> dict[str, Any]:
    """`figures.measure_figures` from the `stored` rows (made current by `ensure`)."""
    by: dict[int, list[dict[str, Any]]] = {b: [] for b in SETS}
    for row in rows:
        if row["measure"] == measure:
            by[row["breakdown"]].append(row)
    total = by[B.TOTAL][0] if by[B.TOTAL] else {"requests": 0, "persons": 0}
    return f.format_measure(
        measure,
        {"requests": total["requests"], "persons": total["persons"]},
        by[B.REGION],
        by[B.CONSULTANT],
        by[B.DAY],
        coded=coded,
        labels=labels,
    )


def discrepancies(
    rows: list[dict[str, Any]], labels: dict[int, str] | None = None
) -> list[dict[str, Any]]:
    """`figures.discrepancies` from the `stored` (region, consultant) rows of both measures."""
    by_key: dict[tuple[Any, Any], dict[str, Any]] = {}
    numbers: list[int] = []
    for row in rows:
        if row["breakdown"] != B.PAIR:
            continue
        entry = by_key.setdefault(
            (row["region_name"], row["consultant_id"]),
            {"handed_over": 0, "served": 0, "unserved": 0, "requests": []},
        )
        if row["measure"] == f.HANDED_OVER:
            entry["handed_over"] += row["requests"]
            entry["unserved"] += row["unserved"]
            entry["requests"] = sorted([*entry["requests"], *row["sample"]])[: f.SAMPLE]
            numbers += row["sample"]
        else:
            entry["served"] += row["persons"]
    status = dict(ServiceRequest.objects.filter(pk__in=numbers).values_list("pk", "status"))
    for entry in by_key.values():
        entry["requests"] = [{"number": n, "status": status.get(n, "")} for n in entry["requests"]]
    return f.format_discrepancies(by_key, labels)


# --- Periodic work ------------------------------------------------------------------------------


def stale_months() -> list[tuple[Service, dt.date]]:
    """The (service, month) figures stored and marked since: what the periodic refresh redoes."""
    stale = MonthDirty.objects.filter(
        month=OuterRef("month"), marked_at__gte=OuterRef("computed_from")
    )
    return [
        (state.service, state.month)
        for state in MonthFigureState.objects.filter(Exists(stale)).select_related("service")
    ]


def refresh_due() -> int:
    """The stored months marked since their computation, recomputed. Returns how many."""
    done = 0
    for service, month in stale_months():
        recompute(service, month)
        done += 1
    return done


def months_with_data(service: Service) -> list[dt.date]:
    """The months that have ended and hold a hand-off run or an ended consultation."""
    runs = HandoffRun.objects.filter(service=service).aggregate(a=Min("date"), b=Max("date"))
    ends = Consultation.objects.filter(
        booking__request__service=service, status=Consultation.Status.ENDED
    ).aggregate(a=Min("ended_at"), b=Max("ended_at"))
    tz = zoneinfo.ZoneInfo(service.time_zone)
    firsts = [runs["a"], ends["a"] and ends["a"].astimezone(tz).date()]
    lasts = [runs["b"], ends["b"] and ends["b"].astimezone(tz).date()]
    first = min((d for d in firsts if d), default=None)
    last = max((d for d in lasts if d), default=None)
    if first is None or last is None:
        return []
    out = []
    month = first.replace(day=1)
    while month <= last and month_over(service, month):
        out.append(month)
        month = f.next_month(month)
    return out


def rebuild(
    *, service: Service | None = None, month: dt.date | None = None
) -> list[tuple[str, str, float]]:
    """Every month with data (or the one given) of every active service (or the one given),
    recomputed. Returns (service code, month, seconds) of each."""
    services = [service] if service else list(Service.objects.filter(is_active=True))
    done = []
    for s in services:
        for m in [month.replace(day=1)] if month else months_with_data(s):
            done.append((s.code, f"{m:%Y-%m}", recompute(s, m)))
    return done


# --- Dirty months -------------------------------------------------------------------------------


def mark_months(months: Iterable[dt.date | None]) -> None:
    """Mark months changed (upsert: a later mark replaces `marked_at`)."""
    firsts = sorted({m.replace(day=1) for m in months if m is not None})
    if not firsts:
        return
    now = timezone.now()
    MonthDirty.objects.bulk_create(
        [MonthDirty(month=m, marked_at=now) for m in firsts],
        update_conflicts=True,
        unique_fields=["month"],
        update_fields=["marked_at"],
    )


def _local_month(instant: dt.datetime | None, tz: str) -> dt.date | None:
    if instant is None:
        return None
    return instant.astimezone(zoneinfo.ZoneInfo(tz)).date().replace(day=1)


def months_of_requests(ids: Iterable[int | None]) -> set[dt.date]:
    """The months whose figures a request counts in: of its hand-off and of its ended (or once
    ended) consultations, in its service's time zone."""
    ids = [i for i in ids if i]
    if not ids:
        return set()
    months: set[dt.date] = set(
        HandoffItem.objects.filter(request_id__in=ids).values_list("run__date", flat=True)
    )
    for ended, tz in Consultation.objects.filter(
        booking__request_id__in=ids, ended_at__isnull=False
    ).values_list("ended_at", "booking__request__service__time_zone"):
        months.add(_local_month(ended, tz) or dt.date.min)
    return months


def _later(months: Any) -> None:
    """Mark the months `months()` names after the commit (the queries run then, not inside the
    writer's transaction)."""
    transaction.on_commit(lambda: mark_months(months()))


def on_request_change(instance: ServiceRequest, **_kw: Any) -> None:
    pk = instance.pk
    _later(lambda: months_of_requests([pk]))


def on_request_delete(instance: ServiceRequest, **_kw: Any) -> None:
    # Before the delete: its hand-off items and consultations go with it.
    months = months_of_requests([instance.pk])
    _later(lambda: months)


def on_booking_change(instance: Booking, **_kw: Any) -> None:
    request_id = instance.request_id
    _later(lambda: months_of_requests([request_id]))


def on_slot_change(instance: Slot, **_kw: Any) -> None:
    if not (instance.pk and instance.is_booked):
        return
    pk = instance.pk
    _later(
        lambda: months_of_requests(
            Booking.objects.filter(slot_id=pk).values_list("request_id", flat=True)
        )
    )


def remember_ended_at(instance: Consultation, **_kw: Any) -> None:
    instance._reports_loaded_ended_at = instance.ended_at  # type: ignore[attr-defined]


def on_consultation_change(instance: Consultation, **_kw: Any) -> None:
    """Its request's months, and the months it ended in before and after this write (a changed
    end moves it from one month's served to another's)."""
    was, ended, booking_id = (
        getattr(instance, "_reports_loaded_ended_at", None),
        instance.ended_at,
        instance.booking_id,
    )
    instance._reports_loaded_ended_at = ended  # type: ignore[attr-defined]

    def months() -> list[dt.date | None]:
        booked = list(
            Booking.objects.filter(pk=booking_id).values_list(
                "request_id", "request__service__time_zone"
            )
        )
        tz = booked[0][1] if booked else "UTC"
        requests = months_of_requests([r for r, _tz in booked])
        return [_local_month(was, tz), _local_month(ended, tz), *requests]

    _later(months)


def on_handoff_run_change(instance: HandoffRun, **_kw: Any) -> None:
    day = instance.date
    _later(lambda: [day])


def on_handoff_item_change(instance: HandoffItem, **_kw: Any) -> None:
    run_id = instance.run_id
    _later(lambda: HandoffRun.objects.filter(pk=run_id).values_list("date", flat=True))


def connect_signals() -> None:
    from django.db.models.signals import post_delete, post_init, post_save, pre_delete

    def both(model: Any, handler: Any) -> None:
        uid = f"reports-rollup-{model._meta.label_lower}"
        post_save.connect(handler, sender=model, dispatch_uid=uid + "-save")
        post_delete.connect(handler, sender=model, dispatch_uid=uid + "-delete")

    post_save.connect(
        on_request_change, sender=ServiceRequest, dispatch_uid="reports-rollup-request-save"
    )
    pre_delete.connect(
        on_request_delete, sender=ServiceRequest, dispatch_uid="reports-rollup-request-delete"
    )
    both(Booking, on_booking_change)
    both(Slot, on_slot_change)
    both(Consultation, on_consultation_change)
    both(HandoffRun, on_handoff_run_change)
    both(HandoffItem, on_handoff_item_change)
    post_init.connect(
        remember_ended_at, sender=Consultation, dispatch_uid="reports-rollup-consultation-init"
    )
