"""The dashboards' figures: database aggregations (`values().annotate()`), never a Python loop
over requests.

Every selector takes a `DashboardFilter` (period, services the actor may see, service,
organisation, region) and returns a list of small dicts — one per group — that a chart draws and
the table behind it lists. Who sees which services is decided once, in `visible_services`: the
authority only the services it supervises (`Service.authority` is its organisation), a head or a
coordinator the services they work for, an administrator every one.

What names a person (a request's code in the list behind an SLA miss, a consultant's name) is
returned only when `DashboardFilter.persons` is true; the authority's filter has it false, so its
figures are counts only (the access policy's test renders and exports them and looks for names).

The SLA figures of higher apps (written answers live in `mail`, the questionnaires in `quality`)
come from there: `mail` registers its figure here (`register_sla`), `web` asks `quality`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import (
    Count,
    DateField,
    DateTimeField,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from opora.accounts.actors import Subject
from opora.accounts.models import User
from opora.accounts.policy import ADMIN, AUTHORITY, role_of
from opora.consultations.models import Consultation
from opora.core.models import Region, Service
from opora.intake.models import ServiceRequest
from opora.scheduling.models import Booking, Schedule

# How many rows of a miss list a page shows (the count is always the full one).
MISS_LIST_LIMIT = 100
# Requests refused or sent elsewhere are not services owed within 10 days.
NOT_OWED = (ServiceRequest.Status.REFUSED, ServiceRequest.Status.REDIRECTED)


@dataclass(frozen=True)
class DashboardFilter:
    """The period (local dates, both included) and the slice of services a figure covers."""

    date_from: dt.date
    date_to: dt.date
    service_ids: tuple[int, ...]
    organisation_id: int | None = None
    region_id: int | None = None
    persons: bool = False  # may the figures name a person (a request code, a consultant)?

    @property
    def start(self) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(self.date_from, dt.time.min))

    @property
    def end(self) -> dt.datetime:
        """The first instant after the period."""
        day = self.date_to + dt.timedelta(days=1)
        return timezone.make_aware(dt.datetime.combine(day, dt.time.min))

    def services(self) -> QuerySet[Service]:
        qs = Service.objects.filter(pk__in=self.service_ids)
        if self.organisation_id:
            qs = qs.filter(
                Q(intake_organisation_id=self.organisation_id)
                | Q(provider_organisation_id=self.organisation_id)
                | Q(authority_id=self.organisation_id)
            )
        return qs


def visible_services(actor: Subject) -> QuerySet[Service]:
    """The services whose figures `actor` may see."""
    role = role_of(actor)
    if role == ADMIN:
        return Service.objects.all()
    if role == AUTHORITY:
        organisation_id = getattr(actor, "organisation_id", None)
        if organisation_id is None:
            return Service.objects.none()
        return Service.objects.filter(authority_id=organisation_id)
    if role is None or not isinstance(actor, User):
        return Service.objects.none()
    return actor.services.all()


def shows_persons(actor: Subject) -> bool:
    """The authority sees aggregates only; the services' own staff see the lists behind them."""
    return role_of(actor) not in (AUTHORITY, None)


