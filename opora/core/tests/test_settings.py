import os
import subprocess
import sys

import pytest


def opora(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("OPORA_", "DJANGO_"))}
    base.pop("DATABASE_URL", None)
    base.pop("REDIS_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "opora.cli", *args],
        env={**base, "DJANGO_SETTINGS_MODULE": "opora.settings.production", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


PRODUCTION = {
    "OPORA_SECRET_KEY": "x" * 20 + "a-long-random-production-secret-for-the-check",
    "DATABASE_URL": "postgres://opora@127.0.0.1:5432/opora",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "OPORA_ALLOWED_HOSTS": "opora.example.org",
    "OPORA_RECORDING_KEY": "q7mXh0z3b1aVt2Yc8NwR5kLs9PdF4eGj6UoI0yTrE1A=",
    "OPORA_FIELD_KEY": "Zk3b9QmT1xW7cVr5Ns2Lp8Hd4Gf6Je0Ay1Ou3Ii5Ee7=",
    "OPORA_INDEX_KEY": "Wb4n8RtY2uI6oP0aS3dF7gH1jK5lZ9xC2vB6nM0qE4w=",
    "OPORA_AUDIT_KEY": "Rk7d2NpW4xB9cTq1Lm5Hs8Gv3Jy6Fa0Ez2Ku4Io7Ub1=",
    "OPORA_PUBLIC_URL": "https://opora.example.org",
    # Where the data may live (core.residency): the database, cache and mail of this check.
    "OPORA_DATA_HOSTS_ALLOWED": "127.0.0.0/8,localhost",
}


def test_production_settings_pass_the_deployment_check():
    result = opora(["check", "--deploy"], PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("OPORA_SECRET_KEY", "OPORA_SECRET_KEY must be set"),
        ("DATABASE_URL", "DATABASE_URL must point to PostgreSQL"),
        ("REDIS_URL", "REDIS_URL must be set"),
        ("OPORA_RECORDING_KEY", "OPORA_RECORDING_KEY must be set"),
        ("OPORA_FIELD_KEY", "OPORA_FIELD_KEY must be set"),
        ("OPORA_AUDIT_KEY", "OPORA_AUDIT_KEY must be set"),
        ("OPORA_INDEX_KEY", "OPORA_INDEX_KEY must be set in production"),
        ("OPORA_PUBLIC_URL", "OPORA_PUBLIC_URL must be set in production"),
    ],
)
def test_production_refuses_to_start_without_its_settings(missing, message):
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    result = opora(["check"], env)
    assert result.returncode != 0
    assert message in result.stderr


def test_production_refuses_a_public_url_that_is_not_an_address():
    """A host name without the scheme would make every link in a notice relative (dead)."""
    result = opora(["check"], {**PRODUCTION, "OPORA_PUBLIC_URL": "opora.example.org"})
    assert result.returncode != 0
    assert "OPORA_PUBLIC_URL must be an absolute address" in result.stderr


def test_production_ignores_port_for_the_public_url():
    """PORT (which base.py falls back on) does not stand in for the public address."""
    env = {k: v for k, v in PRODUCTION.items() if k != "OPORA_PUBLIC_URL"}
    result = opora(["check"], {**env, "PORT": "8811"})
    assert result.returncode != 0
    assert "OPORA_PUBLIC_URL must be set in production" in result.stderr


@pytest.mark.parametrize(
    ("index_key", "message"),
    [
        ("not-a-key", "OPORA_INDEX_KEY must be 32 bytes in URL-safe base64"),
        (PRODUCTION["OPORA_FIELD_KEY"], "OPORA_INDEX_KEY must differ from OPORA_FIELD_KEY"),
    ],
)
def test_production_refuses_a_bad_or_reused_index_key(index_key, message):
    result = opora(["check"], {**PRODUCTION, "OPORA_INDEX_KEY": index_key})
    assert result.returncode != 0
    assert message in result.stderr
