"""`make bench`: Opora's speed targets measured on PostgreSQL, each beside the raw database doing the
same work (psycopg, no Django), in the same run on the same machine.

    .venv/bin/python bench/run.py [--only race,nearest,import,lookup,ws,startup,signin,waves,export,janus,
                                     reports,dashboards]
                                  [--rows N] [--keep-db]

Uses the server of DATABASE_URL with its own database `opora_bench` (dropped and created anew).
Results: printed, and machine-readable in var/bench/results.json. Method: docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import random
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
VAR = ROOT / "var" / "bench"
BENCH_DB = os.environ.get("OPORA_BENCH_DB", "opora_bench")
ALL = (
    "race",
    "nearest",
    "import",
    "lookup",
    "ws",
    "startup",
    "signin",
    "waves",
    "export",
    "janus",
    "reports",
    "dashboards",
)

TARGETS = {
    "race_bookings": 50,
    "race_rate": 300.0,  # bookings/s
    "nearest_p95_ms": 20.0,
    "lookup_p95_ms": 2.0,
    "import_rate": 100_000.0,  # rows/s
}


# --- small helpers ------------------------------------------------------------------------------


def use_broker() -> None:
    """Run as production does: tasks (client notifications) go to a Redis queue after commit
    instead of running inside the booking call. They are purged at the end; no worker runs."""
    url = os.environ.get("OPORA_TEST_REDIS_URL")
    if not url:
        say("bench: no Redis, so notification tasks run in-process (slower bookings)")
        return
    from opora.celery import app

    app.conf.task_always_eager = False
    app.conf.broker_url = url


def warm_broker() -> None:
    """Before the race, as in a running web worker: the app is finalised and this thread holds a
    broker connection. Otherwise the first publish of each process (~0.5 s) lands in the race."""
    if os.environ.get("OPORA_TEST_REDIS_URL"):
        from opora.celery import app

        app.finalize()
        with app.producer_or_acquire() as producer:
            producer.connection.ensure_connection(max_retries=1)


def purge_broker() -> None:
    if os.environ.get("OPORA_TEST_REDIS_URL"):
        from opora.celery import app

        app.control.purge()


def pct(values: list[float], q: float) -> float:
    """The q-quantile by the nearest-rank method (p95 of 1000 values is the 950th smallest)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def latency_stats(seconds: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in seconds]
    return {
        "n": len(ms),
        "p50_ms": round(pct(ms, 0.50), 3),
        "p95_ms": round(pct(ms, 0.95), 3),
        "p99_ms": round(pct(ms, 0.99), 3),
        "max_ms": round(max(ms), 3) if ms else float("nan"),
    }


def say(text: str = "") -> None:
    print(text, flush=True)


def fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        text = f"{value:,.0f}" if value >= 100 else f"{value:.2f}"
    else:
        text = f"{value:,}"
    return f"{text} {unit}".strip()


ROWS: list[dict[str, Any]] = []
SECTION = [""]


def report(name: str, opora: Any, raw: Any, target: str, ok: bool | None, unit: str = "") -> None:
    verdict = {True: "OK", False: "MISSED", None: ""}[ok]
    ROWS.append(
        {
            "section": SECTION[0],
            "measure": name,
            "opora": opora,
            "raw": raw,
            "target": target,
            "unit": unit,
            "ok": ok,
        }
    )
    say(f"  {name:<34} {fmt(opora, unit):>16} {fmt(raw, unit):>16}   {target:<12} {verdict}")


def header(title: str, note: str) -> None:
    SECTION[0] = dict(zip("abcdefghijkl", ALL, strict=True)).get(title[0], title.split(":")[0])
    say()
    say(f"== {title}")
    say(f"   {note}")
    say(f"  {'':<34} {'Opora (Django)':>16} {'raw SQL':>16}   {'target':<12}")


