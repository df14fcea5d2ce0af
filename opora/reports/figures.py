"""The figures of the 1411 reports: database aggregations over the hand-off and the consultations.

Two measures (regulation 000 §21–23):
- *handed over* — requests handed to the University in the month: the items of the month's sent
  hand-off runs (`scheduling.HandoffItem`, each request once), counted as requests;
- *served* — **persons** who received help in the month: consultations ended in the month (local
  time of the service), counted as unique people: a registered client once, however many requests
  or consultations they had; a request without a client record (anonymous) as one person.

Every figure is one `GROUP BY` query (`values().annotate(Count(..., distinct=True))`); breakdowns are
by region, by consultant and by day. No personal data is read: regions, consultants' ids and dates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypedDict, cast

from django.db import connection, transaction
from django.db.models import Count, F, FilteredRelation, Q, QuerySet
from django.db.models.functions import TruncDate

from opora.consultations.models import Consultation
from opora.scheduling.calendar import make_aware_local, service_tz
from opora.scheduling.models import Booking, HandoffItem

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

HANDED_OVER = "handed_over"
SERVED = "served"
# How many of a discrepancy's unserved requests a report names (the count is always whole).
SAMPLE = 20


def month_bounds(service: Any, month: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of the local calendar month as aware datetimes."""
    first = month.replace(day=1)
    nxt = (first + dt.timedelta(days=32)).replace(day=1)
    return make_aware_local(service, first, dt.time.min), make_aware_local(
        service, nxt, dt.time.min
    )


