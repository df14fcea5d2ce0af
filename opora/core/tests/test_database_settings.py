"""The database settings build PostgreSQL's connection pool from the environment
(settings/base.py `database_config`); production pools by default."""

import json
import os
import subprocess
import sys
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.core.exceptions import ImproperlyConfigured

from opora.settings.base import database_config

URL = "postgres://opora@127.0.0.1:5432/opora"


def test_production_pools_by_default_sized_for_a_small_node():
    cfg = database_config(URL, environ={}, pool_by_default=True)
    assert cfg["OPTIONS"]["pool"] == {"min_size": 2, "max_size": 10, "timeout": 10.0}
    assert cfg["CONN_MAX_AGE"] == 0  # Django refuses a pool with persistent connections


def test_the_pool_is_sized_from_the_environment():
    env = {"OPORA_DB_POOL_MIN": "4", "OPORA_DB_POOL_MAX": "25", "OPORA_DB_POOL_TIMEOUT": "2.5"}
    for by_default in (True, False):  # naming a size turns the pool on in any preset
        cfg = database_config(URL, environ=env, pool_by_default=by_default)
        assert cfg["OPTIONS"]["pool"] == {"min_size": 4, "max_size": 25, "timeout": 2.5}
        assert cfg["CONN_MAX_AGE"] == 0


def test_a_zero_maximum_turns_the_pool_off_and_conn_max_age_applies():
    cfg = database_config(
        URL, environ={"OPORA_DB_POOL_MAX": "0", "OPORA_CONN_MAX_AGE": "30"}, pool_by_default=True
    )
    assert "pool" not in cfg.get("OPTIONS", {})
    assert cfg["CONN_MAX_AGE"] == 30


def test_without_a_pool_setting_the_other_presets_keep_persistent_connections():
    for env in ({}, {"OPORA_DB_POOL_MAX": ""}):
        cfg = database_config(URL, environ=env)
        assert "pool" not in cfg.get("OPTIONS", {})
        assert cfg["CONN_MAX_AGE"] == 60


def test_sqlite_never_gets_a_pool():
    cfg = database_config("", environ={"OPORA_DB_POOL_MAX": "10"}, pool_by_default=True)
    assert cfg["ENGINE"] == "django.db.backends.sqlite3"
    assert "pool" not in cfg["OPTIONS"]


@pytest.mark.parametrize(
    "env",
    [
        {"OPORA_DB_POOL_MAX": "ten"},
        {"OPORA_DB_POOL_MIN": "12", "OPORA_DB_POOL_MAX": "10"},
        {"OPORA_DB_POOL_MIN": "-1"},
        {"OPORA_DB_POOL_TIMEOUT": "0"},
    ],
)
def test_a_bad_pool_setting_stops_the_start_with_its_name(env):
    with pytest.raises(ImproperlyConfigured, match="OPORA_DB_POOL_"):
        database_config(URL, environ=env, pool_by_default=True)


PRODUCTION = {
    "OPORA_SECRET_KEY": "x" * 20 + "a-long-random-production-secret-for-the-check",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "OPORA_ALLOWED_HOSTS": "opora.example.org",
    "OPORA_RECORDING_KEY": "q7mXh0z3b1aVt2Yc8NwR5kLs9PdF4eGj6UoI0yTrE1A=",
    "OPORA_FIELD_KEY": "Zk3b9QmT1xW7cVr5Ns2Lp8Hd4Gf6Je0Ay1Ou3Ii5Ee7=",
    "OPORA_INDEX_KEY": "Wb4n8RtY2uI6oP0aS3dF7gH1jK5lZ9xC2vB6nM0qE4w=",
    "OPORA_AUDIT_KEY": "Rk7d2NpW4xB9cTq1Lm5Hs8Gv3Jy6Fa0Ez2Ku4Io7Ub1=",
    "OPORA_PUBLIC_URL": "https://opora.example.org",
    "DJANGO_SETTINGS_MODULE": "opora.settings.production",
}
PROBE = """
import json, django
django.setup()
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute("select 1")
pool = connection.pool
print(json.dumps({"options": connection.settings_dict["OPTIONS"].get("pool"),
                  "conn_max_age": connection.settings_dict["CONN_MAX_AGE"],
                  "pool_max": pool.max_size if pool is not None else None}))
"""


@pytest.mark.postgres
def test_production_serves_queries_through_the_pool():
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")
    # The server's own maintenance database: DATABASE_URL's may be only the test database's base.
    url = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    base = {k: v for k, v in os.environ.items() if not k.startswith(("OPORA_", "DJANGO_"))}
    proc = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", PROBE],
        env={**base, **PRODUCTION, "DATABASE_URL": url, "OPORA_DB_POOL_MAX": "3"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got == {
        "options": {"min_size": 2, "max_size": 3, "timeout": 10.0},
        "conn_max_age": 0,
        "pool_max": 3,
    }