# --- the database -------------------------------------------------------------------------------


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def recreate_database(server_url: str) -> None:
    import psycopg

    with psycopg.connect(with_database(server_url, "postgres"), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {BENCH_DB}")


def drop_database(server_url: str) -> None:
    import psycopg

    with psycopg.connect(with_database(server_url, "postgres"), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")


def raw_connect(autocommit: bool = True):
    import psycopg

    return psycopg.connect(os.environ["DATABASE_URL"], autocommit=autocommit)


_REQUIRED = object()


def copy_rows(model: Any, rows: Iterable[dict[str, Any]]) -> None:
    """COPY dicts (keyed by attname) into `model`'s table; fields not given get their defaults."""
    from django.db import connection
    from django.db.models import CharField, JSONField, TextField
    from django.utils import timezone

    now = timezone.now()
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]

    def default(f: Any) -> Any:
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            return now
        if f.has_default():
            value = f.get_default()
            return json.dumps(value) if isinstance(f, JSONField) else value
        if f.null:
            return None
        if isinstance(f, CharField | TextField):
            return ""
        return _REQUIRED

    defaults = [default(f) for f in fields]
    names = [f.attname for f in fields]
    missing = [n for n, d in zip(names, defaults, strict=True) if d is _REQUIRED]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    with connection.cursor() as cursor:
        sql = f"COPY {connection.ops.quote_name(model._meta.db_table)} ({columns}) FROM STDIN"
        with cursor.cursor.copy(sql) as copy:
            for row in rows:
                if missing and any(n not in row for n in missing):
                    raise ValueError(f"{model.__name__}: every row needs {', '.join(missing)}")
                copy.write_row([row.get(n, d) for n, d in zip(names, defaults, strict=True)])


def vacuum_analyze(*tables: str) -> None:
    """After a bulk load, as autovacuum would: statistics, visibility map, then a checkpoint so
    the write-back of the load does not land in the timed part."""
    import psycopg

    with raw_connect() as conn:
        for table in tables:
            conn.execute(f"VACUUM ANALYZE {table}")
        try:
            conn.execute("CHECKPOINT")
        except psycopg.Error:
            pass  # not a superuser: the timed part may then share the disk with the write-back


# --- machine ------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    import django

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    with raw_connect() as conn:
        settings = {
            name: conn.execute(f"SHOW {name}").fetchone()[0]
            for name in (
                "server_version",
                "max_connections",
                "shared_buffers",
                "fsync",
                "synchronous_commit",
            )
        }
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gb": ram_gb,
        "postgresql": settings.pop("server_version"),
        "postgresql_settings": settings,
        "python": platform.python_version(),
        "django": django.get_version(),
        "os": platform.platform(),
        # Other work on the machine skews every figure: recorded so a reader can tell.
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


# --- shared fixtures ----------------------------------------------------------------------------


def bench_service(code: str, slot_minutes: int) -> Any:
    """A 1411-profile service; the factory's organisations are made once and shared."""
    from opora.core.models import Service
    from opora.demo.factories import make_service_1411

    existing = Service.objects.filter(code__startswith="bench-").first()
    if existing is None:
        return make_service_1411(code=code, slot_minutes=slot_minutes, name=f"Bench {code}")
    clone = Service.objects.get(pk=existing.pk)
    clone.pk = None
    clone.code, clone.name, clone.slot_minutes = code, f"Bench {code}", slot_minutes
    clone.save()
    return clone


def month_start(day: dt.date, ahead: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + ahead
    return dt.date(index // 12, index % 12 + 1, 1)


def make_requests(service: Any, count: int, prefix: str) -> list[int]:
    """`count` new requests (status "new") with a synthetic phone and a valid synthetic IIN, as an
    operator's request looks after the registry check (a 1411 request without one cannot be
    booked); returns their ids."""
    from opora.intake.models import ServiceRequest
    from opora.registry.iin import make_iin

    def iin(i: int) -> str:
        # Birth dates from 1975-01-01 on, 20,000 days round; serials that give a valid control
        # digit exist for every date.
        born = dt.date(1975, 1, 1) + dt.timedelta(days=i % 20_000)
        return next(v for s in range(1000, 9999) if (v := make_iin(born, "F", s)))

    copy_rows(
        ServiceRequest,
        (
            {
                "service_id": service.pk,
                "full_name": f"Клиент {prefix}-{i}",
                "iin": iin(i),
                "phone": f"+7700{i % 10_000_000:07d}",
                "channel": "phone",
                "status": "new",
            }
            for i in range(count)
        ),
    )
    return list(
        ServiceRequest.objects.filter(service=service, full_name__startswith=f"Клиент {prefix}-")
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def make_consultants(service: Any, count: int, prefix: str) -> list[Any]:
    from opora.accounts.models import Role, User

    users = [
        User(
            username=f"{prefix}{i:03d}",
            password="!",  # unusable
            role=Role.CONSULTANT,
            organisation_id=service.provider_organisation_id,
            last_name=f"Консультант{i}",
            first_name="Бенч",
        )
        for i in range(count)
    ]
    User.objects.bulk_create(users, batch_size=1000)
    users = list(User.objects.filter(username__startswith=prefix).order_by("pk"))
    User.services.through.objects.bulk_create(
        [User.services.through(user_id=u.pk, service_id=service.pk) for u in users]
    )
    return users


def approved_schedules(service: Any, consultants: list[Any], months: list[dt.date]) -> dict:
    from opora.scheduling.models import Schedule

    Schedule.objects.bulk_create(
        [
            Schedule(service=service, consultant=c, month=m, status=Schedule.Status.APPROVED)
            for c in consultants
            for m in months
        ],
        batch_size=1000,
    )
    return {
        (s.consultant_id, s.month): s.pk
        for s in Schedule.objects.filter(service=service).only("pk", "consultant_id", "month")
    }


# --- a. the race --------------------------------------------------------------------------------


def race_slots(
    service: Any, consultants: list[Any], schedules: dict, day: dt.date, count: int
) -> list[int]:
    """`count` one-hour slots 14:00–18:00 on `day`, consultant by consultant."""
    from opora.scheduling.calendar import local_day_bounds, make_aware_local
    from opora.scheduling.models import Slot

    rows = []
    for c in consultants:
        for hour in (14, 15, 16, 17):
            if len(rows) < count:
                starts = make_aware_local(service, day, dt.time(hour))
                rows.append(
                    Slot(
                        service=service,
                        consultant=c,
                        schedule_id=schedules[(c.pk, day.replace(day=1))],
                        starts_at=starts,
                        ends_at=starts + dt.timedelta(hours=1),
                    )
                )
    Slot.objects.bulk_create(rows)
    start, end = local_day_bounds(service, day)
    return list(
        Slot.objects.filter(service=service, starts_at__gte=start, starts_at__lt=end).values_list(
            "pk", flat=True
        )
    )


# One client's outcome: (kind, seconds the attempt took, perf_counter when it ended, detail);
# kind is "won", "conflict" or "error". perf_counter is CLOCK_MONOTONIC, comparable across processes.
Event = tuple[str, float, float, str]


def _client_group(
    ids: list[int],
    threads: int | None,
    first: int,
    prepare: Callable[[int], None],
    work: Callable[[int], list[Event]],
    cleanup: Callable[[], None],
    go: Any,
    ready: Any,
    out: Any,
    release: Any,
) -> None:
    """Run clients `ids` in this process, each thread with its own connection: all prepare
    (connect, warm up), then start together on `go`; once every client everywhere has been
    answered (`release`), each thread closes its connection.

    `threads=None`: a thread per client, all pressing «book» at once. Otherwise `threads` worker
    threads (a web worker's thread pool) take the clients from a queue in the order of `ids`:
    a client waits for a free worker, as an HTTP request does; `prepare` then gets the worker's
    number (from `first`), otherwise the client's."""
    import queue

    workers = len(ids) if threads is None else min(threads, len(ids))
    pending: queue.SimpleQueue[int] = queue.SimpleQueue()
    for i in ids:
        pending.put(i)
    barrier = threading.Barrier(workers + 1)
    finished = threading.Barrier(workers + 1)
    lock = threading.Lock()
    events: list[Event] = []
    errors: list[str] = []

    def to_serve(worker: int) -> Iterable[int]:
        if threads is None:  # a thread per client: its own, once
            yield worker
            return
        while True:
            try:
                yield pending.get_nowait()
            except queue.Empty:
                return

    def body(worker: int) -> None:
        try:
            prepare(worker)
        except BaseException as exc:  # noqa: BLE001 - reported by the parent
            errors.append(repr(exc))
        barrier.wait()
        go.wait()
        released = time.perf_counter()
        for i in to_serve(worker):
            try:
                result = work(i)
            except BaseException as exc:  # noqa: BLE001 - reported by the parent
                errors.append(repr(exc))
                result = []
            if threads is not None:
                # What the client saw: from pressing «book» (the release) to the answer.
                result = [
                    (kind, answered - released, answered, x) for kind, _, answered, x in result
                ]
            with lock:
                events.extend(result)
        finished.wait()
        release.wait()
        cleanup()

    pool = [
        threading.Thread(target=body, args=(ids[k] if threads is None else first + k,))
        for k in range(workers)
    ]
    for t in pool:
        t.start()
    barrier.wait()
    ready.put(workers)
    finished.wait()
    out.put((events, time.perf_counter(), errors))
    for t in pool:
        t.join()


def run_clients(
    clients: int,
    processes: int,
    prepare: Callable[[int], None],
    work: Callable[[int], list[Event]],
    cleanup: Callable[[], None],
    *,
    threads: int | None = None,
    order: Callable[[int], Any] | None = None,
) -> tuple[float, float, list[Event]]:
    """`clients` spread over `processes` forked processes (when > 1), released at once: a thread
    per client, or with `threads` that many worker threads per process taking the clients in
    `order` (see `_client_group`).

    Each client's `work` returns its events, whose third item is when it was answered. The
    connections are closed (`cleanup`) only after every client has been answered: a server
    process exiting is not part of anybody's answer, and with persistent connections
    (CONN_MAX_AGE) it does not happen per request.

    Returns (perf_counter at the release, seconds until the last client was answered, events).
    """
    import multiprocessing
    import queue

    from django.db import connections

    groups = [sorted(range(clients)[k::processes], key=order) for k in range(processes)]
    firsts = [k * (threads or 0) for k in range(processes)]
    if processes == 1:
        go, ready, out, release = threading.Event(), queue.Queue(), queue.Queue(), threading.Event()
        workers = [
            threading.Thread(
                target=_client_group,
                args=(groups[0], threads, 0, prepare, work, cleanup, go, ready, out, release),
            )
        ]
    else:
        connections.close_all()  # a forked child must not share the parent's connection
        ctx = multiprocessing.get_context("fork")
        go, ready, out, release = ctx.Event(), ctx.Queue(), ctx.Queue(), ctx.Event()
        workers = [
            ctx.Process(
                target=_client_group,
                args=(g, threads, first, prepare, work, cleanup, go, ready, out, release),
            )
            for g, first in zip(groups, firsts, strict=True)
        ]
    for w in workers:
        w.start()
    for _ in workers:
        ready.get()
    started = time.perf_counter()
    go.set()
    events: list[Event] = []
    errors: list[str] = []
    for _ in workers:
        group_events, _ended, group_errors = out.get()
        events += group_events
        errors += group_errors
    release.set()
    last = max((e[2] for e in events), default=started)
    for w in workers:
        w.join()
    if errors:
        raise RuntimeError(f"{len(errors)} client(s) failed, first: {errors[0]}")
    return started, last - started, events


def race_outcome(slot_ids: list[int]) -> tuple[int, int]:
    with raw_connect() as conn:
        made = conn.execute(
            "SELECT count(*) FROM scheduling_booking WHERE status = 'active' AND slot_id = ANY(%s)",
            [slot_ids],
        ).fetchone()[0]
        doubles = conn.execute(
            "SELECT count(*) FROM (SELECT slot_id FROM scheduling_booking WHERE status = 'active' "
            "AND slot_id = ANY(%s) GROUP BY slot_id HAVING count(*) > 1) d",
            [slot_ids],
        ).fetchone()[0]
    return made, doubles


def race_summary(
    slot_ids: list[int], started: float, wall: float, events: list[Event]
) -> dict[str, Any]:
    made, doubles = race_outcome(slot_ids)
    won = [e for e in events if e[0] == "won"]
    # Until the last successful booking, i.e. until every slot is taken.
    fill = (max(e[2] for e in won) - started) if won else float("nan")
    return {
        "bookings": made,
        "double_bookings": doubles,
        "fill_s": round(fill, 3),
        "wall_s": round(wall, 3),
        "bookings_per_s": round(made / fill, 1) if won else 0.0,
        "attempts_per_s": round(len(events) / wall, 1) if wall else 0.0,
        "booking_latency": latency_stats([e[1] for e in won]),
        "conflicts": sum(e[0] == "conflict" for e in events),
        "conflict_latency": latency_stats([e[1] for e in events if e[0] == "conflict"]),
        "errors": sorted({e[3] for e in events if e[0] == "error"}),
    }


def bench_race(args: argparse.Namespace) -> dict[str, Any]:
    from django.db import connection, connections, transaction
    from django.utils import timezone

    from opora.accounts.models import Role
    from opora.core.errors import Conflict, DomainError
    from opora.demo.factories import make_user
    from opora.intake.models import ServiceRequest
    from opora.scheduling.calendar import ServiceCalendar
    from opora.scheduling.models import Slot
    from opora.scheduling.selectors import slots_free_on_date
    from opora.scheduling.services import booking_create

    clients, nslots, processes = args.clients, args.slots, max(1, args.race_processes)
    with connection.cursor() as c:
        c.execute("SHOW max_connections")
        max_conn = int(c.fetchone()[0])
    if max_conn < clients + 10:
        raise RuntimeError(
            f"the server allows {max_conn} connections; {clients} clients need {clients + 10}. "
            "Run `make bench` without DATABASE_URL (it starts a suitable server) or raise "
            "max_connections."
        )
    service = bench_service("bench-race", 60)
    operator = make_user(Role.OPERATOR, service=service, organisation=service.intake_organisation)
    consultants = make_consultants(service, math.ceil(nslots / 4), "bench-race-c")
    calendar = ServiceCalendar(service)
    day = timezone.localdate(timezone=service.tz) + dt.timedelta(days=7)
    # Two race days (Opora's, raw's), then days with a warm-up slot for every client.
    warm = args.race_connections == "warm"
    per_day = len(consultants) * 4
    days = []
    while len(days) < 2 + (math.ceil(clients / per_day) if warm else 0):
        if calendar.is_working_day(day):
            days.append(day)
        day += dt.timedelta(days=1)
    django_day, raw_day = days[:2]
    schedules = approved_schedules(service, consultants, sorted({d.replace(day=1) for d in days}))
    django_slots = race_slots(service, consultants, schedules, django_day, nslots)
    raw_slots = race_slots(service, consultants, schedules, raw_day, nslots)
    warm_slots = [
        pk for d in days[2:] for pk in race_slots(service, consultants, schedules, d, per_day)
    ]
    django_requests = list(
        ServiceRequest.objects.filter(pk__in=make_requests(service, clients, "race-django"))
        .select_related("service")
        .order_by("pk")
    )
    raw_requests = make_requests(service, clients, "race-raw")

    warm_requests = list(
        ServiceRequest.objects.filter(pk__in=make_requests(service, clients, "race-warm"))
        .select_related("service")
        .order_by("pk")
    )
    warm_slot_objs = list(
        Slot.objects.filter(pk__in=warm_slots).select_related("service", "consultant")
    )

    def prepare_django(i: int) -> None:
        connection.ensure_connection()
        warm_broker()
        if warm:
            # As a web worker's persistent connection (CONN_MAX_AGE) is: it has served a booking
            # before. A brand-new server process first spends milliseconds loading its catalog
            # caches for every table and index the booking touches. The warm-up booking is on a
            # slot of its own and rolled back; nothing of it is sent.
            with transaction.atomic():
                booking_create(actor=operator, request=warm_requests[i], slot=warm_slot_objs[i])
                transaction.set_rollback(True)
            slots_free_on_date(service=service, date=django_day)  # the screen before «book»

    slot_objs = list(
        Slot.objects.filter(pk__in=django_slots)
        .select_related("service", "consultant")
        .order_by("pk")
    )

    def django_client(i: int) -> list[Event]:
        rng = random.Random(i)
        events: list[Event] = []
        if args.race_mode == "once":
            # Everyone saw the same list and presses "book" at the same moment: client i
            # wants slot i mod 50, so four clients fight for every slot, once.
            t0 = time.perf_counter()
            try:
                booking_create(
                    actor=operator, request=django_requests[i], slot=slot_objs[i % nslots]
                )
            except Conflict:
                events.append(("conflict", time.perf_counter() - t0, time.perf_counter(), ""))
            except DomainError as exc:
                events.append(("error", time.perf_counter() - t0, time.perf_counter(), exc.code))
            else:
                t1 = time.perf_counter()
                events.append(("won", t1 - t0, t1, ""))
            return events
        # An operator's screen: the free slots of the day, pick one; when it was just taken,
        # look again (the list has changed) and pick another, until none is left.
        while True:
            free = slots_free_on_date(service=service, date=django_day)
            if not free:
                return events
            t0 = time.perf_counter()
            try:
                booking_create(actor=operator, request=django_requests[i], slot=rng.choice(free))
            except Conflict:
                events.append(("conflict", time.perf_counter() - t0, time.perf_counter(), ""))
                continue
            except DomainError as exc:
                events.append(("error", time.perf_counter() - t0, time.perf_counter(), exc.code))
                return events
            t1 = time.perf_counter()
            events.append(("won", t1 - t0, t1, ""))
            return events

    connection.close()
    pool = {
        "threads": args.race_threads or None,
        # Workers take the clients slot by slot: the four clients of a slot are served at the
        # same moment by different workers and really race.
        "order": lambda i: (i % nslots, i),
    }
    started, wall, events = run_clients(
        clients, processes, prepare_django, django_client, connections.close_all, **pool
    )
    opora = race_summary(django_slots, started, wall, events)

    # Raw: the same race, one INSERT ... ON CONFLICT DO NOTHING on the partial unique index.
    local = threading.local()
    free_sql = (
        "SELECT s.id FROM scheduling_slot s WHERE s.id = ANY(%s) AND s.is_open "
        "AND NOT EXISTS (SELECT 1 FROM scheduling_booking b WHERE b.slot_id = s.id "
        "AND b.status = 'active')"
    )
    insert_sql = (
        "INSERT INTO scheduling_booking (slot_id, request_id, status, created_at, cancel_reason, "
        "visit_address) VALUES (%s, %s, 'active', now(), '', '') ON CONFLICT DO NOTHING RETURNING id"
    )

    def prepare_raw(i: int) -> None:
        local.conn = raw_connect()
        if warm:  # the same warm-up: an insert rolled back, then the screen's query
            with local.conn.transaction(force_rollback=True):
                local.conn.execute(insert_sql, [warm_slots[i], raw_requests[i]]).fetchone()
            local.conn.execute(free_sql, [raw_slots]).fetchall()

    def raw_client(i: int) -> list[Event]:
        rng = random.Random(i)
        conn = local.conn
        events: list[Event] = []
        if args.race_mode == "once":
            t0 = time.perf_counter()
            won = conn.execute(insert_sql, [raw_slots[i % nslots], raw_requests[i]]).fetchone()
            t1 = time.perf_counter()
            events.append(("won" if won else "conflict", t1 - t0, t1, ""))
            return events
        while True:
            free = [r[0] for r in conn.execute(free_sql, [raw_slots])]
            if not free:
                return events
            t0 = time.perf_counter()
            won = conn.execute(insert_sql, [rng.choice(free), raw_requests[i]]).fetchone()
            t1 = time.perf_counter()
            events.append(("won" if won else "conflict", t1 - t0, t1, ""))
            if won:
                return events

    started, wall, events = run_clients(
        clients, processes, prepare_raw, raw_client, lambda: local.conn.close(), **pool
    )
    raw = race_summary(raw_slots, started, wall, events)
    Slot.objects.filter(pk__in=django_slots + raw_slots).update(is_open=False)  # leave no traces

    result = {
        "clients": clients,
        "slots": nslots,
        "processes": processes,
        "mode": args.race_mode,
        "connections": args.race_connections,
        "threads_per_process": args.race_threads or "one per client",
        "opora": opora,
        "raw": raw,
    }
    spread = f", spread over {processes} processes" if processes > 1 else ", one process"
    how = (
        "each client presses «book» once for slot i mod N"
        if args.race_mode == "once"
        else "each client re-lists the free slots and retries until none is left"
    )
    served = (
        f"a thread and a {args.race_connections} connection per client{spread}"
        if not args.race_threads
        else f"served by {args.race_threads} worker threads per process with "
        f"{args.race_connections} connections{spread}"
    )
    header(
        f"a. race: {clients} clients ({served}) for {nslots} slots; " + how,
        "Opora: booking_create (locks, checks, audit, notification queued); "
        "raw: INSERT … ON CONFLICT DO NOTHING.",
    )
    o, r = opora, raw
    report("bookings made", o["bookings"], r["bookings"], f"= {nslots}", o["bookings"] == nslots)
    report(
        "booking requests answered/s (won or conflict)",
        o["attempts_per_s"],
        r["attempts_per_s"],
        "≥ 300/s",
        o["attempts_per_s"] >= TARGETS["race_rate"],
        "/s",
    )
    report(
        "double bookings",
        o["double_bookings"],
        r["double_bookings"],
        "= 0",
        o["double_bookings"] == 0,
    )
    report(
        "bookings made/s (until all are taken)",
        o["bookings_per_s"],
        r["bookings_per_s"],
        "",
        None,
        "/s",
    )
    report("time until all are taken", o["fill_s"] * 1000, r["fill_s"] * 1000, "", None, "ms")
    report(
        "… until every client is answered", o["wall_s"] * 1000, r["wall_s"] * 1000, "", None, "ms"
    )
    report(
        "p95 latency of a won booking",
        o["booking_latency"]["p95_ms"],
        r["booking_latency"]["p95_ms"],
        "",
        None,
        "ms",
    )
    report("conflicts (lost attempts)", o["conflicts"], r["conflicts"], "", None)
    if o["errors"]:
        say(f"  other errors in the Opora path: {o['errors']}")
    return result


# --- b. nearest free slot -----------------------------------------------------------------------


def bench_nearest(args: argparse.Namespace) -> dict[str, Any]:
    from django.db import connection
    from django.utils import timezone

    from opora.scheduling.calendar import make_aware_local, working_days_in_month
    from opora.scheduling.models import Booking, Slot
    from opora.scheduling.selectors import slot_nearest_free

    rng = random.Random(1411)
    t_setup = time.perf_counter()
    service = bench_service("bench-nearest", args.slot_minutes)
    consultants = make_consultants(service, args.consultants, "bench-near-c")
    today = timezone.localdate(timezone=service.tz)
    months = [month_start(today, 1), month_start(today, 2)]
    schedules = approved_schedules(service, consultants, months)
    step = dt.timedelta(minutes=args.slot_minutes)
    per_day = int((4 * 60) / args.slot_minutes)  # consultation hours 14:00–18:00
    days = [d for m in months for d in working_days_in_month(service, m)]

    def slot_rows() -> Iterable[dict[str, Any]]:
        for day in days:
            first = make_aware_local(service, day, dt.time(14))
            for c in consultants:
                schedule_id = schedules[(c.pk, day.replace(day=1))]
                for k in range(per_day):
                    starts = first + k * step
                    yield {
                        "service_id": service.pk,
                        "consultant_id": c.pk,
                        "schedule_id": schedule_id,
                        "starts_at": starts,
                        "ends_at": starts + step,
                        "is_open": True,
                    }

    copy_rows(Slot, slot_rows())
    slots = list(
        Slot.objects.filter(service=service)
        .order_by("starts_at", "consultant_id")
        .values_list("pk", flat=True)
    )
    n = len(slots)

    # Bookings: the near future fills first. The first ~12 % of the window (about a week) is fully
    # booked, then the booked share falls from 95 % to 20 % by the end; the rest of the 100k
    # bookings are cancelled or rescheduled history on random slots.
    active = []
    for k, slot_id in enumerate(slots):
        x = k / n
        p = 1.0 if x < 0.12 else 0.95 - 0.75 * (x - 0.12) / 0.88
        if rng.random() < p:
            active.append(slot_id)
    history = max(0, args.bookings - len(active))
    requests = make_requests(service, len(active) + history, "near")
    now = timezone.now()
    rows = [
        {"slot_id": s, "request_id": r, "status": "active", "created_at": now}
        for s, r in zip(active, requests, strict=False)
    ]
    rows += [
        {
            "slot_id": rng.choice(slots),
            "request_id": r,
            "status": rng.choice(("cancelled", "rescheduled")),
            "created_at": now,
            "ended_at": now,
        }
        for r in requests[len(active) :]
    ]
    copy_rows(Booking, rows)
    flag = True  # Slot.is_booked, which the booking services keep in step with active bookings
    with raw_connect() as conn:
        conn.execute(
            "UPDATE scheduling_slot SET is_booked = true WHERE id IN "
            "(SELECT slot_id FROM scheduling_booking WHERE status = 'active')"
        )
    vacuum_analyze("scheduling_slot", "scheduling_booking", "intake_servicerequest")
    setup_s = time.perf_counter() - t_setup

    window_start = make_aware_local(service, days[0], dt.time(0))
    window_end = make_aware_local(service, days[-1], dt.time(18))
    span = (window_end - window_start).total_seconds()
    calls = args.calls
    afters = [window_start + dt.timedelta(seconds=rng.uniform(0, span)) for _ in range(calls)]
    picks = [rng.choice(consultants) for _ in range(calls)]

    def measure(fn: Callable[[int], Any]) -> tuple[list[float], int]:
        for i in range(20):  # warm-up: plans cached, pages in memory
            fn(i)
        times, found = [], 0
        for i in range(calls):
            t0 = time.perf_counter()
            found += fn(i) is not None
            times.append(time.perf_counter() - t0)
        return times, found

    dj_any, dj_any_found = measure(lambda i: slot_nearest_free(service=service, after=afters[i]))
    dj_one, dj_one_found = measure(
        lambda i: slot_nearest_free(service=service, consultant=picks[i], after=afters[i])
    )
    connection.close()

    sql = (
        "SELECT s.id, s.starts_at, s.consultant_id FROM scheduling_slot s "
        "WHERE s.service_id = %s AND s.is_open AND s.starts_at > %s {extra}{flag}"
        "AND NOT EXISTS (SELECT 1 FROM scheduling_booking b WHERE b.slot_id = s.id "
        "AND b.status = 'active') ORDER BY s.starts_at, s.consultant_id LIMIT 1"
    )
    with raw_connect() as conn:
        # The same schema as the Opora query: the is_booked flag (when the model has it) first,
        # NOT EXISTS on the active bookings as the truth.
        flag_sql = "AND NOT s.is_booked " if flag else ""
        any_sql = sql.format(extra="", flag=flag_sql)
        one_sql = sql.format(extra="AND s.consultant_id = %s ", flag=flag_sql)
        raw_any, raw_any_found = measure(
            lambda i: conn.execute(any_sql, [service.pk, afters[i]], prepare=True).fetchone()
        )
        raw_one, raw_one_found = measure(
            lambda i: conn.execute(
                one_sql, [service.pk, afters[i], picks[i].pk], prepare=True
            ).fetchone()
        )

    result = {
        "slot_is_booked_flag": flag,
        "consultants": len(consultants),
        "working_days": len(days),
        "slot_minutes": args.slot_minutes,
        "slots": n,
        "bookings_active": len(active),
        "bookings_history": history,
        "calls": calls,
        "setup_s": round(setup_s, 1),
        "opora": {
            "service": latency_stats(dj_any),
            "consultant": latency_stats(dj_one),
            "found": [dj_any_found, dj_one_found],
        },
        "raw": {
            "service": latency_stats(raw_any),
            "consultant": latency_stats(raw_one),
            "found": [raw_any_found, raw_one_found],
        },
    }
    header(
        f"b. nearest free slot: {len(consultants)} consultants × {len(days)} working days, "
        f"{args.slot_minutes}-min slots = {n:,} slots; {len(active):,} active + {history:,} "
        "cancelled/rescheduled bookings",
        f"{calls} calls each with `after` spread over the two months (setup {setup_s:.0f} s, "
        "not timed). Raw: the same query by hand"
        + (" (Slot.is_booked flag + NOT EXISTS)." if flag else " (NOT EXISTS)."),
    )
    for key, label in (("service", "p95, any consultant"), ("consultant", "p95, one consultant")):
        o, r = result["opora"][key], result["raw"][key]
        report(label, o["p95_ms"], r["p95_ms"], "≤ 20 ms", o["p95_ms"] <= 20, "ms")
        report(
            f"  p50 / max ({key})",
            f"{o['p50_ms']:.2f} / {o['max_ms']:.1f} ms",
            f"{r['p50_ms']:.2f} / {r['max_ms']:.1f} ms",
            "",
            None,
        )
    return result


# --- c. registry import -------------------------------------------------------------------------


def cbd_csv(rows: int) -> Path:
    """A ЦБД file of `rows` synthetic rows with valid, unique IINs; cached under var/bench/."""
    from opora.demo.management.commands.demo import FEMALE_NAMES, MALE_NAMES, SURNAMES
    from opora.registry.iin import make_iin
    from opora.registry.importer import COLUMNS

    path = VAR / f"cbd-{rows}.csv"
    if path.exists():
        return path
    VAR.mkdir(parents=True, exist_ok=True)
    say(f"   generating {path.relative_to(ROOT)} ({rows:,} rows, cached for later runs) …")
    rng = random.Random(1411)
    parent_start, parent_days = dt.date(1972, 1, 1), 10_000  # born 1972–1999
    child_start, child_days = dt.date(2008, 1, 1), 6_000  # born 2008–2024

    def iin(start: dt.date, ndays: int, i: int, sex: str) -> str | None:
        # (day, serial block) is unique per i, so the IINs are unique without a lookup table.
        day = start + dt.timedelta(days=i % ndays)
        base = (i // ndays) * 4
        for attempt in range(4):
            value = make_iin(day, sex, base + attempt)
            if value is not None:
                return value
        return None

    tmp = path.with_suffix(".tmp")
    written = i = 0
    choice, random_ = rng.choice, rng.random
    with tmp.open("w", encoding="utf-8") as f:
        f.write(",".join(COLUMNS["cbd"]) + "\n")
        while written < rows:
            sex = "F" if random_() < 0.8 else "M"
            parent = iin(parent_start, parent_days, i, sex)
            child = iin(child_start, child_days, i, choice("MF"))
            i += 1
            if parent is None or child is None:
                continue
            surname = choice(SURNAMES)[0 if sex == "M" else 1]
            first = choice(FEMALE_NAMES if sex == "F" else MALE_NAMES)
            father = choice(MALE_NAMES)
            patr = father + ("овна" if sex == "F" else "ович")
            relation = "мать" if sex == "F" else "отец"
            status = "active" if random_() < 0.85 else "inactive"
            f.write(f"{parent},{surname},{first},{patr},{child},{relation},{status}\n")
            written += 1
    tmp.rename(path)
    return path


RAW_REGISTRY_DDL = (
    "CREATE TABLE bench_raw_registry (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, "
    "source varchar(4) NOT NULL DEFAULT 'cbd', iin varchar(12) COLLATE \"C\" NOT NULL, "
    "child_iin varchar(12) COLLATE \"C\" NOT NULL DEFAULT '', last_name varchar(150) NOT NULL, "
    "first_name varchar(150) NOT NULL, patronymic varchar(150) NOT NULL DEFAULT '', "
    "relation varchar(64) NOT NULL DEFAULT '', status varchar(16) NOT NULL DEFAULT '', "
    "birth_date date, category varchar(64) NOT NULL DEFAULT '', valid_until date, "
    "updated_at timestamptz NOT NULL DEFAULT now())"
)


def bench_import(args: argparse.Namespace) -> dict[str, Any]:
    from django.db import connection

    from opora.registry.importer import COLUMNS, import_workers
    from opora.registry.services import registry_import

    t0 = time.perf_counter()
    path = cbd_csv(args.rows)
    gen_s = time.perf_counter() - t0
    size_mb = path.stat().st_size / 1e6

    t0 = time.perf_counter()
    run = registry_import(source="cbd", path=path)
    first_s = time.perf_counter() - t0
    if run.status != "done":
        raise RuntimeError(f"registry_import ended {run.status}: {run.errors[:3]}")
    t0 = time.perf_counter()
    again = registry_import(source="cbd", path=path)
    again_s = time.perf_counter() - t0
    connection.close()

    def copy_file(conn: Any, sql: str) -> float:
        t0 = time.perf_counter()
        with conn.cursor().copy(sql) as copy, path.open("rb") as f:
            while block := f.read(1 << 20):
                copy.write(block)
        return time.perf_counter() - t0

    cols = ", ".join(f"{c} text" for c in COLUMNS["cbd"])
    with raw_connect() as conn:
        # As asked: the plain COPY of the file, the floor of any import.
        conn.execute(f"CREATE UNLOGGED TABLE bench_raw_cbd ({cols})")
        raw_s = copy_file(conn, "COPY bench_raw_cbd FROM STDIN (FORMAT csv, HEADER true)")
        raw_rows = conn.execute("SELECT count(*) FROM bench_raw_cbd").fetchone()[0]
        conn.execute("DROP TABLE bench_raw_cbd")
        # The same storage work as the real import: a logged table shaped like the registry, with
        # its unique key and indexes, loaded straight from the file (no validation, no upsert).
        # The registry's shape before encryption (its table now holds sealed values instead).
        conn.execute(RAW_REGISTRY_DDL)
        conn.execute(
            "CREATE UNIQUE INDEX ON bench_raw_registry (source, iin, child_iin); "
            "CREATE INDEX ON bench_raw_registry (iin); CREATE INDEX ON bench_raw_registry (child_iin)"
        )
        indexed_s = copy_file(
            conn,
            "COPY bench_raw_registry (iin, last_name, first_name, patronymic, child_iin, relation, "
            "status) FROM STDIN (FORMAT csv, HEADER true)",
        )
        conn.execute("DROP TABLE bench_raw_registry")
        # The bulk-load way for an empty registry: COPY into the bare table, then build the indexes.
        conn.execute(
            RAW_REGISTRY_DDL.replace(
                "id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
                "id bigint GENERATED BY DEFAULT AS IDENTITY",
            )
        )
        t0 = time.perf_counter()
        copy_file(
            conn,
            "COPY bench_raw_registry (iin, last_name, first_name, patronymic, child_iin, relation, "
            "status) FROM STDIN (FORMAT csv, HEADER true)",
        )
        conn.execute("ALTER TABLE bench_raw_registry ADD PRIMARY KEY (id)")
        conn.execute("CREATE UNIQUE INDEX ON bench_raw_registry (source, iin, child_iin)")
        conn.execute("CREATE INDEX ON bench_raw_registry (iin)")
        conn.execute("CREATE INDEX ON bench_raw_registry (child_iin)")
        bulk_s = time.perf_counter() - t0
        conn.execute("DROP TABLE bench_raw_registry")

    result = {
        "rows": args.rows,
        "file_mb": round(size_mb, 1),
        "generate_s": round(gen_s, 1),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "opora": {
            # The processes that read, check and seal the file beside the one streaming the COPY.
            "sealing_workers": import_workers(),
            "rows_loaded": run.rows_loaded,
            "rows_rejected": run.rows_rejected,
            "seconds": round(first_s, 2),
            "rows_per_s": round(run.rows_loaded / first_s),
            "reimport_seconds": round(again_s, 2),
            "reimport_rows_per_s": round(again.rows_read / again_s),
        },
        "raw": {
            "rows": raw_rows,
            "seconds": round(raw_s, 2),
            "rows_per_s": round(raw_rows / raw_s),
            "indexed_table_seconds": round(indexed_s, 2),
            "indexed_table_rows_per_s": round(raw_rows / indexed_s),
            "copy_then_index_seconds": round(bulk_s, 2),
            "copy_then_index_rows_per_s": round(raw_rows / bulk_s),
        },
    }
    header(
        f"c. registry import: {args.rows:,}-row ЦБД CSV ({size_mb:.0f} MB) into an empty registry",
        "Opora: registry_import (validate every IIN and name, COPY to staging, upsert, indexes); "
        "raw: COPY into an unlogged table of text columns, no indexes; then the same storage work "
        "as the import: a logged table shaped like the registry, indexed before or after the COPY.",
    )
    o, r = result["opora"], result["raw"]
    report(
        "rows/s",
        float(o["rows_per_s"]),
        float(r["rows_per_s"]),
        "≥ 100k/s",
        o["rows_per_s"] >= TARGETS["import_rate"],
        "/s",
    )
    report("seconds", o["seconds"], r["seconds"], "", None, "s")
    report(
        "raw COPY into the indexed table",
        None,
        float(r["indexed_table_rows_per_s"]),
        "",
        None,
        "/s",
    )
    report(
        "raw COPY, then build the indexes",
        None,
        float(r["copy_then_index_rows_per_s"]),
        "",
        None,
        "/s",
    )
    report(
        "rows loaded / rejected",
        f"{o['rows_loaded']:,} / {o['rows_rejected']}",
        f"{raw_rows:,}",
        "",
        None,
    )
    report("re-import, unchanged (rows/s)", float(o["reimport_rows_per_s"]), None, "", None, "/s")
    report("sealing worker processes", o["sealing_workers"], None, "", None)
    return result


# --- d. IIN lookup ------------------------------------------------------------------------------


def bench_lookup(args: argparse.Namespace) -> dict[str, Any]:
    from django.db import connection

    from opora.registry.adapters import get_registry_adapter
    from opora.registry.iin import make_iin
    from opora.registry.models import RegistryRecord

    total = RegistryRecord.objects.count()
    if total < args.rows:
        from opora.registry.services import registry_import

        say("   loading the registry first (not timed) …")
        registry_import(source="cbd", path=cbd_csv(args.rows))
        vacuum_analyze("registry_registryrecord")
        total = RegistryRecord.objects.count()
    else:
        vacuum_analyze("registry_registryrecord")

    rng = random.Random(2000)
    n = args.lookups
    # The IINs are sealed in the table: the present ones are read from the file it was loaded from.
    with cbd_csv(args.rows).open(encoding="utf-8") as f:
        lines = f.read().splitlines()[1:]
    picked = [lines[rng.randrange(len(lines))].split(",") for _ in range(n)]
    pairs = [(row[0], row[4]) for row in picked]
    hits = [iin if rng.random() < 0.7 else child for iin, child in pairs][: n // 2]
    misses = []
    while len(misses) < n - len(hits):
        # Born 1940–1959: nobody in the synthetic registry is.
        born = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(7300))
        value = make_iin(born, rng.choice("MF"), rng.randrange(10_000))
        if value:
            misses.append(value)
    iins = hits + misses
    rng.shuffle(iins)

    def measure(fn: Callable[[str], list]) -> tuple[list[float], int]:
        for value in misses[:50]:  # warm-up
            fn(value)
        times, found = [], 0
        for value in iins:
            t0 = time.perf_counter()
            found += bool(fn(value))
            times.append(time.perf_counter() - t0)
        return times, found

    dj, dj_found = measure(lambda v: get_registry_adapter().lookup(v))
    connection.close()
    # The raw query: the same index lookup by the blind index (the hash computed in Python, as
    # the adapter does), without unsealing the rows.
    from opora.core.crypto import blind_index

    sql = (
        "SELECT source, sealed, status, id FROM registry_registryrecord "
        "WHERE iin_bidx = %s OR child_iin_bidx = %s ORDER BY source, id"
    )
    with raw_connect() as conn:

        def raw_lookup(v: str) -> list:
            h = blind_index("iin", v)
            return conn.execute(sql, [h, h], prepare=True).fetchall()

        raw, raw_found = measure(raw_lookup)

    result = {
        "registry_rows": total,
        "lookups": len(iins),
        "hits_asked": len(hits),
        "opora": {**latency_stats(dj), "found": dj_found},
        "raw": {**latency_stats(raw), "found": raw_found},
    }
    header(
        f"d. IIN lookup in a {total:,}-row registry: {len(iins)} IINs, {len(hits)} present "
        "(as recipient or child), the rest absent",
        "Opora: get_registry_adapter().lookup(iin); raw: SELECT … WHERE iin = %s OR child_iin = %s.",
    )
    o, r = result["opora"], result["raw"]
    report("p95", o["p95_ms"], r["p95_ms"], "≤ 2 ms", o["p95_ms"] <= TARGETS["lookup_p95_ms"], "ms")
    report(
        "p50 / max",
        f"{o['p50_ms']:.2f} / {o['max_ms']:.1f} ms",
        f"{r['p50_ms']:.2f} / {r['max_ms']:.1f} ms",
        "",
        None,
    )
    report("found", o["found"], r["found"], f"= {len(hits)}", o["found"] == len(hits))
    return result


def markdown_table(info: dict[str, Any]) -> str:
    def cell(value: Any, unit: str) -> str:
        return fmt(value, unit).replace("|", "/")

    lines = [
        f"Machine: {info['cpu']}, {info['cores']} cores, {info['ram_gb']} GB RAM, PostgreSQL "
        f"{info['postgresql'].split()[0]}, Python {info['python']}, Django {info['django']}; "
        f"load average at start {' '.join(map(str, info['load_average']))}.",
        "",
        "| measure | Opora (Django) | raw SQL (psycopg) | target | |",
        "|---|---:|---:|---|---|",
    ]
    for row in ROWS:
        verdict = {True: "met", False: "**missed**", None: ""}[row["ok"]]
        lines.append(
            f"| {row['section']}: {row['measure'].strip()} | {cell(row['opora'], row['unit'])} | "
            f"{cell(row['raw'], row['unit'])} | {row['target']} | {verdict} |"
        )
    return "\n".join(lines) + "\n"


# --- main ---------------------------------------------------------------------------------------


def bench_ws(args: argparse.Namespace) -> dict[str, Any]:
    """The room WebSocket relay and the first remote video frame: bench/ws.py."""
    sys.path.insert(0, str(ROOT / "bench"))
    import ws

    return ws.run(args, sys.modules[__name__])


def run_json(script: str, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Runs bench/<script> in its own process (its own settings and database) and returns the one
    JSON object it prints last."""
    import subprocess

    done = subprocess.run(  # noqa: S603 - our own benchmark scripts
        [sys.executable, str(ROOT / "bench" / script), *args, "--json"],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench/{script} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def bench_startup(args: argparse.Namespace) -> dict[str, Any]:
    """`make run` to the first page, cold and warm: bench/startup.py (embedded default)."""
    result = run_json("startup.py", "--warm-runs", str(args.startup_runs))
    header(
        "f. startup: `make run` to the first page (/healthz, then /s/ answer 200)",
        "embedded default (SQLite), own var/; cold: empty var/ (every migration, static files, "
        "demo); warm: the same again. The venv is installed in both.",
    )
    target = result["target_warm_s"]
    report("cold", result["cold_s"], None, "", None, "s")
    report(
        f"warm, median of {len(result['warm_s'])}",
        result["warm_median_s"],
        None,
        f"≤ {target:.0f} s",
        result["warm_median_s"] <= target,
        "s",
    )
    report("warm, slowest", result["warm_max_s"], None, f"≤ {target:.0f} s", None, "s")
    for step in result["cold_steps"] + result["warm_steps"]:
        say(f"    {step}")
    return result


def bench_signin(args: argparse.Namespace) -> dict[str, Any]:
    """The sign-in POST with the local settings (SQLite) and production's (PostgreSQL, Redis):
    bench/signin.py."""
    runs = {"local": run_json("signin.py", "--n", str(args.signins))}
    if os.environ.get("OPORA_TEST_REDIS_URL"):
        runs["production"] = run_json(
            "signin.py",
            "--n",
            str(args.signins),
            "--settings",
            "opora.settings.production",
            env={"REDIS_URL": os.environ["OPORA_TEST_REDIS_URL"]},
        )
    header(
        f"g. signin: {args.signins} staff sign-ins (POST /login/ through the whole stack)",
        f"Django's test client in-process; password hasher {runs['local']['hasher']}; "
        "the PBKDF2 column: Django's default (1,000,000 iterations), one hash",
    )
    for name, r in runs.items():
        target = r["target_ms"]
        report(
            f"sign-in median [{name}]",
            r["median_ms"],
            None,
            f"≤ {target:.0f} ms",
            r["median_ms"] <= target,
            "ms",
        )
        report(
            f"sign-in p95 [{name}]",
            r["p95_ms"],
            None,
            f"≤ {target:.0f} ms",
            r["p95_ms"] <= target,
            "ms",
        )
        report(f"one hash [{name}]", r["hasher_ms"], r["pbkdf2_ms"], "", None, "ms")
        report(
            f"first sign-in on a PBKDF2 hash [{name}]", r["legacy_first_ms"], None, "", None, "ms"
        )
    return runs


def bench_waves(args: argparse.Namespace) -> dict[str, Any]:
    """Waves of simultaneous requests on uvicorn with production's settings, with the connection
    pool and without it (persistent connections): bench/load_waves.py."""
    result = run_json(
        "load_waves.py",
        "--waves",
        str(args.waves),
        "--concurrency",
        str(args.wave_requests),
        "--workers",
        str(args.wave_workers),
    )
    header(
        f"h. waves: {args.waves} waves of {args.wave_requests} simultaneous requests "
        f"(/s/<code>/ and /healthz) on uvicorn, {args.wave_workers} workers",
        f"production settings; PostgreSQL max_connections={result['max_connections']}; "
        "connections: the web workers' server connections (pg_stat_activity), most at once",
    )
    for mode in result["modes"]:
        pooled = mode["mode"] == "pool"
        for i, wave in enumerate(mode["waves"], 1):
            bad = wave["5xx"] + wave["failed"]
            report(
                f"5xx or failed, wave {i} [{mode['mode']}]",
                bad,
                None,
                "= 0" if pooled else "",
                bad == 0 if pooled else None,
            )
        report(
            f"server connections, most [{mode['mode']}]",
            mode["connections_peak"],
            None,
            f"≤ {args.wave_workers * 10}" if pooled else "",
            mode["connections_peak"] <= args.wave_workers * 10 if pooled else None,
        )
        report(
            f"server connections left open [{mode['mode']}]",
            mode["connections_after"],
            None,
            "",
            None,
        )
    return result


def bench_export(args: argparse.Namespace) -> dict[str, Any]:
    """A streamed XLSX export of 100k journal rows, its peak memory and time: bench/bench_export.py
    (its own database; the export in a fresh process)."""
    result = run_json("bench_export.py", "--rows", str(args.export_rows))
    header(
        "i. export: the requests journal (002) of 30 days as XLSX, streamed",
        f"{args.export_rows:,} requests of one service; openpyxl write-only, rows by iterator(), "
        "a temporary file; peak RSS of the exporting process (Django included).",
    )
    for r in result["exports"]:
        xlsx = r["format"] == "xlsx"
        report(
            f"{r['format']}: peak memory",
            r["peak_rss_mb"],
            None,
            "≤ 200 MB" if xlsx else "",
            (r["peak_rss_mb"] <= 200) if xlsx else None,
            "MB",
        )
        report(f"{r['format']}: {r['journal_rows']:,} rows", r["seconds"], None, "", None, "s")
    return result


def bench_janus(args: argparse.Namespace) -> dict[str, Any]:
    """Group rooms through Janus: one presenter, 10…100 aiortc receivers, beside the 1:1 peer-to-peer
    figure of the same run: bench/bench_janus.py (its own Janus; results also in var/bench/janus.json)."""
    import shutil

    if not (shutil.which("janus") or os.path.exists("/usr/bin/janus")):
        say("\n== janus: skipped, no Janus on this machine (apt-get install janus)")
        return {"skipped": "no janus binary"}
    extra = ["--quick"] if args.janus_quick else ["--tiers", args.janus_tiers]
    result = run_json("bench_janus.py", *extra)
    p2p = result["peer_to_peer"]
    header(
        "j. janus: one presenter, N receivers through Janus (VideoRoom), aiortc on loopback",
        f"Janus {result['janus_version']}; {result['options']['width']}x{result['options']['height']} "
        f"at {result['options']['fps']} fps VP8 + Opus; window {result['options']['window']:.0f} s; "
        "the receivers share the 2 cores with Janus. 'raw': the 1:1 peer-to-peer figure",
    )
    for tier in result["tiers"]:
        n = tier["receivers"]
        report(
            f"first frame p50 [{n}]", tier["first_frame_p50_s"], p2p["first_frame_s"], "", None, "s"
        )
        report(f"first frame p95 [{n}]", tier["first_frame_p95_s"], None, "", None, "s")
        report(
            f"fps per receiver, median [{n}]",
            tier["fps_p50"],
            p2p["fps"],
            f"≥ {0.9 * tier['sent_fps']:.1f}",
            tier["holds"],
        )
        report(f"Janus CPU, % of a core [{n}]", tier["janus_cpu_pct"], None, "", None, "%")
    return result


def run_relayed(script: str, *args: str) -> int:
    """Runs bench/<script> in its own process (its own database) and relays what it prints."""
    import subprocess

    done = subprocess.run(  # noqa: S603 - our own benchmark scripts
        [sys.executable, str(ROOT / "bench" / script), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    for line in (done.stdout + done.stderr).splitlines():
        if "AXES:" not in line:
            say("   " + line)
    return done.returncode


def bench_reports(args: argparse.Namespace) -> dict[str, Any]:
    """The monthly 1411 report (3.1–3.4) beside hand-written SQL: bench/bench_reports.py (its own
    database, generated in PostgreSQL; `--reports-requests 2000000` is the issue's size)."""
    header(
        f"k. reports: the 1411 report of a month, {args.reports_requests:,} requests over 12 months",
        "the month's stored figures rebuilt (GROUPING SETS) and each form as met (clean month), "
        "beside hand-written SQL of the same figures; before: counted live",
    )
    rc = run_relayed("bench_reports.py", "--requests", str(args.reports_requests), "--months", "12")
    if rc:
        raise RuntimeError(f"bench/bench_reports.py exited with {rc}")
    return json.loads((ROOT / "var" / "bench" / "reports.json").read_text())


def bench_dashboards(args: argparse.Namespace) -> dict[str, Any]:
    """The head's dashboard page beside hand-written SQL: bench/bench_dashboards.py (its own
    database; `--dashboards-requests 2000000` is the issue's size)."""
    header(
        f"l. dashboards: the head's page of 30 days, {args.dashboards_requests:,} requests",
        "every selector from the daily roll-up and the whole page (test client), beside "
        "hand-written SQL",
    )
    rc = run_relayed("bench_dashboards.py", "--requests", str(args.dashboards_requests))
    if rc:
        raise RuntimeError(f"bench/bench_dashboards.py exited with {rc}")
    return json.loads((ROOT / "var" / "bench" / "dashboards.json").read_text())


BENCHES = {
    "race": bench_race,
    "nearest": bench_nearest,
    "import": bench_import,
    "lookup": bench_lookup,
    "ws": bench_ws,
    "startup": bench_startup,
    "signin": bench_signin,
    "waves": bench_waves,
    "export": bench_export,
    "janus": bench_janus,
    "reports": bench_reports,
    "dashboards": bench_dashboards,
}


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default=",".join(ALL), help="comma-separated: " + ",".join(ALL))
    parser.add_argument("--rows", type=int, default=1_000_000, help="registry rows (1,000,000)")
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--slots", type=int, default=50)
    parser.add_argument(
        "--race-processes",
        type=int,
        default=os.cpu_count() or 1,
        help="spread the race's client threads over N processes, like N web workers (cores)",
    )
    parser.add_argument(
        "--race-mode",
        choices=("once", "retry"),
        default="once",
        help="once: every client presses «book» once; retry: re-list and retry until none left",
    )
    parser.add_argument(
        "--race-threads",
        type=int,
        default=0,
        help="0: a thread per client; N: N worker threads per process take the clients from a "
        "queue, as a web worker's thread pool serves HTTP requests",
    )
    parser.add_argument(
        "--race-connections",
        choices=("warm", "cold"),
        default="warm",
        help="warm: each client's connection has served its screen (the free slots) before, as "
        "a web worker's persistent connection has; cold: brand-new server processes",
    )
    parser.add_argument("--consultants", type=int, default=300)
    parser.add_argument("--slot-minutes", type=int, default=30)
    parser.add_argument("--bookings", type=int, default=100_000)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--lookups", type=int, default=2000)
    parser.add_argument("--ws-pairs", type=int, default=500, help="ws: rooms (2 sockets each)")
    parser.add_argument(
        "--ws-spread", type=float, default=10.0, help="ws: seconds over which pairs start relaying"
    )
    parser.add_argument("--startup-runs", type=int, default=3, help="startup: warm runs (3)")
    parser.add_argument("--signins", type=int, default=20, help="signin: sign-ins timed (20)")
    parser.add_argument("--waves", type=int, default=3, help="waves: waves of requests (3)")
    parser.add_argument(
        "--wave-requests", type=int, default=400, help="waves: simultaneous requests a wave (400)"
    )
    parser.add_argument(
        "--wave-workers", type=int, default=4, help="waves: uvicorn workers (4, as deploy/)"
    )
    parser.add_argument(
        "--export-rows", type=int, default=100_000, help="export: journal rows (100,000)"
    )
    parser.add_argument(
        "--reports-requests", type=int, default=200_000, help="reports: requests (200,000)"
    )
    parser.add_argument(
        "--dashboards-requests", type=int, default=200_000, help="dashboards: requests (200,000)"
    )
    parser.add_argument(
        "--janus-tiers", default="10,25,50,75,100", help="janus: receivers per tier (10,…,100)"
    )
    parser.add_argument("--janus-quick", action="store_true", help="janus: 3 receivers, 5 s")
    parser.add_argument("--keep-db", action="store_true", help=f"keep {BENCH_DB} afterwards")
    args = parser.parse_args(argv)
    args.only = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = set(args.only) - set(ALL)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    server_url = os.environ.get("DATABASE_URL", "")
    if not server_url.startswith(("postgres://", "postgresql://")):
        say("bench: DATABASE_URL must point to a PostgreSQL server (make bench sets it).")
        return 2
    recreate_database(server_url)
    os.environ["DATABASE_URL"] = with_database(server_url, BENCH_DB)
    os.environ["DJANGO_SETTINGS_MODULE"] = "opora.settings.test"

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    use_broker()

    started = time.perf_counter()
    info = machine()
    say(f"Opora benchmarks — {dt.datetime.now():%Y-%m-%d %H:%M}")
    say(
        f"machine: {info['cpu']}, {info['cores']} cores, {info['ram_gb']} GB RAM; "
        f"PostgreSQL {info['postgresql']} "
        f"({', '.join(f'{k}={v}' for k, v in info['postgresql_settings'].items())}); "
        f"Python {info['python']}, Django {info['django']}; "
        f"load average {' '.join(map(str, info['load_average']))}"
    )
    results: dict[str, Any] = {}
    failed = []
    for name in ALL:
        if name not in args.only:
            continue
        t0 = time.perf_counter()
        try:
            results[name] = BENCHES[name](args)
            results[name]["bench_seconds"] = round(time.perf_counter() - t0, 1)
        except NotImplementedError:
            say(f"\n== {name}: the Opora code it measures is not implemented yet; skipped.")
            results[name] = {"error": "not implemented"}
            failed.append(name)
        except Exception as exc:  # noqa: BLE001 - one failing benchmark must not hide the others
            say(f"\n== {name}: FAILED: {exc}")
            traceback.print_exc()
            results[name] = {"error": f"{type(exc).__name__}: {exc}"}
            failed.append(name)

    total = time.perf_counter() - started
    missed = [f"{r['section']}: {r['measure']}" for r in ROWS if r["ok"] is False]
    say()
    say(
        f"total {total:.0f} s; targets missed: {', '.join(missed) or 'none'}; "
        f"failed: {', '.join(failed) or 'none'}"
    )
    VAR.mkdir(parents=True, exist_ok=True)
    out = VAR / "results.json"
    out.write_text(
        json.dumps(
            {
                "started": dt.datetime.now().isoformat(timespec="seconds"),
                "machine": info,
                "options": {k: v for k, v in vars(args).items()},
                "targets": TARGETS,
                "results": results,
                "table": ROWS,
                "total_seconds": round(total, 1),
            },
            ensure_ascii=False,
            indent=2,
            default=str,
        )
    )
    (VAR / "results.md").write_text(markdown_table(info))
    say(f"results: {out.relative_to(ROOT)} (and results.md, the table for docs/PERFORMANCE.md)")

    from django.db import connections

    purge_broker()
    connections.close_all()
    if not args.keep_db:
        drop_database(server_url)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