@contextmanager
def dashboard_session() -> Iterator[None]:
    """Run the figures of one page in one read transaction without PostgreSQL's JIT.

    The per-request subqueries (first booking) make the planner's cost estimate high enough to
    JIT-compile the query, which costs ~0.7 s per query and saves nothing on a month's rows
    (measured: bench/bench_dashboards.py, docs/PERFORMANCE.md)."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
        yield


# --- The bases: what a period, a service, an organisation and a region select ------------------


def _requests(f: DashboardFilter) -> QuerySet[ServiceRequest]:
    qs = ServiceRequest.objects.filter(
        service__in=f.services(), created_at__gte=f.start, created_at__lt=f.end
    )
    if f.region_id:
        qs = qs.filter(region_id=f.region_id)
    return qs


def _consultations(f: DashboardFilter) -> QuerySet[Consultation]:
    qs = Consultation.objects.filter(
        booking__slot__service__in=f.services(),
        booking__slot__starts_at__gte=f.start,
        booking__slot__starts_at__lt=f.end,
    )
    if f.region_id:
        qs = qs.filter(booking__request__region_id=f.region_id)
    return qs


def _persons() -> Any:
    # A named client is one person however many requests; an anonymous request is one person.
    return Count("client_id", distinct=True) + Count("id", filter=Q(client__isnull=True))


class DaysBetween(Func):
    """Calendar days from the second date to the first (PostgreSQL's date - date; SQLite's
    julianday difference), so the figures run on the embedded default too."""

    template = "(%(expressions)s)"
    arg_joiner = " - "
    output_field = IntegerField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            template="CAST(ROUND(julianday(%(expressions)s)) AS INTEGER)",
            arg_joiner=") - julianday(",
            **extra,
        )


class DueEnd(Func):
    """The first instant after a schedule's due day: its month, less a month, plus the due day
    (in days) of the service."""

    template = "(%(expressions)s * INTERVAL '1 day')"
    arg_joiner = " - INTERVAL '1 month' + "
    output_field = DateTimeField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            template="datetime(%(expressions)s || ' days')",
            arg_joiner=", '-1 month', '+' || ",
            **extra,
        )


def _days_between(later: Any, earlier: Any) -> Func:
    """Calendar days from `earlier` to `later` (local dates)."""
    return DaysBetween(TruncDate(later), TruncDate(earlier))


# --- The figures ----------------------------------------------------------------------------------


def _rolled(f: DashboardFilter, measure: str, *group: str) -> list[dict[str, Any]]:
    """`measure` per `group` over the filter's period: the daily roll-up for the settled days, a
    live aggregation for today and the days changed since (`opora.journals.rollups`)."""
    from opora.journals import rollups

    return rollups.figure(
        measure,
        group,
        date_from=f.date_from,
        date_to=f.date_to,
        services=f.services(),
        region_id=f.region_id,
    )


def requests_per_day(f: DashboardFilter) -> list[dict[str, Any]]:
    """Per local day: requests registered and the persons who made them — a person counted once
    per day and service (distinct persons do not sum across days or services; the roll-up keeps
    them per service and day, and the live count is defined the same)."""
    persons = {r["day"]: r["n"] for r in _rolled(f, "persons", "day")}
    rows = [
        {"day": r["day"], "requests": r["n"], "persons": persons.get(r["day"], 0)}
        for r in _rolled(f, "channel", "day")
    ]
    return sorted(rows, key=lambda r: r["day"])


def requests_per_channel(f: DashboardFilter) -> list[dict[str, Any]]:
    """Per channel: requests."""
    rows = [{"channel": r["key"], "requests": r["n"]} for r in _rolled(f, "channel", "key")]
    return sorted(rows, key=lambda r: (-r["requests"], r["channel"]))


def requests_per_channel_per_day(f: DashboardFilter) -> list[dict[str, Any]]:
    """Per local day and channel: requests (the stacked bars)."""
    rows = [
        {"day": r["day"], "channel": r["key"], "requests": r["n"]}
        for r in _rolled(f, "channel", "day", "key")
    ]
    return sorted(rows, key=lambda r: (r["day"], r["channel"]))


def services_by_kind_and_form(f: DashboardFilter) -> list[dict[str, Any]]:
    """Services given (requests done) by kind (content / dispatcher) and form. A request counted
    with another (both parents on one question) is not a service of its own (regulation 004)."""
    rows = [
        {"kind": r["key"], "preferred_form": r["key2"], "services": r["n"]}
        for r in _rolled(f, "kind_form", "key", "key2")
    ]
    return sorted(rows, key=lambda r: (r["kind"], -r["services"], r["preferred_form"]))


def topics(f: DashboardFilter) -> list[dict[str, Any]]:
    """Protocols by topic (regulation 002's classification), by the consultation's date."""
    rows = [{"topic": r["key"], "protocols": r["n"]} for r in _rolled(f, "topic", "key")]
    return sorted(rows, key=lambda r: r["topic"])


def regions(f: DashboardFilter) -> list[dict[str, Any]]:
    """Per region of the request: requests (no region: `region_id` None)."""
    counts = {r["region_id"]: r["n"] for r in _rolled(f, "region", "region_id")}
    names = {
        r["pk"]: r
        for r in Region.objects.filter(pk__in=[k for k in counts if k is not None]).values(
            "pk", "code", "name_ru", "name_kk", "name_en"
        )
    }
    rows = []
    for region_id, n in counts.items():
        region: Mapping[str, Any] = names.get(region_id) or {}
        rows.append(
            {
                "region_id": region_id,
                "region__code": region.get("code"),
                "region__name_ru": region.get("name_ru"),
                "region__name_kk": region.get("name_kk"),
                "region__name_en": region.get("name_en"),
                "requests": n,
            }
        )
    return sorted(rows, key=lambda r: (-r["requests"], r["region__code"] or ""))


def consultant_load(f: DashboardFilter) -> list[dict[str, Any]]:
    """Per consultant: consultations booked in the period, held, no-shows and the mean length of
    the held ones (minutes). Names only where the filter may show persons."""
    data = sorted(_rolled(f, "consultant", "ref"), key=lambda r: (-r["n"], r["ref"]))
    names = {
        u["pk"]: u
        for u in User.objects.filter(pk__in=[r["ref"] for r in data]).values(
            "pk", "last_name", "first_name"
        )
    }
    rows = []
    for number, r in enumerate(data, start=1):
        consultant_id = r["ref"]
        user: Mapping[str, Any] = names.get(consultant_id) or {}
        last, first = user.get("last_name", ""), user.get("first_name", "")
        length = r["held_length"]
        rows.append(
            {
                "consultations": r["n"],
                "held": r["held"],
                "no_shows": r["no_shows"],
                # The authority gets a number in place of the name: a consultant is a person too.
                "consultant": (
                    f"{last} {first}".strip() or f"#{consultant_id}"
                    if f.persons
                    else str(_("Consultant %(n)s")) % {"n": number}
                ),
                "mean_minutes": (
                    None
                    if length is None or not r["timed"]
                    else round(length.total_seconds() / r["timed"] / 60, 1)
                ),
            }
        )
    return rows


def _first_booking() -> QuerySet[Booking]:
    return Booking.objects.filter(request=OuterRef("pk")).order_by("created_at", "pk")


def _with_first_booking(qs: QuerySet[ServiceRequest]) -> QuerySet[ServiceRequest, Any]:
    return qs.annotate(
        first_booked_at=Subquery(_first_booking().values("created_at")[:1]),
        first_slot_at=Subquery(_first_booking().values("slot__starts_at")[:1]),
    )


def _first_booking_days(field: str) -> Subquery:
    """Calendar days from the request's registration to `field` of its first booking (its
    `created_at`, or `slot__starts_at`); NULL when it was never booked. One subquery per
    request: the figures group by it rather than test it twice."""
    registered = ExpressionWrapper(OuterRef("created_at"), output_field=DateTimeField())
    days = _days_between(field, registered)
    return Subquery(
        _first_booking().annotate(days=days).values("days")[:1], output_field=IntegerField()
    )


def booking_lead_time(f: DashboardFilter) -> list[dict[str, Any]]:
    """Requests by calendar days from registration to their first booking (`lead_days`)."""
    rows = [{"lead_days": r["days"], "requests": r["n"]} for r in _rolled(f, "lead", "days")]
    return sorted(rows, key=lambda r: r["lead_days"])


def late_bookings(
    f: DashboardFilter | None = None, *, base: QuerySet[ServiceRequest] | None = None
) -> QuerySet[ServiceRequest, Any]:
    """Requests whose first booking was made later than the service's `service_within_days`
    (10 calendar days by default) after registration: of the filter, or of `base`."""
    if base is None:
        base = _requests(f) if f is not None else ServiceRequest.objects.all()
    annotated: Any = _with_first_booking(base)  # the stubs do not see the annotation's name
    return (
        annotated.filter(first_booked_at__isnull=False)
        .annotate(lead_days=_days_between("first_booked_at", "created_at"))
        .filter(lead_days__gt=F("service__service_within_days"))
    )


# --- SLAs -----------------------------------------------------------------------------------------


@dataclass
class Sla:
    """One service-level target: how many were due, how many met it, and the misses."""

    key: str
    name: str
    target: str
    due: int = 0
    met: int = 0
    misses: list[dict[str, Any]] = field(default_factory=list)
    measured: bool = True
    note: str = ""

    @property
    def missed(self) -> int:
        return self.due - self.met

    @property
    def actual(self) -> float | None:
        return None if not self.due else round(100 * self.met / self.due, 1)


def miss_rows(qs: QuerySet, f: DashboardFilter, *fields: str) -> list[dict[str, Any]]:
    if not f.persons:
        return []
    return list(qs.values(*fields)[:MISS_LIST_LIMIT])


def sla_service_within_days(f: DashboardFilter, *, today: dt.date | None = None) -> Sla:
    """Service within 10 calendar days of the request: a request (not refused or redirected) is
    due once its tenth day has begun or it is booked; it meets the target when its first booked
    time falls on or before that day.

    The counts: requests per (service, day, days to the first booked time) from the roll-up (a
    few hundred rows), summed here; the list behind the misses is a live query with a LIMIT."""
    today = today or timezone.localdate()
    within = F("service__service_within_days")
    age = DaysBetween(Value(today, output_field=DateField()), TruncDate("created_at"))
    base = _requests(f).exclude(status__in=NOT_OWED)
    limits = dict(f.services().values_list("pk", "service_within_days"))
    due = met = 0
    for g in _rolled(f, "service_days", "service_id", "day", "days"):
        limit = limits.get(g["service_id"], 10)
        if g["days"] is None:
            due += g["n"] if (today - g["day"]).days >= limit else 0
        else:
            due += g["n"]
            met += g["n"] if g["days"] <= limit else 0
    misses: list[dict[str, Any]] = []
    if f.persons and due > met:
        late = (
            _with_first_booking(base)
            .alias(age_days=age, slot_days=_days_between("first_slot_at", "created_at"))
            .filter(
                Q(first_slot_at__isnull=True, age_days__gte=within)
                | Q(first_slot_at__isnull=False, slot_days__gt=within)
            )
            .order_by("created_at")
        )
        misses = miss_rows(late, f, "pk", "public_code", "created_at", "first_slot_at")
    return Sla(
        key="service_days",
        name=str(_("Service within 10 calendar days of the request")),
        target=str(_("All within the service's limit (10 calendar days)")),
        due=due,
        met=met,
        misses=misses,
    )


def sla_schedules(f: DashboardFilter, *, now: dt.datetime | None = None) -> Sla:
    """Schedules for a month submitted by the service's due day (the 25th) of the month before.
    A schedule not yet submitted whose due day has passed is a miss."""
    now = now or timezone.now()
    qs = Schedule.objects.filter(
        service__in=f.services(),
        month__gte=f.date_from.replace(day=1),
        month__lte=f.date_to,
    ).annotate(
        # The first instant after the due day: the month before, plus `schedule_due_day` days.
        due_end=DueEnd(F("month"), F("service__schedule_due_day"))
    )
    late = Q(submitted_at__gte=F("due_end"))
    overdue = Q(submitted_at__isnull=True, due_end__lte=now)
    qs = qs.filter(Q(submitted_at__isnull=False) | overdue)
    counts = qs.aggregate(due=Count("id"), met=Count("id", filter=~(late | overdue)))
    misses = qs.filter(late | overdue).order_by("month", "consultant__last_name")
    rows = miss_rows(
        misses, f, "pk", "month", "submitted_at", "consultant__last_name", "consultant__first_name"
    )
    return Sla(
        key="schedules",
        name=str(_("Schedules by the 25th for the next month")),
        target=str(_("All submitted by the due day")),
        due=counts["due"],
        met=counts["met"],
        misses=rows,
    )


# Figures of higher apps (mail's written answers): each a function of a filter returning an Sla.
SlaProvider = Callable[[DashboardFilter], Sla]
_PROVIDERS: dict[str, SlaProvider] = {}


def register_sla(key: str, provider: SlaProvider) -> None:
    """A higher app adds its SLA figure (called from its AppConfig.ready)."""
    _PROVIDERS[key] = provider


def registered_slas(f: DashboardFilter) -> list[Sla]:
    return [provider(f) for _key, provider in sorted(_PROVIDERS.items())]
