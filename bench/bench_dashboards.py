"""The dashboards' speed (issue 11: "a dashboard page ≤ 1 s" with 1M consultations and 2M requests):
each selector of `opora.journals.dashboards` beside a hand-written SQL `GROUP BY` of the same figure
(psycopg, no Django), and the whole page as a head sees it (Django's test client, rendering
included), on PostgreSQL. The page reads the daily roll-up (`opora.journals.rollups`): the script rebuilds it
(timed, with the 5-minute refresh) before measuring unless `--skip-rebuild`; "raw SQL" is then the
roll-up's totals summed by hand plus today's rows counted by hand, and "raw scan" the old
hand-written query over the whole period (`--no-scan` skips it). It checks that Opora's figures
equal the raw scan's (requests per day and per channel, services by kind and form, protocols by
topic) and exits with 1 if not.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/bench_dashboards.py [--requests 50000] [--days 30] [--repeat 5]
        [--keep-db] [--reuse-db]

`--requests 2000000` makes the issue's size: 2M requests over a year, half of them booked and held
(1M consultations), 80% of those with a protocol. The data is generated in the database
(`generate_series`, bench/synthetic.py), about 1 minute per million rows on 2 cores; `--keep-db`
keeps it and `--reuse-db` measures it again without regenerating. Uses its own database `opora_bench_dash`
on the server of DATABASE_URL. Results: printed, and in var/bench/dashboards.json. Method and
figures: docs/PERFORMANCE.md, "Dashboards".
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import synthetic  # noqa: E402  (bench/synthetic.py: the data, shared with bench_reports.py)
from run import machine, say, with_database  # noqa: E402  (the harness's helpers)

DB = os.environ.get("OPORA_BENCH_DASH_DB", "opora_bench_dash")
VAR = ROOT / "var" / "bench"
CONSULTANTS = 40  # per service
TZ = "Asia/Almaty"


def recreate(server_url: str) -> None:
    import psycopg

    with psycopg.connect(with_database(server_url, "postgres"), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB}")


def drop(server_url: str) -> None:
    import psycopg

    with psycopg.connect(with_database(server_url, "postgres"), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")


def generate(n: int) -> dict[str, Any]:
    """Two services, 40 consultants each, `n` requests over the last 365 days, half booked (one
    slot each, a few late), a consultation per booking, a protocol for 80% of them."""
    from django.db import connection

    from opora.accounts.models import Role
    from opora.demo.factories import (
        make_consultant,
        make_district_service,
        make_service_1411,
        make_user,
    )

    s1 = make_service_1411()
    s2 = make_district_service()
    head = make_user(Role.HEAD, service=s1, organisation=s1.provider_organisation)
    head.services.add(s2)
    consultants = [make_consultant(s).pk for s in (s1, s2) for _ in range(CONSULTANTS)]
    t0 = time.perf_counter()
    clients = max(n // 2, 1)
    params = {
        "n": n,
        "clients": clients,
        "s1": s1.pk,
        "s2": s2.pk,
        "services": [s1.pk, s2.pk],
        "staff": consultants,
        "staff_services": [s1.pk] * CONSULTANTS + [s2.pk] * CONSULTANTS,
        "k": CONSULTANTS,
    }
    with connection.cursor() as cur:
        params["rmin"], params["rmax"] = synthetic.regions(cur, kz_only=False)
        synthetic.clients(cur, clients)
        synthetic.requests(
            cur,
            params,
            status="CASE WHEN g %% 2 = 0 THEN 'done' WHEN g %% 11 = 0 THEN 'refused' ELSE 'new' END",
            refusal_ground="CASE WHEN g %% 2 <> 0 AND g %% 11 = 0"
            " THEN 'out_of_competence' ELSE '' END",
            created_at="now() - (g::float / %(n)s) * interval '365 days'",
            service_id="CASE WHEN g %% 3 = 0 THEN %(s2)s ELSE %(s1)s END",
            client_id="1 + (g::bigint * 7919) %% %(clients)s",
            region_id="%(rmin)s + g %% (%(rmax)s - %(rmin)s + 1)",
            kind="CASE WHEN g %% 10 = 0 THEN 'dispatcher' ELSE 'content' END",
            preferred_form="(ARRAY['video','voice','chat','phone','written'])[1 + g %% 5]",
            public_code="'B' || g",
        )
        synthetic.schedules(
            cur,
            params,
            first_month="date_trunc('month', now() - interval '365 days')",
            last_month="date_trunc('month', now())",
            submitted_at="m - interval '1 month' + interval '20 days'"
            " + mod(u.consultant_id, 9) * interval '1 day'",
        )
        # One slot per booked request (every second one): booked 0–14 days after the request,
        # held a day later.
        synthetic.slots(
            cur,
            params,
            starts_at="r.created_at + (r.id %% 15) * interval '1 day' + interval '1 day'",
            length="interval '1 hour'",
        )
        synthetic.bookings(cur, before="interval '1 day'")
        synthetic.consultations(cur, length="(30 + mod(s.id, 30)) * interval '1 minute'")
        synthetic.protocols(cur)
        synthetic.reset_sequences(cur)
        cur.execute("ANALYZE")
        cur.execute(
            "SELECT (SELECT count(*) FROM intake_servicerequest),"
            " (SELECT count(*) FROM consultations_consultation),"
            " (SELECT count(*) FROM consultations_protocol)"
        )
        requests, consultations, protocols = cur.fetchone()
    return {
        "requests": requests,
        "consultations": consultations,
        "protocols": protocols,
        "generate_s": round(time.perf_counter() - t0, 1),
        "services": [s1.pk, s2.pk],
        "head": head.pk,
    }


RAW = {
    "requests_per_day": """
        SELECT (created_at AT TIME ZONE %(tz)s)::date AS day, count(*),
               count(DISTINCT client_id) + count(*) FILTER (WHERE client_id IS NULL)
        FROM intake_servicerequest
        WHERE service_id = ANY(%(services)s) AND created_at >= %(start)s AND created_at < %(end)s
        GROUP BY 1 ORDER BY 1""",
    "requests_per_channel": """
        SELECT channel, count(*),
               count(DISTINCT client_id) + count(*) FILTER (WHERE client_id IS NULL)
        FROM intake_servicerequest
        WHERE service_id = ANY(%(services)s) AND created_at >= %(start)s AND created_at < %(end)s
        GROUP BY 1 ORDER BY 2 DESC""",
    "services_by_kind_and_form": """
        SELECT kind, preferred_form, count(*),
               count(DISTINCT client_id) + count(*) FILTER (WHERE client_id IS NULL)
        FROM intake_servicerequest
        WHERE service_id = ANY(%(services)s) AND created_at >= %(start)s AND created_at < %(end)s
          AND status = 'done' AND counted_with_id IS NULL
        GROUP BY 1, 2""",
    "topics": """
        SELECT p.topic, count(*)
        FROM consultations_protocol p
        JOIN consultations_consultation c ON c.id = p.consultation_id
        JOIN scheduling_booking b ON b.id = c.booking_id
        JOIN scheduling_slot s ON s.id = b.slot_id
        WHERE s.service_id = ANY(%(services)s) AND s.starts_at >= %(start)s
          AND s.starts_at < %(end)s
        GROUP BY 1""",
    "regions": """
        SELECT region_id, count(*),
               count(DISTINCT client_id) + count(*) FILTER (WHERE client_id IS NULL)
        FROM intake_servicerequest
        WHERE service_id = ANY(%(services)s) AND created_at >= %(start)s AND created_at < %(end)s
        GROUP BY 1""",
    "consultant_load": """
        SELECT s.consultant_id, count(*), count(*) FILTER (WHERE c.status = 'ended'),
               count(*) FILTER (WHERE c.status = 'no_show'),
               avg(c.ended_at - c.started_at) FILTER (WHERE c.status = 'ended')
        FROM consultations_consultation c
        JOIN scheduling_booking b ON b.id = c.booking_id
        JOIN scheduling_slot s ON s.id = b.slot_id
        WHERE s.service_id = ANY(%(services)s) AND s.starts_at >= %(start)s
          AND s.starts_at < %(end)s
        GROUP BY 1""",
    "booking_lead_time": """
        SELECT (first.created_at AT TIME ZONE %(tz)s)::date
                 - (r.created_at AT TIME ZONE %(tz)s)::date AS lead, count(*)
        FROM intake_servicerequest r
        JOIN LATERAL (SELECT created_at FROM scheduling_booking b WHERE b.request_id = r.id
                      ORDER BY created_at, id LIMIT 1) first ON true
        WHERE r.service_id = ANY(%(services)s) AND r.created_at >= %(start)s
          AND r.created_at < %(end)s
        GROUP BY 1 ORDER BY 1""",
    "sla_service_within_days": """
        SELECT count(*), count(*) FILTER (WHERE first.starts_at IS NOT NULL AND
                 (first.starts_at AT TIME ZONE %(tz)s)::date
                 - (r.created_at AT TIME ZONE %(tz)s)::date <= sv.service_within_days)
        FROM intake_servicerequest r
        JOIN core_service sv ON sv.id = r.service_id
        LEFT JOIN LATERAL (SELECT s.starts_at FROM scheduling_booking b
                           JOIN scheduling_slot s ON s.id = b.slot_id
                           WHERE b.request_id = r.id ORDER BY b.created_at, b.id LIMIT 1)
             first ON true
        WHERE r.service_id = ANY(%(services)s) AND r.created_at >= %(start)s
          AND r.created_at < %(end)s AND r.status NOT IN ('refused', 'redirected')
          AND (first.starts_at IS NOT NULL OR
               current_date - (r.created_at AT TIME ZONE %(tz)s)::date >= sv.service_within_days)
        """,
}


# The same figures from the roll-up, as the page reads them: the settled days summed from
# journals_dailyfigure, plus today counted live (the RAW query above over today only).
ROLLUP = {
    "requests_per_day": [("channel", "day", "sum(n)"), ("persons", "day", "sum(n)")],
    "requests_per_channel": [("channel", "key", "sum(n)")],
    "services_by_kind_and_form": [("kind_form", "key, key2", "sum(n)")],
    "topics": [("topic", "key", "sum(n)")],
    "regions": [("region", "region_id", "sum(n)")],
    "consultant_load": [
        ("consultant", "ref", "sum(n), sum(held), sum(no_shows), sum(held_length), sum(timed)")
    ],
    "booking_lead_time": [("lead", "days", "sum(n)")],
    "sla_service_within_days": [("service_days", "service_id, day, days", "sum(n)")],
}


def rollup_sql(measure: str, group: str, sums: str) -> str:
    # The totals over all regions, but for the regions chart (rows per region).
    by_region = "by_region" if measure == "region" else "NOT by_region"
    return f"""
        SELECT {group}, {sums} FROM journals_dailyfigure
        WHERE measure = '{measure}' AND {by_region} AND service_id = ANY(%(services)s)
          AND day >= %(first)s AND day <= %(last)s
        GROUP BY {group}"""


def timed(fn: Callable[[], Any], repeat: int) -> dict[str, float]:
    fn()  # warm: the plan cache, the buffers
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - t0) * 1000)
    return {"median_ms": round(statistics.median(runs), 1), "max_ms": round(max(runs), 1)}


def same_figures(f: Any, raw: Callable[[str], list[Any]]) -> dict[str, bool]:
    """Per figure: Opora's selector equals the hand-written `GROUP BY` over the whole period
    (RAW): requests per day and per channel, services by kind and form, protocols by topic."""
    from opora.journals import dashboards as d

    return {
        "requests_per_day": {r["day"]: r["requests"] for r in d.requests_per_day(f)}
        == {day: n for day, n, _persons in raw(RAW["requests_per_day"])},
        "requests_per_channel": {r["channel"]: r["requests"] for r in d.requests_per_channel(f)}
        == {channel: n for channel, n, _persons in raw(RAW["requests_per_channel"])},
        "services_by_kind_and_form": {
            (r["kind"], r["preferred_form"]): r["services"] for r in d.services_by_kind_and_form(f)
        }
        == {(kind, form): n for kind, form, n, _persons in raw(RAW["services_by_kind_and_form"])},
        "topics": {r["topic"]: r["protocols"] for r in d.topics(f)}
        == {topic: n for topic, n in raw(RAW["topics"])},
    }


def measure(
    info: dict[str, Any], days: int, repeat: int, jit_off: bool, scan: bool
) -> dict[str, Any]:
    import psycopg
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from opora.accounts.models import User
    from opora.journals import dashboards as d
    from opora.web.views.dashboards import sla_questionnaires

    today = timezone.localdate()
    f = d.DashboardFilter(
        date_from=today - dt.timedelta(days=days - 1),
        date_to=today,
        service_ids=tuple(info["services"]),
        persons=True,
    )
    selectors: dict[str, Callable[[], Any]] = {
        "requests_per_day": lambda: d.requests_per_day(f),
        "requests_per_channel": lambda: d.requests_per_channel(f),
        "services_by_kind_and_form": lambda: d.services_by_kind_and_form(f),
        "topics": lambda: d.topics(f),
        "regions": lambda: d.regions(f),
        "consultant_load": lambda: d.consultant_load(f),
        "booking_lead_time": lambda: d.booking_lead_time(f),
        "sla_service_within_days": lambda: d.sla_service_within_days(f),
        "sla_schedules": lambda: d.sla_schedules(f),
        "sla_questionnaires": lambda: sla_questionnaires(f),
    }
    params = {"tz": TZ, "services": list(info["services"]), "start": f.start, "end": f.end}
    today_start = timezone.make_aware(dt.datetime.combine(today, dt.time.min))
    rolled = {
        **params,
        "start": today_start,
        "first": f.date_from,
        "last": today - dt.timedelta(days=1),
    }
    rows: dict[str, Any] = {}
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        if jit_off:
            conn.execute("SET jit = off")  # as the page does (dashboards.dashboard_session)
        for name, fn in selectors.items():
            with timezone.override(TZ), d.dashboard_session():
                rows[name] = {"django": timed(fn, repeat)}
            if name in ROLLUP:
                queries = [rollup_sql(*q) for q in ROLLUP[name]] + [RAW[name]]

                def raw_rollup(queries: list[str] = queries) -> None:
                    for sql in queries:
                        conn.execute(sql, rolled).fetchall()

                rows[name]["raw"] = timed(raw_rollup, repeat)
            if name in RAW and scan:
                sql = RAW[name]
                rows[name]["raw_scan"] = timed(
                    lambda sql=sql: conn.execute(sql, params).fetchall(), repeat
                )
        # The figures themselves: Opora's (roll-up and today) against the hand-written scan.
        with timezone.override(TZ), d.dashboard_session():
            same = same_figures(f, lambda sql: conn.execute(sql, params).fetchall())
    from django.conf import settings

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    web = Client()
    web.force_login(User.objects.get(pk=info["head"]))
    query = {"date_from": f.date_from.isoformat(), "date_to": f.date_to.isoformat()}
    url = reverse("dashboards")

    def get_page() -> None:
        response = web.get(url, query)
        assert response.status_code == 200, response.status_code

    page = timed(get_page, repeat)
    export = timed(lambda: web.get(url, {**query, "export": "xlsx", "chart": "per-day"}), repeat)
    return {
        "selectors": rows,
        "page": page,
        "export_xlsx": export,
        "days": days,
        "same": same,
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=50_000)
    parser.add_argument("--days", type=int, default=30, help="the period of the page")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument(
        "--raw-jit", action="store_true", help="leave PostgreSQL's JIT on for the raw SQL"
    )
    parser.add_argument("--reuse-db", action="store_true")
    parser.add_argument(
        "--skip-rebuild", action="store_true", help="measure the roll-up as it is (no rebuild)"
    )
    parser.add_argument(
        "--no-scan", action="store_true", help="skip the raw full-scan SQL (the old page's work)"
    )
    args = parser.parse_args(argv)
    server = os.environ.get("DATABASE_URL", "")
    if not server.startswith(("postgres://", "postgresql://")):
        say("bench_dashboards: DATABASE_URL must point to a PostgreSQL server.")
        return 2
    if not args.reuse_db:
        recreate(server)
    os.environ["DATABASE_URL"] = with_database(server, DB)
    os.environ["DJANGO_SETTINGS_MODULE"] = "opora.settings.test"
    import django
    from django.core.management import call_command

    django.setup()
    VAR.mkdir(parents=True, exist_ok=True)
    state = VAR / "dashboards-data.json"
    if args.reuse_db and state.exists():
        info = json.loads(state.read_text())
        call_command("migrate", verbosity=0)  # the roll-up's tables on older data
    else:
        call_command("migrate", verbosity=0)
        info = generate(args.requests)
        state.write_text(json.dumps(info))
    m = machine()
    say(
        f"machine: {m['cpu']}, {m['cores']} cores, {m['ram_gb']} GB RAM; PostgreSQL "
        f"{m['postgresql']}; load average {' '.join(map(str, m['load_average']))}"
    )
    say(
        f"data: {info['requests']:,} requests, {info['consultations']:,} consultations, "
        f"{info['protocols']:,} protocols (generated in {info['generate_s']} s)"
    )
    rollup = {}
    if not args.skip_rebuild:
        from opora.journals import rollups

        t0 = time.perf_counter()
        rollups.rebuild()
        rollup["rebuild_s"] = round(time.perf_counter() - t0, 1)
        t0 = time.perf_counter()
        rollups.refresh_due()
        rollup["refresh_s"] = round(time.perf_counter() - t0, 2)
        from django.db import connection

        with connection.cursor() as cur:
            cur.execute("VACUUM ANALYZE journals_dailyfigure")
            cur.execute("SELECT count(*) FROM journals_dailyfigure")
            rollup["rows"] = cur.fetchone()[0]
        say(
            f"roll-up: rebuilt in {rollup['rebuild_s']} s ({rollup['rows']:,} rows); "
            f"the 5-minute refresh (last {rollups.RECENT_DAYS} days) {rollup['refresh_s']} s"
        )
    result = measure(info, args.days, args.repeat, not args.raw_jit, not args.no_scan)
    result["rollup"] = rollup
    say(f"period: the last {args.days} days; median of {args.repeat} warm runs (max)")
    say(f"{'figure':28} {'Django, ms':>16} {'raw SQL, ms':>16} {'ratio':>6} {'raw scan, ms':>16}")
    for name, r in result["selectors"].items():
        dj, raw, scan = r["django"], r.get("raw"), r.get("raw_scan")
        ratio = f"{dj['median_ms'] / raw['median_ms']:.2f}" if raw and raw["median_ms"] else "—"
        raw_text = f"{raw['median_ms']} ({raw['max_ms']})" if raw else "—"
        scan_text = f"{scan['median_ms']} ({scan['max_ms']})" if scan else "—"
        say(
            f"{name:28} {str(dj['median_ms']) + ' (' + str(dj['max_ms']) + ')':>16} "
            f"{raw_text:>16} {ratio:>6} {scan_text:>16}"
        )
    say(
        f"{'the whole page (head)':28} {result['page']['median_ms']:>9} ({result['page']['max_ms']})"
    )
    say(
        f"{'one chart as XLSX':28} {result['export_xlsx']['median_ms']:>9} ({result['export_xlsx']['max_ms']})"
    )
    say(f"same figures as the raw SQL: {result['same']}")
    out = {"machine": m, "data": info, **result}
    (VAR / "dashboards.json").write_text(json.dumps(out, indent=2, default=str))
    if not args.keep_db:
        os.environ["DATABASE_URL"] = server
        from django.db import connections

        connections.close_all()
        drop(server)
    return 0 if all(result["same"].values()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
