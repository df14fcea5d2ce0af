"""The dashboards' daily roll-up equals the live aggregation: on generated data, after an edit of a
past day (marked dirty after the commit), with today's rows, after the periodic refresh, and for
the filters of the page (a service, a region). Runs on the database of DATABASE_URL (PostgreSQL
in CI's PostgreSQL run, SQLite by default)."""

import datetime as dt
import itertools
import random

import pytest
from django.utils import timezone

from opora.consultations.models import Consultation, Protocol
from opora.core.models import Region
from opora.demo.factories import make_consultant, make_district_service
from opora.intake.models import Client, ServiceRequest
from opora.journals import dashboards as d
from opora.journals import rollups
from opora.journals.models import DailyFigure, RollupDirty, RollupState
from opora.scheduling.models import Booking
from opora.scheduling.tests.factories import make_slot

pytestmark = pytest.mark.django_db

CHANNELS = ["phone", "email", "portal", "telegram"]
FORMS = ["video", "voice", "chat", "written"]
TOPICS = ["1", "2", "3", "6.1", "7"]
_codes = itertools.count(1000)


def _at(day: dt.date, hour: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def _generate(services, today: dt.date) -> list[ServiceRequest]:
    """Requests over the last 20 days of two services, some booked (in time and late), held,
    missed, with protocols; clients repeating, some anonymous, two regions and none."""
    rnd = random.Random(11)
    regions = list(Region.objects.order_by("pk")[:2]) + [None]
    clients = [
        Client.objects.create(
            last_name="Синтетова", first_name=f"Анна{i}", iin=f"{850101300000 + i}"
        )
        for i in range(6)
    ]
    consultants = {s.pk: [make_consultant(s), make_consultant(s)] for s in services}
    made = []
    for i in range(60):
        service = services[i % 2]
        day = today - dt.timedelta(days=rnd.randrange(0, 20))
        anonymous = i % 7 == 0
        status = rnd.choice(["new", "done", "done", "refused"])
        r = ServiceRequest.objects.create(
            service=service,
            client=None if anonymous else rnd.choice(clients),
            is_anonymous=anonymous,
            full_name="" if anonymous else "Синтетова Анна",
            channel=rnd.choice(CHANNELS),
            preferred_form=rnd.choice(FORMS),
            kind="dispatcher" if i % 5 == 0 else "content",
            status=status,
            refusal_ground="out_of_competence" if status == "refused" else "",
            region=rnd.choice(regions),
            public_code=f"RLP{next(_codes)}",
        )
        ServiceRequest.objects.filter(pk=r.pk).update(created_at=_at(day, 9 + i % 8))
        r.refresh_from_db()
        made.append(r)
        if i % 3 == 0:
            continue  # never booked
        lead = rnd.randrange(0, 14)
        slot_day = day + dt.timedelta(days=lead + rnd.randrange(0, 3))
        consultant = rnd.choice(consultants[service.pk])
        slot = make_slot(service, consultant, slot_day, dt.time(8 + i % 10), is_booked=True)
        booking = Booking.objects.create(slot=slot, request=r)
        Booking.objects.filter(pk=booking.pk).update(created_at=_at(day + dt.timedelta(lead), 20))
        if slot_day >= today:
            continue
        status = "no_show" if i % 4 == 0 else "ended"
        consultation = Consultation.objects.create(
            booking=booking,
            status=status,
            mode="video",
            client_token=f"t{i}",
            started_at=slot.starts_at if status == "ended" else None,
            ended_at=slot.starts_at + dt.timedelta(minutes=20 + i) if status == "ended" else None,
        )
        if status == "ended" and i % 2:
            Protocol.objects.create(
                consultation=consultation,
                reason="синтетика",
                topic=rnd.choice(TOPICS),
                solution="синтетика",
                kind="primary",
                written_by=consultant,
            )
    return made


def _figures(f: d.DashboardFilter, today: dt.date) -> dict:
    sla = d.sla_service_within_days(f, today=today)
    return {
        "per_day": d.requests_per_day(f),
        "per_channel": d.requests_per_channel(f),
        "per_channel_per_day": d.requests_per_channel_per_day(f),
        "kinds": d.services_by_kind_and_form(f),
        "topics": d.topics(f),
        "regions": d.regions(f),
        "load": d.consultant_load(f),
        "lead": d.booking_lead_time(f),
        "sla": (sla.due, sla.met),
    }


def _live(f: d.DashboardFilter, today: dt.date) -> dict:
    """The same figures with the roll-up ignored (as before it is ever built)."""
    saved = list(RollupState.objects.values_list("pk", "covered_through"))
    RollupState.objects.update(covered_through=None)
    try:
        return _figures(f, today)
    finally:
        for pk, covered in saved:
            RollupState.objects.filter(pk=pk).update(covered_through=covered)


def _filters(services, today: dt.date) -> list[d.DashboardFilter]:
    ids = tuple(s.pk for s in services)
    start = today - dt.timedelta(days=29)
    region = Region.objects.order_by("pk").first()
    return [
        d.DashboardFilter(date_from=start, date_to=today, service_ids=ids, persons=True),
        d.DashboardFilter(date_from=start, date_to=today, service_ids=ids[:1], persons=True),
        d.DashboardFilter(
            date_from=start, date_to=today, service_ids=ids, region_id=region.pk, persons=False
        ),
        d.DashboardFilter(
            date_from=today - dt.timedelta(days=9),
            date_to=today - dt.timedelta(days=3),
            service_ids=ids,
            persons=True,
        ),
    ]


def _assert_equal(services, today):
    for f in _filters(services, today):
        assert _figures(f, today) == _live(f, today), f


def test_rollup_equals_live_through_edits_and_today(service, django_capture_on_commit_callbacks):
    services = [service, make_district_service()]
    today = timezone.localdate()
    with django_capture_on_commit_callbacks(execute=True):
        made = _generate(services, today)
    assert rollups.rebuild() > 0
    assert DailyFigure.objects.exists()
    assert not RollupDirty.objects.filter(day__lt=today).exists()
    f = _filters(services, today)[0]
    assert rollups.plan(f.date_from, f.date_to).rolled is not None  # the page reads the roll-up
    _assert_equal(services, today)

    # Edits after the roll-up: a past request changes channel and status, a booking is cancelled
    # away (deleted), a protocol's topic changes; a request arrives today.
    past = next(r for r in made if r.created_at.date() < today - dt.timedelta(days=3))
    with django_capture_on_commit_callbacks(execute=True):
        past.channel = "whatsapp"
        past.status = "done"
        past.save()
        protocol = Protocol.objects.order_by("pk").first()
        protocol.topic = "5"
        protocol.save()
        booking = Booking.objects.filter(consultation__isnull=True).order_by("pk").first()
        if booking is not None:
            booking.delete()
        ServiceRequest.objects.create(
            service=services[0], full_name="Синтетова Анна", channel="portal", public_code="RLPT"
        )
    assert RollupDirty.objects.filter(day=timezone.localtime(past.created_at).date()).exists()
    _assert_equal(services, today)

    # The periodic refresh recounts the marked days; the figures stay the same.
    rollups.refresh_due(today=today)
    assert not RollupDirty.objects.filter(day__lt=today).exists()
    _assert_equal(services, today)


def test_persons_are_counted_per_day_service_and_region(
    service, django_capture_on_commit_callbacks
):
    today = timezone.localdate()
    day = today - dt.timedelta(days=2)
    person = Client.objects.create(last_name="Синтетова", first_name="Анна", iin="850101300999")
    for channel in ("phone", "email"):  # one person, two requests on one day
        r = ServiceRequest.objects.create(
            service=service,
            client=person,
            full_name="Синтетова Анна",
            channel=channel,
            public_code=f"RLQ{channel}",
        )
        ServiceRequest.objects.filter(pk=r.pk).update(created_at=_at(day, 10))
    rollups.rebuild(today=today)
    f = d.DashboardFilter(date_from=day, date_to=today, service_ids=(service.pk,), persons=True)
    assert d.requests_per_day(f) == [{"day": day, "requests": 2, "persons": 1}]


def test_rollup_refresh_runs_on_sqlite_and_postgresql_alike(service):
    """An empty database: the rebuild writes nothing and the page still counts live."""
    assert rollups.refresh_due() == 0
    state = RollupState.objects.get()
    assert state.covered_through == timezone.localdate() - dt.timedelta(days=1)
    f = d.DashboardFilter(
        date_from=timezone.localdate(), date_to=timezone.localdate(), service_ids=(service.pk,)
    )
    assert d.requests_per_day(f) == []
