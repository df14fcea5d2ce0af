"""Benchmark "waves": do database connections hold when many requests arrive at once under uvicorn?

    .venv/bin/python bench/load_waves.py [--waves 3] [--concurrency 400] [--workers 4]
                                         [--modes pool,persistent] [--json]

For each mode, uvicorn serves Opora with production's settings (as deploy/systemd/opora-web.service
runs it, on a loopback port) against the PostgreSQL database of DATABASE_URL (bench/run.py passes
its own `opora_bench`), with throwaway keys. Then `--waves` waves of `--concurrency` simultaneous
requests (httpx, asyncio; half the portal's service page /s/<code>/, half /healthz — both read the
database) are sent, one wave after the other finished, each bounded in time. Reported per wave:
answers by status, 5xx and failed requests; and over all waves the most server connections the web
workers held at once (pg_stat_activity, sampled every 20 ms, counting only this run's connections
by their application_name), and how many stay open after the waves.

Modes: `pool` — the connection pool production uses by default (OPORA_DB_POOL_MIN/MAX/TIMEOUT at
their defaults); `persistent` — no pool, OPORA_CONN_MAX_AGE=60 (persistent connections per thread,
what production did before). Loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
APP_NAME = "opora-bench-waves"
SERVICE_CODE = "bench-waves"
# nginx's header (deploy/nginx/opora.conf): production redirects plain HTTP otherwise.
HEADERS = {"X-Forwarded-Proto": "https", "Accept-Language": "ru"}
MODES = {
    "pool": {"OPORA_DB_POOL_MIN": "", "OPORA_DB_POOL_MAX": "", "OPORA_DB_POOL_TIMEOUT": ""},
    "persistent": {"OPORA_DB_POOL_MAX": "0", "OPORA_CONN_MAX_AGE": "60"},
}


def production_env(database_url: str) -> dict[str, str]:
    """The environment of a production web worker, with throwaway keys for a throwaway database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPORA_", "DJANGO_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="opora.settings.production",
        DATABASE_URL=database_url,
        REDIS_URL=os.environ.get("REDIS_URL") or os.environ.get("OPORA_TEST_REDIS_URL", ""),
        OPORA_SECRET_KEY="bench-" + "x" * 50,
        OPORA_RECORDING_KEY="A" * 43 + "=",
        OPORA_FIELD_KEY="A" * 43 + "=",
        OPORA_INDEX_KEY="B" * 43 + "=",
        OPORA_AUDIT_KEY="A" * 43 + "=",
        OPORA_PUBLIC_URL="https://opora.example.org",
        OPORA_ALLOWED_HOSTS="127.0.0.1,localhost",
        OPORA_LOG_LEVEL="WARNING",
    )
    if not env["REDIS_URL"]:
        raise SystemExit("bench/load_waves.py: set REDIS_URL or OPORA_TEST_REDIS_URL")
    return env


def prepare(env: dict[str, str]) -> None:
    """Migrations and one service with a public page, in a process of its own (production's
    settings, like the web workers)."""
    code = (
        "import django; django.setup()\n"
        "from django.core.management import call_command\n"
        "call_command('migrate', verbosity=0)\n"
        "from opora.core.models import Service\n"
        "from opora.demo.factories import make_service_1411\n"
        f"if not Service.objects.filter(code={SERVICE_CODE!r}).exists():\n"
        f"    make_service_1411(code={SERVICE_CODE!r})\n"
    )
    subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", code], cwd=ROOT, env=env, check=True, timeout=600
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def count_connections(server_url: str) -> int:
    import psycopg

    with psycopg.connect(server_url, autocommit=True) as conn:
        return conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", [APP_NAME]
        ).fetchone()[0]


class Sampler(threading.Thread):
    """The number of this run's server connections, every 20 ms, from a connection of its own to
    the server's maintenance database (so it never counts itself)."""

    def __init__(self, server_url: str) -> None:
        super().__init__(daemon=True)
        self.server_url, self.peak, self.stop = server_url, 0, threading.Event()

    def run(self) -> None:
        import psycopg

        with psycopg.connect(self.server_url, autocommit=True) as conn:
            while not self.stop.is_set():
                n = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", [APP_NAME]
                ).fetchone()[0]
                self.peak = max(self.peak, n)
                time.sleep(0.02)


