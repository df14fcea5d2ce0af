"""Reads of the scheduling domain: free slots, a consultant's day, schedules and bookings."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypedDict

from django.db.models import (
    BooleanField,
    Count,
    Exists,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from opora.accounts.models import Role, User
from opora.accounts.specialties import LanguageCode, TopicClass
from opora.core.errors import NotFound
from opora.scheduling.calendar import ServiceCalendar, local_day_bounds, to_local
from opora.scheduling.models import Booking, Place, Schedule, Slot

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

# Candidates fetched per round trip while looking for the nearest free slot. Almost always the
# first row is the answer; the batch only matters when a day has become a day off.
_BATCH = 32


def _free_slots(service: Any, consultant: Any = None, specialty: str = "") -> QuerySet[Slot]:
    """Open slots of the service without an active booking.

    `is_booked` (kept in step by the booking services under the slot row lock) lets the search walk
    the partial index `slot_free_by_time` and skip booked stretches; NOT EXISTS on the partial
    unique index `booking_one_active_per_slot` stays the truth.
    """
    active = Booking.objects.filter(slot=OuterRef("pk"), status=Booking.Status.ACTIVE)
    qs = Slot.objects.filter(service=service, is_open=True, is_booked=False).filter(~Exists(active))
    if consultant is not None:
        qs = qs.filter(consultant=consultant)
    if specialty:
        qs = qs.filter(consultant__specialty=specialty)
    return qs


def _bookable_time(service: Any, calendar: ServiceCalendar, slot: Slot) -> bool:
    return _bookable_span(service, calendar, slot.starts_at, slot.ends_at)


def _bookable_span(
    service: Any, calendar: ServiceCalendar, starts_at: dt.datetime, ends_at: dt.datetime
) -> bool:
    starts, ends = to_local(service, starts_at), to_local(service, ends_at)
    return (
        calendar.is_working_day(starts.date())
        and starts.time() >= service.consultation_opens
        and ends.date() == starts.date()
        and ends.time() <= service.consultation_closes
    )


def slot_nearest_free(
    *,
    service: Any,
    consultant: Any = None,
    after: dt.datetime | None = None,
    now: dt.datetime | None = None,
    specialty: str = "",
) -> Slot | None:
    """The first bookable free slot after max(now, after), by time then consultant, or None.

    Bookable: open, no active booking, on a working day of the service's calendar and inside its
    consultation hours (slots of a day that became a day off are skipped).
    """
    start = now or timezone.now()
    if after is not None and after > start:
        start = after
    calendar = ServiceCalendar(service)
    qs = (
        _free_slots(service, consultant, specialty)
        .select_related("consultant")
        .order_by("starts_at", "consultant_id")
    )
    page = qs.filter(starts_at__gt=start)
    while True:
        batch = list(page[:_BATCH])
        for slot in batch:
            if _bookable_time(service, calendar, slot):
                return slot
        if len(batch) < _BATCH:
            return None
        last = batch[-1]
        last_day = to_local(service, last.starts_at).date()
        if not calendar.is_working_day(last_day):
            # Jump over the rest of a day off at once.
            page = qs.filter(starts_at__gte=local_day_bounds(service, last_day)[1])
        else:
            # Keyset: continue right after the last (starts_at, consultant) seen.
            page = qs.filter(
                Q(starts_at__gt=last.starts_at)
                | Q(starts_at=last.starts_at, consultant_id__gt=last.consultant_id)
            )


def slots_free_on_date(
    *,
    service: Any,
    date: dt.date,
    consultant: Any = None,
    now: dt.datetime | None = None,
    specialty: str = "",
    topic: str = "",
    language: str = "",
) -> list[Slot]:
    """Free bookable slots of the local `date`, never earlier than the nearest free slot.

    With a request's `topic` and/or `language`, each slot carries `topic_match` and
    `language_match` and the slots of competent consultants come first (issue 12).

    Regulation 001 §5: the operator tells whether the wanted date has free times, "but not earlier
    than the date of the nearest free slot" — so a date before it gives nothing.
    """
    nearest = slot_nearest_free(
        service=service, consultant=consultant, now=now, specialty=specialty
    )
    if nearest is None:
        return []
    day_start, day_end = local_day_bounds(service, date)
    if day_end <= nearest.starts_at:
        return []
    calendar = ServiceCalendar(service)
    if not calendar.is_working_day(date):
        return []
    qs = with_competence(
        _free_slots(service, consultant, specialty)
        .filter(starts_at__gte=max(day_start, nearest.starts_at), starts_at__lt=day_end)
        .select_related("consultant"),
        topic=topic,
        language=language,
    ).order_by("-topic_match", "-language_match", "starts_at", "consultant_id")
    return [s for s in qs if _bookable_time(service, calendar, s)]


# --- competence: the consultants fit for a request's topic and language (issue 12) -------------


class Competence(TypedDict):
    """What `with_competence` adds to each slot."""

    topic_match: bool
    language_match: bool


def with_competence(
    qs: QuerySet[Slot], *, topic: str = "", language: str = ""
) -> QuerySet[WithAnnotations[Slot, Competence]]:
    """Annotate slots with `topic_match` (the consultant has the request's topic class among
    their specialties) and `language_match` (they consult in its language), in the database.
    Without a topic (or language) the flag is False for everyone, so the order does not change."""
    user_specialties = User.specialties.through.objects.filter(
        user_id=OuterRef("consultant_id"), specialty__topic=topic
    )
    user_languages = User.languages.through.objects.filter(
        user_id=OuterRef("consultant_id"), language__code=language
    )
    return qs.annotate(
        topic_match=Exists(user_specialties) if topic else Value(False, BooleanField()),
        language_match=Exists(user_languages) if language else Value(False, BooleanField()),
    )


def competence_reason(*, slot: Slot, topic: str = "", language: str = "") -> str:
    """Why a slot's consultant comes first: «специализация: …», «язык: …»; "" when neither."""
    parts = []
    if topic and getattr(slot, "topic_match", False):
        parts.append(_("specialty: %(topic)s") % {"topic": TopicClass(topic).label})
    if language and getattr(slot, "language_match", False):
        label = str(LanguageCode(language).label).lower()
        parts.append(_("language: %(language)s") % {"language": label})
    return "; ".join(parts)


