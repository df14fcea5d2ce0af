"""The in-country data host check (issue 15): hosts, suffixes and networks on the allow-list;
an error in production for a host outside, a warning without a list, nothing in development."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from opora.core.residency import HostUse, host_allowed, outside, residency_check, settings_hosts

FAKE_DNS = {"db.kz.example": ["10.1.2.3"], "cache.abroad.example": ["203.0.113.9"]}


def fake(host: str) -> list[str]:
    return FAKE_DNS.get(host, [])


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("db.kz.example", True),  # resolves into 10.0.0.0/8
        ("cache.abroad.example", False),  # resolves outside
        ("10.9.9.9", True),
        ("192.0.2.1", False),
        ("mail.opora.kz", True),  # by suffix
        ("smtp.internal", True),  # by name
        ("unknown.example", False),  # does not resolve: not allowed
    ],
)
def test_host_allowed(host, allowed):
    entries = ["10.0.0.0/8", ".opora.kz", "smtp.internal"]
    assert host_allowed(host, entries, resolve=fake) is allowed


def test_settings_hosts_name_the_database_cache_broker_and_mail(settings):
    settings.DATABASES = {"default": {"HOST": "db.kz.example"}}
    settings.CACHES = {"default": {"LOCATION": "redis://cache.abroad.example:6379/0"}}
    settings.REDIS_URL = "redis://cache.abroad.example:6379/0"
    settings.CELERY_BROKER_URL = "memory://"
    settings.EMAIL_HOST = "smtp.internal"
    uses = settings_hosts()
    assert HostUse("database default", "db.kz.example") in uses
    assert HostUse("cache default", "cache.abroad.example") in uses
    assert HostUse("EMAIL_HOST", "smtp.internal") in uses
    bad = outside(uses, ["10.0.0.0/8", "smtp.internal"], resolve=fake)
    assert {u.what for u in bad} == {"cache default", "REDIS_URL"}


def test_the_system_check_in_production_and_development(settings):
    settings.DATABASES = {"default": {"HOST": "192.0.2.1"}}
    settings.CACHES = {"default": {"LOCATION": ""}}
    settings.REDIS_URL = ""
    settings.CELERY_BROKER_URL = "memory://"
    settings.EMAIL_HOST = "10.0.0.5"
    settings.OPORA_PRODUCTION = False
    settings.OPORA_DATA_HOSTS_ALLOWED = ["10.0.0.0/8"]
    assert residency_check() == []
    settings.OPORA_PRODUCTION = True
    errors = residency_check()
    assert [e.id for e in errors] == ["opora.E015"] and "database default" in errors[0].msg
    settings.OPORA_DATA_HOSTS_ALLOWED = []
    assert [e.id for e in residency_check()] == ["opora.W015"]


@pytest.mark.django_db
def test_the_command_lists_every_host_and_fails_on_one_outside(settings):
    settings.DATABASES = {**settings.DATABASES}
    settings.EMAIL_HOST = "192.0.2.1"
    settings.OPORA_DATA_HOSTS_ALLOWED = ["127.0.0.1/32", "::1/128", "localhost"]
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("check_residency", stdout=out)
    assert "OUTSIDE  EMAIL_HOST: 192.0.2.1" in out.getvalue()
    settings.EMAIL_HOST = "localhost"
    settings.OPORA_DATA_HOSTS_ALLOWED = ["127.0.0.0/8", "::1/128", "localhost"]
    call_command("check_residency", stdout=StringIO())