async def wave(base: str, n: int, timeout: float) -> dict[str, Any]:
    import httpx

    paths = [f"/s/{SERVICE_CODE}/" if i % 2 == 0 else "/healthz" for i in range(n)]
    limits = httpx.Limits(max_connections=n, max_keepalive_connections=0)
    statuses: Counter[str] = Counter()
    start = asyncio.Event()

    async def one(client: httpx.AsyncClient, path: str) -> None:
        await start.wait()
        try:
            response = await client.get(path, headers=HEADERS)
            statuses[str(response.status_code)] += 1
        except httpx.HTTPError as exc:
            statuses[type(exc).__name__] += 1

    async with httpx.AsyncClient(
        base_url=base, limits=limits, timeout=timeout, trust_env=False
    ) as client:
        tasks = [asyncio.create_task(one(client, p)) for p in paths]
        await asyncio.sleep(0.1)  # every request is waiting on the start line
        t0 = time.perf_counter()
        start.set()
        done, pending = await asyncio.wait(tasks, timeout=timeout + 30)
        for task in pending:
            task.cancel()
            statuses["unfinished"] += 1
        seconds = time.perf_counter() - t0
    five = sum(v for k, v in statuses.items() if k.isdigit() and k.startswith("5"))
    failed = sum(v for k, v in statuses.items() if not k.isdigit())
    return {
        "requests": n,
        "statuses": dict(sorted(statuses.items())),
        "5xx": five,
        "failed": failed,
        "seconds": round(seconds, 2),
    }


def run_mode(mode: str, args: argparse.Namespace, database_url: str, server_url: str) -> dict:
    env = {**production_env(database_url), **MODES[mode], "PGAPPNAME": APP_NAME}
    env = {k: v for k, v in env.items() if v != ""}  # "" = the default of settings/base.py
    port = free_port()
    log = open(ROOT / "var" / "bench" / f"waves-{mode}.log", "w")  # noqa: SIM115 - closed below
    server = subprocess.Popen(  # noqa: S603 - our own uvicorn, loopback only
        [
            sys.executable,
            "-m",
            "uvicorn",
            "opora.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(args.workers),
            "--proxy-headers",
            "--no-access-log",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        import httpx

        deadline = time.monotonic() + 120
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"uvicorn exited ({server.returncode}); see {log.name}")
            try:
                answer = httpx.get(base + "/healthz", headers=HEADERS, timeout=2, trust_env=False)
                if answer.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not answer /healthz within 120 s")
            time.sleep(0.3)
        time.sleep(1)  # every worker has started (each opens its pool's minimum)
        before = count_connections(server_url)
        sampler = Sampler(server_url)
        sampler.start()
        waves = []
        for _ in range(args.waves):
            waves.append(asyncio.run(wave(base, args.concurrency, args.timeout)))
            time.sleep(args.pause)
        sampler.stop.set()
        sampler.join()
        time.sleep(2)
        after = count_connections(server_url)
    finally:
        server.terminate()  # our own uvicorn, by its handle
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
    return {
        "mode": mode,
        "settings": {k: v for k, v in MODES[mode].items() if v} or "pool defaults",
        "workers": args.workers,
        "waves": waves,
        "connections_before": before,
        "connections_peak": sampler.peak,
        "connections_after": after,
        "5xx_total": sum(w["5xx"] for w in waves),
        "failed_total": sum(w["failed"] for w in waves),
    }


def server_maintenance_url(database_url: str) -> str:
    return urlunsplit(urlsplit(database_url)._replace(path="/postgres"))


def max_connections(server_url: str) -> int:
    import psycopg

    with psycopg.connect(server_url, autocommit=True) as conn:
        return int(conn.execute("SHOW max_connections").fetchone()[0])


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--waves", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=400, help="requests per wave (400)")
    parser.add_argument(
        "--workers", type=int, default=4, help="uvicorn workers (4, as deploy/systemd)"
    )
    parser.add_argument("--modes", default="pool,persistent", help="pool,persistent")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per request (60)")
    parser.add_argument("--pause", type=float, default=1.0, help="seconds between waves (1)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("bench/load_waves.py: DATABASE_URL must point to PostgreSQL")
    server_url = server_maintenance_url(database_url)
    (ROOT / "var" / "bench").mkdir(parents=True, exist_ok=True)
    prepare(production_env(database_url))
    result = {
        "max_connections": max_connections(server_url),
        "waves": args.waves,
        "concurrency": args.concurrency,
        "modes": [run_mode(m, args, database_url, server_url) for m in args.modes.split(",")],
    }
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"PostgreSQL max_connections={result['max_connections']}")
    for r in result["modes"]:
        print(
            f"{r['mode']} ({r['settings']}, {r['workers']} uvicorn workers): "
            f"connections peak {r['connections_peak']}, after {r['connections_after']}; "
            f"5xx {r['5xx_total']}, failed {r['failed_total']}"
        )
        for i, w in enumerate(r["waves"], 1):
            print(f"  wave {i}: {w['statuses']} in {w['seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