# --- the client's picker: times, not consultants ------------------------------------------------

# A week of slots per query while collecting days with free times; stop after two months.
_WINDOW_DAYS = 7
FREE_SEARCH_DAYS = 62


@dataclass(frozen=True)
class FreeTime:
    """One distinct start time with at least one free consultant (`free` of them)."""

    starts_at: dt.datetime
    ends_at: dt.datetime
    free: int


@dataclass
class FreeTimesDay:
    date: dt.date
    times: list[FreeTime] = field(default_factory=list)


@dataclass
class FreeTimes:
    """Days with free times, nearest first; `more_from` is where the next page starts (None
    when nothing is free after the last day shown)."""

    days: list[FreeTimesDay]
    more_from: dt.date | None = None


def free_times_by_day(
    *,
    service: Any,
    start: dt.date | None = None,
    days: int = 3,
    consultant: Any = None,
    now: dt.datetime | None = None,
) -> FreeTimes:
    """Distinct free start times of the service grouped by its local day: the first `days` days
    that have any, from `start` but never earlier than the nearest free slot (regulation 001
    §5). One tile per time however many consultants are free then: whoever is assigned is
    chosen at booking (`slots_free_at`). With `consultant`, only that consultant's times.
    """
    nearest = slot_nearest_free(service=service, consultant=consultant, now=now)
    if nearest is None:
        return FreeTimes(days=[])
    day = to_local(service, nearest.starts_at).date()
    if start is not None and start > day:
        day = start
    calendar = ServiceCalendar(service)
    last_day = to_local(service, nearest.starts_at).date() + dt.timedelta(days=FREE_SEARCH_DAYS)
    found: dict[dt.date, FreeTimesDay] = {}
    while len(found) < days and day <= last_day:
        window_end = day + dt.timedelta(days=_WINDOW_DAYS)
        lo = max(local_day_bounds(service, day)[0], nearest.starts_at)
        hi = local_day_bounds(service, window_end - dt.timedelta(days=1))[1]
        rows = (
            _free_slots(service, consultant)
            .filter(starts_at__gte=lo, starts_at__lt=hi)
            .values("starts_at")
            .annotate(free=Count("id"), ends_at=Min("ends_at"))
            .order_by("starts_at")
        )
        for row in rows:
            if not _bookable_span(service, calendar, row["starts_at"], row["ends_at"]):
                continue
            date = to_local(service, row["starts_at"]).date()
            if date not in found:
                if len(found) >= days:
                    break
                found[date] = FreeTimesDay(date=date)
            found[date].times.append(FreeTime(row["starts_at"], row["ends_at"], row["free"]))
        day = window_end
    result = FreeTimes(days=list(found.values()))
    if result.days:
        after = local_day_bounds(service, result.days[-1].date)[1]
        later = slot_nearest_free(service=service, consultant=consultant, after=after, now=now)
        if later is not None:
            result.more_from = to_local(service, later.starts_at).date()
    return result


