"""A streamed XLSX export of 100k journal rows (issue 11: "peak memory ≤ 200 MB, measured, with the
time"): the requests journal of regulation 002 (`requests-002`) of one service for 30 days, written
by `journals.documents.journal_document` (openpyxl's write-only workbook, rows from the database
by `iterator()`, into a temporary file the response streams).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/bench_export.py [--rows 100000] [--keep-db] [--reuse-db] [--json]

Uses its own database (`opora_bench_export`, or OPORA_BENCH_EXPORT_DB) on the server of
DATABASE_URL: `--rows` requests of one 1411 service over the last 30 days, a third of them anonymous,
generated with `generate_series`. The export runs in a fresh child process, so its peak resident
memory (`resource.getrusage(RUSAGE_SELF).ru_maxrss`) is the export's own: Python, Django and the
export, nothing of the generation. Printed, and in var/bench/export.json. Method and figures:
docs/PERFORMANCE.md, "Dashboards (issue 11)".
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from run import machine, say, with_database  # noqa: E402  (the harness's helpers)

DB = os.environ.get("OPORA_BENCH_EXPORT_DB", "opora_bench_export")
VAR = ROOT / "var" / "bench"
DAYS = 30
TARGET_MB = 200.0


def _maxrss_mb() -> float:
    """This process's peak resident memory. Linux's `VmHWM` is the peak of the process image
    since its exec; `ru_maxrss` is not a fresh start in a child: Linux carries the high-water mark
    of the image the child replaced — the forked copy of the parent, here the generator with its
    hundreds of MB — across exec, so it reported the parent's size (441 MB) as the export's."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def _derived_columns(label: str) -> tuple[str, str]:
    """(", col1, col2", ", '', ''"): the blind-index and name-token columns of `label`, empty."""
    from django.apps import apps

    from opora.core.fields import BlindIndexField, NameTokensField

    names = [
        f.column
        for f in apps.get_model(label)._meta.concrete_fields
        if isinstance(f, BlindIndexField | NameTokensField)
    ]
    return "".join(f", {n}" for n in names), "".join(", ''" for _ in names)


def generate(rows: int) -> dict[str, Any]:
    from django.db import connection

    from opora.accounts.models import Role
    from opora.demo.factories import make_service_1411, make_user

    service = make_service_1411()
    head = make_user(Role.HEAD, service=service, organisation=service.provider_organisation)
    t0 = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute("SELECT min(id), max(id) FROM core_region")
        rmin, rmax = cur.fetchone()
        # The blind indexes and name tokens start empty; `rotate_keys --reindex` below encrypts
        # the values (written in clear here) and computes them, as a migration of old data does.
        client_idx, request_idx = (
            _derived_columns(m) for m in ("intake.Client", "intake.ServiceRequest")
        )
        cur.execute(
            f"""
            INSERT INTO intake_client (id, last_name, first_name, patronymic, iin, phone,
                phone_extra, email, created_at, region_id{client_idx[0]})
            SELECT g, 'Синтетова', 'Анна', 'Сергеевна', lpad(g::text, 12, '0'),
                '+7701' || lpad(g::text, 7, '0'), '', '', now(), NULL{client_idx[1]}
            FROM generate_series(1, %(clients)s) g
            """,
            {"clients": max(rows // 2, 1)},
        )
        cur.execute(
            f"""
            INSERT INTO intake_servicerequest (id, full_name, iin, phone, phone_extra, email,
                reason, channel, status, refusal_ground, referral_text, refusal_note, created_at,
                updated_at, service_id, client_id, region_id, is_anonymous, kind, preferred_form,
                requester_kind, typical_question, public_code, topic, language{request_idx[0]})
            SELECT g,
                CASE WHEN g %% 3 = 0 THEN '' ELSE 'Синтетова Анна Сергеевна' END,
                CASE WHEN g %% 3 = 0 THEN '' ELSE lpad(g::text, 12, '0') END,
                CASE WHEN g %% 3 = 0 THEN '' ELSE '+7701' || lpad(g::text, 7, '0') END,
                '', '', 'Синтетический вопрос о режиме дня ребёнка',
                (ARRAY['phone','email','portal','telegram','whatsapp','in_person'])[1 + g %% 6],
                CASE WHEN g %% 2 = 0 THEN 'done' ELSE 'new' END, '', '', '',
                now() - (g::float / %(n)s) * %(days)s * interval '1 day' + interval '1 minute',
                now(), %(service)s,
                CASE WHEN g %% 3 = 0 THEN NULL ELSE 1 + (g::bigint * 7919) %% %(clients)s END,
                %(rmin)s + g %% (%(rmax)s - %(rmin)s + 1),
                g %% 3 = 0,
                CASE WHEN g %% 10 = 0 THEN 'dispatcher' ELSE 'content' END,
                (ARRAY['video','voice','chat','phone','written'])[1 + g %% 5],
                'parent', '', 'X' || g, '', ''{request_idx[1]}
            FROM generate_series(1, %(n)s) g
            """,
            {
                "n": rows,
                "days": DAYS - 1,
                "service": service.pk,
                "clients": max(rows // 2, 1),
                "rmin": rmin,
                "rmax": rmax,
            },
        )
        for table in ("intake_client", "intake_servicerequest"):
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 1) FROM {table}))"
            )
    from django.core.management import call_command

    t1 = time.perf_counter()
    call_command("rotate_keys", "--reindex", stdout=open(os.devnull, "w"))  # noqa: SIM115
    encrypt_s = time.perf_counter() - t1
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE intake_servicerequest")
        cur.execute("VACUUM ANALYZE intake_client")
    return {
        "encrypt_s": round(encrypt_s, 1),
        "rows": rows,
        "generate_s": round(time.perf_counter() - t0, 1),
        "service": service.pk,
        "head": head.pk,
    }


