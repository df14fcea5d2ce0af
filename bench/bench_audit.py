"""The cost of the audit log's hash chain: `audit_record` beside a raw INSERT of the same row.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/x .venv/bin/python bench/bench_audit.py
        [--events 2000] [--threads 8] [--json out.json]

Uses the server of DATABASE_URL with its own database `opora_bench_audit` (dropped and created
anew, migrated). Runs on any version of Opora (the same script measured the code before the
chain and after it, docs/PERFORMANCE.md):

- `sequential`: one writer, each event in its own transaction (an audited page read);
- `in_tx`: one writer, the event as the last write of a transaction that also updates a row
  (a service write);
- `concurrent`: `--threads` writers at once, each event its own transaction (with the chain in
  the writer, the chain head's row lock made them take turns; sealed in batches, it does not);
- `raw`: psycopg INSERTs of the same columns into a plain table, no Django, no chain
  (sequential and concurrent);
- `seal` (when the code has `audit_seal`): sealing every event written above in batches, then
  `verify` walks the chain.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BENCH_DB = "opora_bench_audit"


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def recreate(server_url: str) -> None:
    import psycopg

    with psycopg.connect(with_database(server_url, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{BENCH_DB}"')


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, int(round(q * len(ordered))) - 1))]


def summary(name: str, seconds: list[float], wall: float) -> dict[str, float]:
    result = {
        "events": len(seconds),
        "per_s": round(len(seconds) / wall, 1),
        "p50_ms": round(statistics.median(seconds) * 1000, 3),
        "p95_ms": round(pct(seconds, 0.95) * 1000, 3),
    }
    print(
        f"{name:<24} {result['per_s']:>9.1f}/s  p50 {result['p50_ms']:>7.3f} ms  "
        f"p95 {result['p95_ms']:>7.3f} ms  ({len(seconds)} events)"
    )
    return result


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--json", default="")
    args = parser.parse_args(argv)

    server = os.environ.get("DATABASE_URL", "")
    if not server.startswith(("postgres://", "postgresql://")):
        print("bench_audit: set DATABASE_URL to a PostgreSQL server", file=sys.stderr)
        return 2
    recreate(server)
    url = with_database(server, BENCH_DB)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opora.settings.test")
    import django

    django.setup()
    import psycopg
    from django.core.management import call_command
    from django.db import connection, transaction

    from opora.core.audit import AuditEventType, audit_record
    from opora.core.models import AuditEvent, Organisation
    from opora.demo.factories import make_user

    call_command("migrate", verbosity=0)
    organisation = Organisation.objects.create(name="Bench", country="KZ")
    user = make_user("operator", username="bench-operator")
    extra = {"via": "page", "fields": ["status"], "request_id": 12345}
    results: dict[str, dict[str, float]] = {"chain": {"present": hasattr(AuditEvent, "seq")}}  # type: ignore[dict-item]

    def one() -> float:
        start = time.perf_counter()
        audit_record(
            actor=user, event_type=AuditEventType.REQUEST_VIEWED, subject=organisation, extra=extra
        )
        return time.perf_counter() - start

    def one_in_tx() -> float:
        start = time.perf_counter()
        with transaction.atomic():
            Organisation.objects.filter(pk=organisation.pk).update(short_name="b")
            audit_record(
                actor=user,
                event_type=AuditEventType.ADMIN_CHANGED,
                subject=organisation,
                extra=extra,
            )
        return time.perf_counter() - start

    for fn in (one, one_in_tx):  # warm up
        for _ in range(50):
            fn()

    start = time.perf_counter()
    seconds = [one() for _ in range(args.events)]
    results["sequential"] = summary("audit_record", seconds, time.perf_counter() - start)
    start = time.perf_counter()
    seconds = [one_in_tx() for _ in range(args.events)]
    results["in_tx"] = summary("write + audit_record", seconds, time.perf_counter() - start)

    per_thread = max(1, args.events // args.threads)
    collected: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        mine = [one() for _ in range(per_thread)]
        with lock:
            collected.extend(mine)
        connection.close()

    threads = [threading.Thread(target=worker) for _ in range(args.threads)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    results["concurrent"] = summary(
        f"audit_record x{args.threads}", collected, time.perf_counter() - start
    )

    # The raw database: the same columns into a plain table, one INSERT per transaction.
    raw_sql = (
        "INSERT INTO bench_raw_audit (created_at, actor_id, event_type, subject_type, subject_id,"
        " extra) VALUES (now(), %s, %s, %s, %s, %s)"
    )
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE bench_raw_audit (id bigserial PRIMARY KEY, created_at timestamptz, "
            "actor_id int, event_type varchar(64), subject_type varchar(64), "
            "subject_id varchar(64), extra jsonb)"
        )
    params = (
        user.pk,
        "request.viewed",
        "core.organisation",
        str(organisation.pk),
        json.dumps(extra),
    )

    def raw_run(n: int, out: list[float]) -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            for _ in range(n):
                t0 = time.perf_counter()
                conn.execute(raw_sql, params)
                out.append(time.perf_counter() - t0)

    seconds = []
    start = time.perf_counter()
    raw_run(args.events, seconds)
    results["raw_sequential"] = summary("raw INSERT", seconds, time.perf_counter() - start)
    collected = []
    threads = [
        threading.Thread(target=raw_run, args=(per_thread, collected)) for _ in range(args.threads)
    ]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    results["raw_concurrent"] = summary(
        f"raw INSERT x{args.threads}", collected, time.perf_counter() - start
    )
    if hasattr(AuditEvent, "seq"):
        from opora.core import audit_chain

        verify_kwargs = {}
        if hasattr(audit_chain, "audit_seal_now"):
            start = time.perf_counter()
            sealed = audit_chain.audit_seal_now()
            wall = time.perf_counter() - start
            results["seal"] = {"events": sealed, "per_s": round(sealed / wall, 1)}
            print(f"{'audit_seal':<24} {sealed / wall:>9.1f}/s  ({sealed} events)")
            verify_kwargs["seal"] = False
        start = time.perf_counter()
        report = audit_chain.audit_chain_verify(**verify_kwargs)
        wall = time.perf_counter() - start
        results["verify"] = {"events": report.checked, "per_s": round(report.checked / wall, 1)}
        print(f"{'verify_audit':<24} {report.checked / wall:>9.1f}/s  ({report.checked} events)")
        assert report.ok, report.broken
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    connection.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
