"""The monthly 1411 report beside hand-written SQL of the same figures (issue 11).

    .venv/bin/python bench/bench_reports.py [--requests 20000] [--consultants 40] [--repeat 5]
                                            [--keep-db]

Uses the server of DATABASE_URL with its own database `opora_bench_reports` (dropped and created
anew). It loads one month of a 1411 service — requests (30 % of people with two), their hand-off
runs and items, half of them served in ended consultations — with COPY, then times:
- Opora: `reports.figures.measure_figures` (total and the region, consultant and day breakdowns:
  four GROUP BY queries) for 3.3 (handed over) and 3.4 (persons served);
- raw: the same figures in hand-written SQL through psycopg (no Django);
and checks that both give the same numbers. The default size is small; the issue's targets are
for 2M requests and 1M consultations (`--requests 2000000`; minutes of loading). Method:
docs/PERFORMANCE.md; results also in var/bench/reports.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import secrets
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import run as harness  # noqa: E402  (bench/run.py: COPY, database and printing helpers)

BENCH_DB = os.environ.get("OPORA_BENCH_REPORTS_DB", "opora_bench_reports")
MONTH = dt.date(2026, 3, 1)
TARGET_SECONDS = 1.0
TARGET_RATIO = 1.5

RAW_HANDED = """
WITH items AS (
  SELECT sr.id AS req, sr.client_id AS client, r.code AS region, hr.date AS day,
         (SELECT s.consultant_id FROM scheduling_booking b JOIN scheduling_slot s ON s.id = b.slot_id
           WHERE b.request_id = sr.id AND b.status = 'active' LIMIT 1) AS consultant
  FROM scheduling_handoffitem hi
  JOIN scheduling_handoffrun hr ON hr.id = hi.run_id
  JOIN intake_servicerequest sr ON sr.id = hi.request_id
  LEFT JOIN core_region r ON r.id = sr.region_id
  WHERE hr.service_id = %(service)s AND hr.sent_at IS NOT NULL
    AND hr.date >= %(first)s AND hr.date < %(next)s
)
SELECT {key}, count(DISTINCT req),
       count(DISTINCT client) + count(DISTINCT req) FILTER (WHERE client IS NULL)
FROM items GROUP BY 1
"""

RAW_SERVED = """
WITH served AS (
  SELECT sr.id AS req, sr.client_id AS client, r.code AS region, s.consultant_id AS consultant,
         (c.ended_at AT TIME ZONE %(tz)s)::date AS day
  FROM consultations_consultation c
  JOIN scheduling_booking b ON b.id = c.booking_id
  JOIN intake_servicerequest sr ON sr.id = b.request_id
  JOIN scheduling_slot s ON s.id = b.slot_id
  LEFT JOIN core_region r ON r.id = sr.region_id
  WHERE sr.service_id = %(service)s AND c.status = 'ended'
    AND c.ended_at >= %(start)s AND c.ended_at < %(end)s
)
SELECT {key}, count(DISTINCT req),
       count(DISTINCT client) + count(DISTINCT req) FILTER (WHERE client IS NULL)