def slots_free_at(
    *,
    service: Any,
    starts_at: dt.datetime,
    consultant: Any = None,
    now: dt.datetime | None = None,
    rng: random.Random | None = None,
    topic: str = "",
    language: str = "",
) -> list[Slot]:
    """The free bookable slots that start exactly at `starts_at`, in the order to try them:
    the consultants competent for the request's `topic` (then its `language`) first, then the
    consultant with the fewest active bookings that day, ties in random order (so
    that the same person is not always the one who gets the client). Empty when the time is in
    the past, earlier than the nearest free slot, or nobody is free then.
    """
    if starts_at <= (now or timezone.now()):
        return []
    calendar = ServiceCalendar(service)
    day_start, day_end = local_day_bounds(service, to_local(service, starts_at).date())
    load = (
        Booking.objects.filter(
            slot__consultant=OuterRef("consultant"),
            status=Booking.Status.ACTIVE,
            slot__starts_at__gte=day_start,
            slot__starts_at__lt=day_end,
        )
        .order_by()
        .values("slot__consultant")
        .annotate(n=Count("pk"))
        .values("n")
    )
    slots = list(
        with_competence(
            _free_slots(service, consultant)
            .filter(starts_at=starts_at)
            .select_related("consultant"),
            topic=topic,
            language=language,
        ).annotate(load=Coalesce(Subquery(load), 0))
    )
    slots = [s for s in slots if _bookable_time(service, calendar, s)]
    if not slots:
        return []
    nearest = slot_nearest_free(service=service, consultant=consultant, now=now)
    if nearest is None or starts_at < nearest.starts_at:
        return []
    rng = rng or random.SystemRandom()
    order = {s.pk: rng.random() for s in slots}
    ranked = sorted(
        slots,
        key=lambda s: (not s.topic_match, not s.language_match, s.load, order[s.pk]),
    )
    return list(ranked)


# --- the operator's grid: a day x consultant table ----------------------------------------------


@dataclass
class GridRow:
    consultant: Any
    cells: list[Slot | None]
    # Why this consultant is offered first (issue 12): «специализация: …; язык: …», or "".
    reason: str = ""
    competence: tuple[bool, bool] = (False, False)  # (topic, language) match


@dataclass
class SlotGrid:
    """Free slots of one local day: columns are the distinct start times, rows the consultants
    with at least one free slot that day; a cell is the free slot or None."""

    date: dt.date
    times: list[dt.datetime]
    rows: list[GridRow]
    nearest: Slot | None = None
    previous_date: dt.date | None = None
    next_date: dt.date | None = None

    @property
    def count(self) -> int:
        return sum(1 for row in self.rows for cell in row.cells if cell is not None)


