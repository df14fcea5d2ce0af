"""Benchmark "signin": how long a staff sign-in POST takes, and where the time goes.

    .venv/bin/python bench/signin.py [--n 20] [--settings opora.settings.local] [--json] [--profile]

The POST to /login/ goes through the whole stack (middleware, django-axes, django-otp, the session,
the audit) with Django's test client, in this process, N times with a fresh client each time; the
median and p95 are printed. Beside it: the password hasher alone (one hash), and the first sign-in of
an account whose password is still stored with Django's PBKDF2 (verified, then re-hashed with the
first hasher of PASSWORD_HASHERS: the upgrade every old account pays once).

Local settings (the default): a throwaway SQLite database in a temporary var/ folder. Production
settings (`--settings opora.settings.production`): the PostgreSQL database of DATABASE_URL and the
Redis of REDIS_URL (bench/run.py passes its own `opora_bench`), with throwaway keys.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import math
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PASSWORD = "bench-Signin-2026!"  # noqa: S105 - synthetic account of a throwaway database
TARGET_MS = 300.0


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def configure(settings_module: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = settings_module
    os.environ.setdefault("OPORA_ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
    os.environ.setdefault("OPORA_LOG_LEVEL", "WARNING")
    if settings_module.endswith(".production"):
        # Throwaway keys for a throwaway database; production refuses to start without them.
        os.environ.setdefault("OPORA_SECRET_KEY", "bench-" + "x" * 50)
        os.environ.setdefault("OPORA_RECORDING_KEY", "A" * 43 + "=")
        os.environ.setdefault("OPORA_FIELD_KEY", "A" * 43 + "=")
        os.environ.setdefault("OPORA_INDEX_KEY", "B" * 43 + "=")
        os.environ.setdefault("OPORA_AUDIT_KEY", "A" * 43 + "=")
        os.environ.setdefault("OPORA_PUBLIC_URL", "https://opora.example.org")
        os.environ.setdefault("REDIS_URL", os.environ.get("OPORA_TEST_REDIS_URL", ""))
    else:
        os.environ["OPORA_VAR_DIR"] = tempfile.mkdtemp(prefix="opora-bench-signin-")
        os.environ.pop("DATABASE_URL", None)
        os.environ.pop("REDIS_URL", None)


def time_hasher(algorithm: str | None, rounds: int = 5) -> float:
    """Median milliseconds of one hash of the password with `algorithm` (None: the default)."""
    from django.contrib.auth.hashers import get_hasher

    hasher = get_hasher(algorithm or "default")
    runs = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        hasher.encode(PASSWORD, hasher.salt())
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs) * 1000


def sign_in(secure: bool, username: str) -> tuple[float, int]:
    from django.test import Client

    client = Client()
    t0 = time.perf_counter()
    response = client.post(
        "/login/",
        {"username": username, "password": PASSWORD},
        secure=secure,
        REMOTE_ADDR="127.0.0.9",
    )
    return time.perf_counter() - t0, response.status_code


def run(n: int, settings_module: str, profile: bool, first_hasher: str = "") -> dict[str, Any]:
    configure(settings_module)
    import django

    django.setup()
    from django.conf import settings

    if first_hasher:  # to compare: e.g. Django's default, PBKDF2PasswordHasher
        from django.contrib.auth.hashers import get_hashers, get_hashers_by_algorithm

        settings.PASSWORD_HASHERS = [first_hasher, *settings.PASSWORD_HASHERS]
        get_hashers.cache_clear()
        get_hashers_by_algorithm.cache_clear()
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command

    from opora.accounts.models import Role, User

    call_command("migrate", verbosity=0)
    secure = bool(getattr(settings, "SECURE_SSL_REDIRECT", False))
    User.objects.filter(username__startswith="bench-signin").delete()
    User.objects.create_user("bench-signin", password=PASSWORD, role=Role.OPERATOR)
    sign_in(secure, "bench-signin")  # warm: templates, URL resolver, first connection

    times, statuses = [], set()
    profiler = cProfile.Profile() if profile else None
    for _ in range(n):
        if profiler:
            profiler.enable()
        seconds, status = sign_in(secure, "bench-signin")
        if profiler:
            profiler.disable()
        times.append(seconds * 1000)
        statuses.add(status)
    if statuses != {302}:
        raise RuntimeError(f"sign-in answered {sorted(statuses)}, expected 302 (a redirect)")

    # An account whose password was hashed with Django's PBKDF2 before the change of hasher.
    legacy = "bench-signin-legacy"
    User.objects.create(
        username=legacy,
        role=Role.OPERATOR,
        password=make_password(PASSWORD, hasher="pbkdf2_sha256"),
    )
    first_ms = sign_in(secure, legacy)[0] * 1000
    stored = User.objects.get(username=legacy).password.split("$", 1)[0]
    second_ms = sign_in(secure, legacy)[0] * 1000

    default = settings.PASSWORD_HASHERS[0].rsplit(".", 1)[-1]
    result = {
        "settings": settings_module,
        "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
        "hasher": default,
        "hasher_ms": round(time_hasher(None), 1),
        "pbkdf2_ms": round(time_hasher("pbkdf2_sha256"), 1),
        "n": n,
        "median_ms": round(statistics.median(times), 1),
        "p95_ms": round(pct(times, 0.95), 1),
        "max_ms": round(max(times), 1),
        "legacy_first_ms": round(first_ms, 1),
        "legacy_upgraded_to": stored,
        "legacy_second_ms": round(second_ms, 1),
        "target_ms": TARGET_MS,
    }
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
        result["profile"] = out.getvalue()
    return result


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=20, help="sign-ins to time (20)")
    parser.add_argument("--settings", default="opora.settings.local")
    parser.add_argument(
        "--first-hasher", default="", help="put this hasher first (to compare), a dotted path"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--profile", action="store_true", help="cProfile of the timed sign-ins")
    args = parser.parse_args(argv)
    result = run(args.n, args.settings, args.profile, args.first_hasher)
    if args.json:
        print(json.dumps(result))
        return 0
    print(result.pop("profile", ""))
    print(
        f"sign-in POST ({result['settings']}, {result['database']}, hasher {result['hasher']}): "
        f"median {result['median_ms']} ms, p95 {result['p95_ms']} ms, max {result['max_ms']} ms "
        f"over {result['n']} (target ≤ {TARGET_MS:.0f} ms)"
    )
    print(
        f"one hash: {result['hasher']} {result['hasher_ms']} ms, "
        f"PBKDF2 (Django's 1,000,000 iterations) {result['pbkdf2_ms']} ms"
    )
    print(
        f"an account still on PBKDF2: first sign-in {result['legacy_first_ms']} ms (re-hashed to "
        f"{result['legacy_upgraded_to']}), next {result['legacy_second_ms']} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