FROM served GROUP BY 1
"""

KEYS = {
    "total": "'all'::text",
    "by_region": "region",
    "by_consultant": "consultant",
    "by_day": "day",
}


def load(requests: int, consultants: int) -> Any:
    from opora.accounts.models import Role
    from opora.consultations.models import Consultation
    from opora.core.models import Region
    from opora.demo.factories import make_service_1411, make_user
    from opora.intake.models import Client, ServiceRequest
    from opora.reports.figures import month_bounds
    from opora.scheduling.models import Booking, HandoffItem, HandoffRun, Schedule, Slot

    rnd = random.Random(1411)
    service = make_service_1411()
    staff = [
        make_user(Role.CONSULTANT, service=service, organisation=service.provider_organisation)
        for _ in range(consultants)
    ]
    regions = list(Region.objects.filter(country="KZ").values_list("pk", flat=True)) or [None]
    start, end = month_bounds(service, MONTH)
    span = (end - start).total_seconds()
    people = max(1, int(requests * 0.7))
    harness.copy_rows(
        Client, ({"last_name": f"Клиентова{i}", "first_name": "Анна"} for i in range(people))
    )
    client_ids = list(Client.objects.order_by("pk").values_list("pk", flat=True))
    times = sorted(start + dt.timedelta(seconds=rnd.random() * span) for _ in range(requests))
    harness.copy_rows(
        ServiceRequest,
        (
            {
                "service_id": service.pk,
                "client_id": None if i % 10 == 0 else client_ids[rnd.randrange(people)],
                "region_id": rnd.choice(regions),
                "created_at": when,
                "status": "done",
                "full_name": "Заявителева Мария",
            }
            for i, when in enumerate(times)
        ),
    )
    reqs = list(ServiceRequest.objects.order_by("created_at").values_list("pk", "created_at"))
    days = sorted({when.astimezone(service.tz).date() for _, when in reqs})
    harness.copy_rows(
        HandoffRun,
        ({"service_id": service.pk, "date": d, "sent_at": end, "recipients": "[]"} for d in days),
    )
    run_of = dict(HandoffRun.objects.values_list("date", "pk"))
    harness.copy_rows(
        HandoffItem,
        (
            {"run_id": run_of[when.astimezone(service.tz).date()], "request_id": pk}
            for pk, when in reqs
        ),
    )
    served = [pk for pk, _ in reqs if rnd.random() < 0.5]
    harness.copy_rows(
        Schedule,
        (
            {"service_id": service.pk, "consultant_id": u.pk, "month": MONTH, "status": "approved"}
            for u in staff
        ),
    )
    schedule_of = dict(Schedule.objects.values_list("consultant_id", "pk"))
    step = span / max(1, len(served))
    slots = []
    for i, _pk in enumerate(served):
        consultant = staff[i % len(staff)]
        at = start + dt.timedelta(seconds=i * step)
        slots.append(
            {
                "service_id": service.pk,
                "consultant_id": consultant.pk,
                "schedule_id": schedule_of[consultant.pk],
                "starts_at": at,
                "ends_at": at + dt.timedelta(seconds=max(1.0, step / 2)),
                "is_open": False,
                "is_booked": True,
            }
        )
    harness.copy_rows(Slot, slots)
    slot_ids = list(Slot.objects.order_by("starts_at").values_list("pk", "ends_at"))
    harness.copy_rows(
        Booking,
        (
            {"slot_id": s, "request_id": r, "status": "active"}
            for (s, _), r in zip(slot_ids, served, strict=True)
        ),
    )
    harness.copy_rows(
        Consultation,
        (
            {
                "booking_id": b,
                "status": "ended" if rnd.random() < 0.9 else "no_show",
                "client_token": secrets.token_hex(16),
                "started_at": ends - dt.timedelta(minutes=1),
                "ended_at": ends,
            }
            for b, ends in Booking.objects.order_by("slot__starts_at").values_list(
                "pk", "slot__ends_at"
            )
        ),
    )
    harness.vacuum_analyze(
        "intake_client",
        "intake_servicerequest",
        "scheduling_handoffrun",
        "scheduling_handoffitem",
        "scheduling_slot",
        "scheduling_booking",
        "consultations_consultation",
    )
    return service


def raw_figures(conn: Any, service: Any, sql: str) -> dict[str, dict[Any, tuple[int, int]]]:
    from opora.reports.figures import month_bounds, next_month

    start, end = month_bounds(service, MONTH)
    params = {
        "service": service.pk,
        "first": MONTH,
        "next": next_month(MONTH),
        "start": start,
        "end": end,
        "tz": service.time_zone,
    }
    out = {}
    for name, key in KEYS.items():
        rows = conn.execute(sql.format(key=key), params).fetchall()
        out[name] = {row[0]: (row[1], row[2]) for row in rows}
    return out


def timed(fn: Any, repeat: int) -> tuple[float, Any]:
    seconds, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        seconds.append(time.perf_counter() - t0)
    return statistics.median(seconds), result


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--consultants", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args(argv)
    server_url = os.environ.get("DATABASE_URL", "")
    if not server_url.startswith(("postgres://", "postgresql://")):
        harness.say("bench: DATABASE_URL must point to a PostgreSQL server.")
        return 2
    harness.BENCH_DB = BENCH_DB  # the helpers' database: ours, not the main benchmark's
    harness.recreate_database(server_url)
    os.environ["DATABASE_URL"] = harness.with_database(server_url, BENCH_DB)
    os.environ["DJANGO_SETTINGS_MODULE"] = "opora.settings.test"
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from opora.reports.figures import HANDED_OVER, SERVED, measure_figures

    t0 = time.perf_counter()
    service = load(args.requests, args.consultants)
    harness.say(f"loaded {args.requests} requests in {time.perf_counter() - t0:.1f} s")
    results: dict[str, Any] = {"requests": args.requests, "consultants": args.consultants}
    ok = True
    for form, measure, sql in (("3.3", HANDED_OVER, RAW_HANDED), ("3.4", SERVED, RAW_SERVED)):
        opora_s, figures = timed(
            lambda m=measure: measure_figures(service, MONTH, m, coded=False), args.repeat
        )
        with harness.raw_connect() as conn:  # connected once, as Django's connection is
            raw_s, raw = timed(lambda q=sql, c=conn: raw_figures(c, service, q), args.repeat)
        same = (figures["total"]["requests"], figures["total"]["persons"]) == raw["total"].get(
            "all", (0, 0)
        )
        same = same and len(figures["by_region"]) == len(raw["by_region"])
        same = same and len(figures["by_day"]) == len(raw["by_day"])
        ratio = opora_s / raw_s if raw_s else float("inf")
        passed = same and opora_s <= TARGET_SECONDS and ratio <= TARGET_RATIO
        ok = ok and passed
        harness.say(
            f"{form}: Opora {opora_s * 1000:.0f} ms, raw SQL {raw_s * 1000:.0f} ms, "
            f"×{ratio:.2f} (target ≤ {TARGET_SECONDS:.0f} s and ≤ ×{TARGET_RATIO}); "
            f"same figures: {same}; total {figures['total']}"
        )
        results[form] = {"opora_s": opora_s, "raw_s": raw_s, "ratio": ratio, "same": same}
    out = ROOT / "var" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "reports.json").write_text(json.dumps(results, indent=2, default=str))
    if not args.keep_db:
        from django.db import connections

        connections.close_all()
        harness.drop_database(server_url)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