def consultant_specialties(*, service: Any) -> list[str]:
    """The distinct specialties of the service's active consultants, for the grid's filter."""
    return list(
        User.objects.filter(services=service, role=Role.CONSULTANT, is_active=True)
        .exclude(specialty="")
        .order_by("specialty")
        .values_list("specialty", flat=True)
        .distinct()
    )


def slot_grid(
    *,
    service: Any,
    date: dt.date,
    consultant: Any = None,
    specialty: str = "",
    now: dt.datetime | None = None,
    topic: str = "",
    language: str = "",
) -> SlotGrid:
    """The operator's booking grid of `date`, filtered by consultant and/or specialty, never
    earlier than the nearest free slot; with the neighbouring days that have free times.

    With a request's `topic` or `language`, the competent consultants' rows come first (topic,
    then language, as the database annotated them), each with the reason; then by name."""
    slots = slots_free_on_date(
        service=service,
        date=date,
        consultant=consultant,
        now=now,
        specialty=specialty,
        topic=topic,
        language=language,
    )
    times = sorted({s.starts_at for s in slots})
    column = {t: i for i, t in enumerate(times)}
    rows: dict[int, GridRow] = {}
    for slot in slots:
        row = rows.get(slot.consultant_id)
        if row is None:
            reason = competence_reason(slot=slot, topic=topic, language=language)
            row = rows[slot.consultant_id] = GridRow(
                slot.consultant,
                [None] * len(times),
                reason,
                # Annotated by `with_competence` (the list's type says only `Slot`).
                (
                    bool(getattr(slot, "topic_match", False)),
                    bool(getattr(slot, "language_match", False)),
                ),
            )
        row.cells[column[slot.starts_at]] = slot
    # One row a consultant (a handful a day): the competence flags come from the database.
    ordered = sorted(
        rows.values(),
        key=lambda r: (
            not r.competence[0],
            not r.competence[1],
            r.consultant.last_name,
            r.consultant.first_name,
            r.consultant.pk,
        ),
    )
    first = min(slots, key=lambda s: (s.starts_at, s.consultant_id)) if slots else None
    grid = SlotGrid(date=date, times=times, rows=ordered, nearest=first)
    grid.previous_date, grid.next_date = _neighbour_days(
        service=service, date=date, consultant=consultant, specialty=specialty, now=now
    )
    return grid


def _neighbour_days(
    *, service: Any, date: dt.date, consultant: Any, specialty: str, now: dt.datetime | None
) -> tuple[dt.date | None, dt.date | None]:
    """The nearest earlier and later local days with a free bookable slot (for the arrows)."""
    calendar = ServiceCalendar(service)
    nearest = slot_nearest_free(
        service=service, consultant=consultant, now=now, specialty=specialty
    )
    if nearest is None:
        return None, None
    day_start, day_end = local_day_bounds(service, date)
    qs = _free_slots(service, consultant, specialty).select_related("consultant")

    def first(candidates: QuerySet[Slot]) -> dt.date | None:
        for slot in candidates[:_BATCH]:
            if _bookable_time(service, calendar, slot):
                return to_local(service, slot.starts_at).date()
        return None

    previous = None
    if day_start > nearest.starts_at:
        previous = first(
            qs.filter(starts_at__gte=nearest.starts_at, starts_at__lt=day_start).order_by(
                "-starts_at"
            )
        )
    following = first(
        qs.filter(starts_at__gte=max(day_end, nearest.starts_at)).order_by("starts_at")
    )
    return previous, following