def next_month(month: dt.date) -> dt.date:
    return (month.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


class HandoffColumns(TypedDict):
    """What `handed_over_qs` adds to each handed-over request."""

    region_id: int | None
    region_code: str | None
    region_name: str | None
    consultant_id: int | None
    day: dt.date
    person_client: int | None
    req_id: int


ALL_COLUMNS = frozenset(
    ("region_code", "region_name", "consultant_id", "day", "person_client", "req_id")
)


def handed_over_qs(
    service: Any, month: dt.date, columns: frozenset[str] = ALL_COLUMNS
) -> QuerySet[WithAnnotations[HandoffItem, HandoffColumns]]:
    """The month's handed-over requests with their region, consultant (of the active booking, if
    booked) and hand-off day as plain columns — only the `columns` asked for: the joins of the
    others stay out of the query (a month of 170k items: the booking join alone doubled the time
    of the totals and the day and region breakdowns; docs/PERFORMANCE.md)."""
    first = month.replace(day=1)
    qs = HandoffItem.objects.all()
    if "consultant_id" in columns:
        # A request has at most one active booking (`booking_one_active_per_request`), so a LEFT
        # JOIN on it gives one row per item. (A correlated subquery per item instead cost a probe
        # per request and made the planner JIT-compile the query: bench/bench_reports.py.)
        qs = qs.annotate(
            active_booking=FilteredRelation(
                "request__bookings", condition=Q(request__bookings__status=Booking.Status.ACTIVE)
            )
        )
    exprs = {
        "region_id": F("request__region_id"),
        "region_code": F("request__region__code"),
        "region_name": F("request__region__name_ru"),
        "consultant_id": F("active_booking__slot__consultant_id"),
        "day": F("run__date"),
        "person_client": F("request__client_id"),
        "req_id": F("request_id"),
    }
    return cast(
        "QuerySet[WithAnnotations[HandoffItem, HandoffColumns]]",
        qs.filter(
            run__service=service,
            run__sent_at__isnull=False,
            run__date__gte=first,
            run__date__lt=next_month(first),
        ).annotate(**{k: v for k, v in exprs.items() if k in columns}),
    )


def served_qs(
    service: Any, month: dt.date, columns: frozenset[str] = ALL_COLUMNS
) -> QuerySet[Consultation]:
    start, end = month_bounds(service, month)
    exprs = {
        "region_id": F("booking__request__region_id"),
        "region_code": F("booking__request__region__code"),
        "region_name": F("booking__request__region__name_ru"),
        "consultant_id": F("booking__slot__consultant_id"),
        "day": TruncDate("ended_at", tzinfo=service_tz(service)),
        "person_client": F("booking__request__client_id"),
        "req_id": F("booking__request_id"),
    }
    return Consultation.objects.filter(
        booking__request__service=service,
        status=Consultation.Status.ENDED,
        ended_at__gte=start,
        ended_at__lt=end,
    ).annotate(**{k: v for k, v in exprs.items() if k in columns})


def _measures() -> dict[str, Any]:
    # Unique persons: distinct clients, plus each request without a client as a person of its own.
    return {
        "requests": Count("req_id", distinct=True),
        "clients": Count("person_client", distinct=True),
        "anonymous": Count("req_id", distinct=True, filter=Q(person_client__isnull=True)),
    }


def _rows(qs: QuerySet, keys: list[str]) -> list[dict[str, Any]]:
    rows = []
    for row in qs.values(*keys).annotate(**_measures()).order_by(*keys):
        rows.append(
            {
                **{k: row[k] for k in keys},
                "requests": row["requests"],
                "persons": row["clients"] + row["anonymous"],
            }
        )
    return rows


def consultant_labels(ids: set[int], *, coded: bool) -> dict[int, str]:
    """Consultants by name for the two organisations; a code for the authority, which sees no
    person (the staff directory is not its business)."""
    if coded:
        return {pk: f"К-{pk}" for pk in ids}
    from opora.accounts.models import User

    # `User.display_name` from its columns alone (no model instances: a report reads 40 of them).
    names = User.objects.filter(pk__in=ids).values_list(
        "pk", "last_name", "first_name", "patronymic", "username"
    )
    return {
        pk: " ".join(p for p in (last, first, middle) if p) or username
        for pk, last, first, middle, username in names
    }


@contextmanager
def figures_session() -> Iterator[None]:
    """Read the figures in one transaction without PostgreSQL's JIT: a month's aggregation is
    estimated costly enough to be JIT-compiled, which took longer than the query itself
    (~0.25–0.7 s per query; docs/PERFORMANCE.md). `SET LOCAL` lasts to the end of the outermost
    transaction."""
    if connection.in_atomic_block:  # e.g. drafting a report: no savepoint needed
        _jit_off()
        yield
        return
    with transaction.atomic():
        _jit_off()
        yield


def _jit_off() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")


def measure_figures(service: Any, month: dt.date, measure: str, *, coded: bool) -> dict[str, Any]:
    """Totals and the three breakdowns of one measure, JSON-ready."""
    with figures_session():
        return _measure_figures(service, month, measure, coded=coded)


def _measure_figures(service: Any, month: dt.date, measure: str, *, coded: bool) -> dict[str, Any]:
    base = handed_over_qs if measure == HANDED_OVER else served_qs

    def qs(*keys: str) -> QuerySet:
        return base(service, month, frozenset(("person_client", "req_id", *keys)))

    total = qs().aggregate(**_measures())
    regions = _rows(qs("region_code", "region_name"), ["region_code", "region_name"])
    consultants = _rows(qs("consultant_id"), ["consultant_id"])
    days = _rows(qs("day"), ["day"])
    return format_measure(
        measure,
        {"requests": total["requests"], "persons": total["clients"] + total["anonymous"]},
        regions,
        consultants,
        days,
        coded=coded,
    )


def format_measure(
    measure: str,
    total: dict[str, int],
    regions: list[dict[str, Any]],
    consultants: list[dict[str, Any]],
    days: list[dict[str, Any]],
    *,
    coded: bool,
    labels: dict[int, str] | None = None,
) -> dict[str, Any]:
    """The figures of one measure, JSON-ready, from its rows (live or stored: `rollup`); the
    consultants' `labels` when the caller has them."""
    if labels is None:
        labels = consultant_labels(
            {r["consultant_id"] for r in consultants if r["consultant_id"]}, coded=coded
        )
    return {
        "measure": measure,
        "total": total,
        "by_region": [
            {
                "region": r["region_name"] or "—",
                "code": r["region_code"] or "",
                "requests": r["requests"],
                "persons": r["persons"],
            }
            for r in regions
        ],
        "by_consultant": [
            {
                "consultant": labels.get(r["consultant_id"], "—") if r["consultant_id"] else "—",
                "requests": r["requests"],
                "persons": r["persons"],
            }
            for r in consultants
        ],
        "by_day": [
            {"day": r["day"].isoformat(), "requests": r["requests"], "persons": r["persons"]}
            for r in days
        ],
    }


def discrepancies(service: Any, month: dt.date) -> list[dict[str, Any]]:
    """Per region and consultant: requests handed over in the month against persons served, with
    the handed-over requests behind the gap (those with no ended consultation yet) by number."""
    with figures_session():
        return _discrepancies(service, month)


def _discrepancies(service: Any, month: dt.date) -> list[dict[str, Any]]:
    handed = handed_over_qs(service, month)
    by_key: dict[tuple[Any, Any], dict[str, Any]] = {}

    def entry(key: tuple[Any, Any]) -> dict[str, Any]:
        return by_key.setdefault(
            key, {"handed_over": 0, "served": 0, "unserved": 0, "requests": []}
        )

    for row in _rows(handed, ["region_name", "consultant_id"]):
        entry((row["region_name"], row["consultant_id"]))["handed_over"] = row["requests"]
    for row in _rows(served_qs(service, month), ["region_name", "consultant_id"]):
        entry((row["region_name"], row["consultant_id"]))["served"] = row["persons"]
    unserved = handed.exclude(
        request__bookings__consultation__status=Consultation.Status.ENDED
    ).values_list("region_name", "consultant_id", "req_id", "request__status")
    for region, consultant, req_id, status in unserved.order_by("req_id"):
        row = entry((region, consultant))
        row["unserved"] += 1
        if len(row["requests"]) < SAMPLE:
            row["requests"].append({"number": req_id, "status": status})
    return format_discrepancies(by_key)


def format_discrepancies(
    by_key: dict[tuple[Any, Any], dict[str, Any]], labels: dict[int, str] | None = None
) -> list[dict[str, Any]]:
    """The rows where handed over and served differ or requests are unserved, by region's name
    and consultant: `unserved` counts the requests, `requests` names the first `SAMPLE` of them
    by number (the whole list: `unserved_requests`, page by page or streamed)."""
    if labels is None:
        labels = consultant_labels({k[1] for k in by_key if k[1]}, coded=False)
    out = []
    for (region, consultant), row in sorted(
        by_key.items(), key=lambda kv: (str(kv[0][0]), str(kv[0][1]))
    ):
        if row["handed_over"] == row["served"] and not row["unserved"]:
            continue
        out.append(
            {
                "region": region or "—",
                "consultant": labels.get(consultant, "—") if consultant else "—",
                **row,
            }
        )
    return out


def unserved_qs(service: Any, month: dt.date) -> QuerySet:
    """The month's handed-over requests with no ended consultation (yet): the requests behind the
    discrepancies, as they stand now, by number."""
    return (
        handed_over_qs(service, month)
        .exclude(request__bookings__consultation__status=Consultation.Status.ENDED)
        .values("req_id", "request__status", "region_name", "consultant_id")
        .order_by("req_id")
    )


def unserved_page(
    service: Any, month: dt.date, *, after: int = 0, limit: int = 100
) -> list[dict[str, Any]]:
    """One page of `unserved_qs` (keyset: the numbers after `after`), consultants by name."""
    with figures_session():
        rows = list(unserved_qs(service, month).filter(request_id__gt=after)[:limit])
    labels = consultant_labels(
        {r["consultant_id"] for r in rows if r["consultant_id"]}, coded=False
    )
    return [
        {
            "number": r["req_id"],
            "status": r["request__status"],
            "region": r["region_name"] or "—",
            "consultant": labels.get(r["consultant_id"], "—") if r["consultant_id"] else "—",
        }
        for r in rows
    ]