def child(service_id: int, head_id: int, fmt: str) -> dict[str, Any]:
    """In a fresh process: the journal as `fmt`, timed, with the process's peak memory."""
    import django

    django.setup()
    from django.utils import timezone

    from opora.accounts.models import User
    from opora.core.models import Service
    from opora.journals.documents import journal_document
    from opora.journals.selectors import journal_read

    service = Service.objects.get(pk=service_id)
    head = User.objects.get(pk=head_id)
    today = timezone.localdate()
    import datetime as dt

    base_mb = _maxrss_mb()
    t0 = time.perf_counter()
    journal = journal_read(
        actor=head,
        service=service,
        form="requests-002",
        date_from=today - dt.timedelta(days=DAYS - 1),
        date_to=today,
        export=fmt,
    )
    out = journal_document(journal, fmt)
    seconds = time.perf_counter() - t0
    size = out.seek(0, os.SEEK_END)
    out.close()
    return {
        "format": fmt,
        "journal_rows": journal.count,
        "seconds": round(seconds, 2),
        "bytes": size,
        "base_rss_mb": round(base_mb, 1),
        "peak_rss_mb": round(_maxrss_mb(), 1),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--reuse-db", action="store_true")
    parser.add_argument("--json", action="store_true", help="print the result as JSON last")
    parser.add_argument("--child", nargs=3, metavar=("SERVICE", "HEAD", "FORMAT"))
    args = parser.parse_args(argv)
    server = os.environ.get("DATABASE_URL", "")
    if args.child:
        os.environ["DJANGO_SETTINGS_MODULE"] = "opora.settings.test"
        service_id, head_id, fmt = args.child
        print(json.dumps(child(int(service_id), int(head_id), fmt)))
        return 0
    if not server.startswith(("postgres://", "postgresql://")):
        say("bench_export: DATABASE_URL must point to a PostgreSQL server.")
        return 2
    import psycopg

    if not args.reuse_db:
        with psycopg.connect(with_database(server, "postgres"), autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {DB}")
    os.environ["DATABASE_URL"] = with_database(server, DB)
    os.environ["DJANGO_SETTINGS_MODULE"] = "opora.settings.test"
    import django
    from django.core.management import call_command

    django.setup()
    VAR.mkdir(parents=True, exist_ok=True)
    state = VAR / "export-data.json"
    if args.reuse_db and state.exists():
        info = json.loads(state.read_text())
    else:
        call_command("migrate", verbosity=0)
        info = generate(args.rows)
        state.write_text(json.dumps(info))
    from django.db import connections

    connections.close_all()
    m = machine()
    results = []
    for fmt in ("xlsx", "csv"):
        done = subprocess.run(  # noqa: S603 - this very script, as the child
            [
                sys.executable,
                __file__,
                "--child",
                str(info["service"]),
                str(info["head"]),
                fmt,
            ],
            cwd=ROOT,
            env=os.environ.copy(),
            capture_output=True,
            text=True,
            timeout=1800,
            check=False,
        )
        if done.returncode != 0:
            say(done.stdout[-2000:] + done.stderr[-2000:])
            return 1
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    out = {
        "machine": m,
        "data": info,
        "exports": results,
        "target_peak_mb": TARGET_MB,
        "ok": all(r["peak_rss_mb"] <= TARGET_MB for r in results if r["format"] == "xlsx"),
    }
    (VAR / "export.json").write_text(json.dumps(out, indent=2, default=str))
    say(
        f"machine: {m['cpu']}, {m['cores']} cores; load average "
        f"{' '.join(map(str, m['load_average']))}"
    )
    for r in results:
        say(
            f"requests-002 as {r['format']}: {r['journal_rows']:,} rows in {r['seconds']} s, "
            f"{r['bytes'] / 1e6:.1f} MB file; peak RSS {r['peak_rss_mb']} MB "
            f"(Django loaded: {r['base_rss_mb']} MB); target ≤ {TARGET_MB:.0f} MB"
        )
    if not args.keep_db:
        with psycopg.connect(with_database(server, "postgres"), autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
    if args.json:
        print(json.dumps(out, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