def consultant_day(*, consultant: Any, date: dt.date) -> list[Booking]:
    """The consultant's active bookings on `date` (each service's local day), with the request."""
    # A consultant may serve services in different time zones: read a wide window, then keep the
    # bookings whose local date (in their own service's zone) is `date`.
    utc = dt.UTC
    window_start = dt.datetime.combine(date - dt.timedelta(days=1), dt.time.min, tzinfo=utc)
    window_end = dt.datetime.combine(date + dt.timedelta(days=2), dt.time.min, tzinfo=utc)
    bookings = (
        Booking.objects.filter(
            slot__consultant=consultant,
            status=Booking.Status.ACTIVE,
            slot__starts_at__gte=window_start,
            slot__starts_at__lt=window_end,
        )
        .select_related("slot__service", "slot__consultant", "request", "request__region")
        .order_by("slot__starts_at")
    )
    return [b for b in bookings if to_local(b.slot.service, b.slot.starts_at).date() == date]


def schedules_for_month(*, service: Any, month: dt.date) -> QuerySet[Schedule]:
    """The service's schedules for the month, with consultant and periods."""
    return (
        Schedule.objects.filter(service=service, month=month.replace(day=1))
        .select_related("consultant", "approved_by")
        .prefetch_related("periods")
        .order_by("consultant__last_name", "consultant__first_name", "pk")
    )


def schedule_due_date(*, service: Any, month: dt.date) -> dt.date:
    """The day by which the schedules of `month` are due: the due day of the month before."""
    previous = month.replace(day=1) - dt.timedelta(days=1)
    return previous.replace(day=service.schedule_due_day)


def schedule_overdue(*, service: Any, month: dt.date, today: dt.date) -> list[User]:
    """Consultants of the service whose schedule for `month` is overdue on `today`.

    Schedules for a month are due by `service.schedule_due_day` of the month before (regulation 000
    §13: by the 25th for the next month). After that day, every active consultant of the service
    without a submitted or approved schedule for `month` is listed; before it, nobody is.
    """
    month = month.replace(day=1)
    if today <= schedule_due_date(service=service, month=month):
        return []
    done = Schedule.objects.filter(
        service=service,
        month=month,
        consultant=OuterRef("pk"),
        status__in=[Schedule.Status.SUBMITTED, Schedule.Status.APPROVED],
    )
    return list(
        User.objects.filter(role=Role.CONSULTANT, is_active=True, services=service)
        .filter(~Exists(done))
        .order_by("last_name", "first_name", "pk")
    )


def booking_get(*, booking_id: int) -> Booking:
    """One booking with its slot, service, consultant and request, or NotFound."""
    try:
        return Booking.objects.select_related(
            "slot__service", "slot__consultant", "request", "replaced_by"
        ).get(pk=booking_id)
    except (Booking.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("The booking does not exist.")) from None


def bookings_for_request(*, request: Any) -> list[Booking]:
    """All bookings of a request, oldest first: the rescheduling history as a chain."""
    return list(
        Booking.objects.filter(request=request)
        .select_related("slot__service", "slot__consultant", "replaced_by")
        .order_by("created_at", "pk")
    )


def places_of_service(*, service: Any, include_inactive: bool = True) -> QuerySet[Place]:
    """The rooms and addresses of `service`, in use first, each with how many slots name it."""
    qs = Place.objects.filter(service=service).annotate(slot_count=Count("slots"))
    if not include_inactive:
        qs = qs.filter(is_active=True)
    return qs.order_by("-is_active", "name")


def slots_of_day(*, service: Any, date: dt.date) -> QuerySet[Slot]:
    """The scheduled slots of `service` on `date` (its local day), with their form and room:
    what the head or coordinator offers in person or remotely. Ad-hoc slots (help started now,
    written consultations) are not offered and not listed."""
    start, end = local_day_bounds(service, date)
    return (
        Slot.objects.filter(
            service=service, schedule__isnull=False, starts_at__gte=start, starts_at__lt=end
        )
        .select_related("consultant", "place")
        .order_by("starts_at", "consultant__last_name", "pk")
    )
