"""Rate limits counted in a store every worker shares (opora.core.ratelimit): the database cache
of the embedded default and Redis of production, each seen by two clients as two workers would,
and by a second process; the 429 a visitor or an API client gets."""

import os
import subprocess
import sys
import uuid

import pytest
from django.core.cache.backends.db import DatabaseCache
from django.core.management import call_command
from django.test import override_settings

from opora.core import ratelimit
from opora.core.ratelimit import Limit, hit

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_counts():
    """Earlier tests of this process counted from the same address in the same cache."""
    from django.core.cache import cache

    cache.clear()


REDIS_URL = os.environ.get("OPORA_TEST_REDIS_URL", "")
DB_CACHE = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "opora_cache",
    }
}


def _limit() -> Limit:
    return Limit(f"test-{uuid.uuid4().hex[:8]}", 3, 3600)


def test_the_database_cache_counts_for_every_worker():
    with override_settings(CACHES=DB_CACHE):
        call_command("createcachetable", verbosity=0)
    one, two = DatabaseCache("opora_cache", {}), DatabaseCache("opora_cache", {})
    limit = _limit()
    counts = [hit(limit, "198.51.100.1", cache=c) for c in (one, two, one, two)]
    assert counts == [1, 2, 3, 4]
    assert hit(limit, "198.51.100.2", cache=two) == 1  # another address has its own count


def test_a_new_window_starts_from_zero():
    limit = _limit()
    with override_settings(CACHES=DB_CACHE):
        call_command("createcachetable", verbosity=0)
    store = DatabaseCache("opora_cache", {})
    assert hit(limit, "a", cache=store, now=7200.0) == 1
    assert hit(limit, "a", cache=store, now=10799.0) == 2
    assert hit(limit, "a", cache=store, now=10800.0) == 1


@pytest.mark.skipif(not REDIS_URL, reason="OPORA_TEST_REDIS_URL not set")
def test_redis_counts_for_every_worker_and_process():
    from django.core.cache.backends.redis import RedisCache

    one, two = RedisCache(REDIS_URL, {}), RedisCache(REDIS_URL, {})
    limit = _limit()
    assert [hit(limit, "198.51.100.1", cache=c) for c in (one, two, one)] == [1, 2, 3]
    # Another process (a uvicorn worker of its own) sees and adds to the same count.
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'opora.settings.test'; "
        "django.setup(); "
        "from django.core.cache.backends.redis import RedisCache; "
        "from opora.core.ratelimit import Limit, hit; "
        f"print(hit(Limit({limit.scope!r}, 3, 3600), '198.51.100.1', "
        f"cache=RedisCache({REDIS_URL!r}, {{}})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip().splitlines()[-1] == "4"
    assert hit(limit, "198.51.100.1", cache=two) == 5


def test_the_limits_are_read_from_the_settings(settings):
    settings.OPORA_RATE_LIMITS = {"portal-form": (2, 60)}
    assert (ratelimit.PORTAL_FORM.count, ratelimit.PORTAL_FORM.window) == (2, 60)
    settings.OPORA_RATE_LIMITS = {}
    assert ratelimit.PORTAL_FORM.count == 30 and ratelimit.PORTAL_IIN_CHECK.count == 10


def test_the_api_answers_429_in_json_past_its_limit(client, settings):
    settings.OPORA_RATE_LIMITS = {"api-address": (3, 60)}
    for _ in range(3):
        assert client.get("/api/v1/slots", HTTP_AUTHORIZATION="Bearer nope").status_code == 401
    response = client.get(
        "/api/v1/slots", HTTP_AUTHORIZATION="Bearer other", HTTP_ACCEPT_LANGUAGE="ru"
    )
    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited"
    assert "Слишком много запросов" in response.json()["detail"]
    assert 0 < int(response["Retry-After"]) <= 60
    # Another address is not affected.
    other = client.get("/api/v1/slots", REMOTE_ADDR="192.0.2.44")
    assert other.status_code == 401


def test_one_api_token_is_limited_whatever_the_address(client, settings):
    settings.OPORA_RATE_LIMITS = {"api-token": (2, 60)}
    for n in range(2):
        r = client.get("/api/v1/slots", HTTP_AUTHORIZATION="Bearer t1", REMOTE_ADDR=f"192.0.2.{n}")
        assert r.status_code == 401
    r = client.get("/api/v1/slots", HTTP_AUTHORIZATION="Bearer t1", REMOTE_ADDR="192.0.2.9")
    assert r.status_code == 429
