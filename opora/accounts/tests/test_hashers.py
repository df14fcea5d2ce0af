"""Passwords are hashed with Argon2id in the local and production presets; older hashes still work
and are re-hashed with Argon2id at the next sign-in. (The test preset keeps MD5 for speed.)"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.hashers import Argon2PasswordHasher, make_password
from django.test import override_settings
from django.urls import reverse

from opora.accounts.models import Role
from opora.demo.factories import make_user
from opora.settings import base

ARGON2ID = "argon2$argon2id$v=19$m=47104,t=1,p=1$"
PASSWORD = "pass-Word-123"  # noqa: S105 - make_user's
PRODUCTION = {
    "OPORA_SECRET_KEY": "x" * 20 + "a-long-random-production-secret-for-the-check",
    "DATABASE_URL": "postgres://opora@127.0.0.1:5432/opora",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "OPORA_RECORDING_KEY": "q7mXh0z3b1aVt2Yc8NwR5kLs9PdF4eGj6UoI0yTrE1A=",
    "OPORA_FIELD_KEY": "Zk3b9QmT1xW7cVr5Ns2Lp8Hd4Gf6Je0Ay1Ou3Ii5Ee7=",
    "OPORA_INDEX_KEY": "Wb4n8RtY2uI6oP0aS3dF7gH1jK5lZ9xC2vB6nM0qE4w=",
    "OPORA_AUDIT_KEY": "Rk7d2NpW4xB9cTq1Lm5Hs8Gv3Jy6Fa0Ez2Ku4Io7Ub1=",
    "OPORA_PUBLIC_URL": "https://opora.example.org",
}
real_hashers = override_settings(PASSWORD_HASHERS=base.PASSWORD_HASHERS)


def first_hasher(preset: str, env: dict[str, str], tmp_path: Path) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OPORA_", "DJANGO_"))}
    clean.pop("DATABASE_URL", None)
    clean.pop("REDIS_URL", None)
    done = subprocess.run(  # noqa: S603 - our own CLI, fixed arguments
        [
            sys.executable,
            "-m",
            "opora.cli",
            "shell",
            "-c",
            "from django.conf import settings; print(settings.PASSWORD_HASHERS[0])",
        ],
        env={**clean, "DJANGO_SETTINGS_MODULE": preset, "OPORA_VAR_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize(
    ("preset", "env"), [("opora.settings.local", {}), ("opora.settings.production", PRODUCTION)]
)
def test_argon2id_is_the_first_hasher_in_local_and_production(preset, env, tmp_path):
    assert first_hasher(preset, env, tmp_path) == "opora.accounts.hashers.OporaArgon2PasswordHasher"


@real_hashers
def test_new_passwords_are_argon2id_with_owasp_parameters():
    encoded = make_password(PASSWORD)
    assert encoded.startswith(ARGON2ID)  # OWASP's first set: 46 MiB, one pass, one lane


@pytest.mark.django_db
@real_hashers
@pytest.mark.parametrize(
    "old",
    [
        pytest.param(lambda: make_password(PASSWORD, hasher="pbkdf2_sha256"), id="pbkdf2"),
        pytest.param(  # Argon2id with Django's own parameters (m=100 MiB, p=8)
            lambda: Argon2PasswordHasher().encode(PASSWORD, Argon2PasswordHasher().salt()),
            id="argon2-django-parameters",
        ),
    ],
)
def test_sign_in_with_an_older_hash_works_and_rehashes_with_argon2id(client, old):
    user = make_user(Role.OPERATOR)
    user.password = old()
    user.save(update_fields=["password"])
    assert not user.password.startswith(ARGON2ID)
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.password.startswith(ARGON2ID)


@pytest.mark.django_db
@real_hashers
def test_a_wrong_password_neither_signs_in_nor_rehashes(client):
    user = make_user(Role.OPERATOR)
    user.password = make_password(PASSWORD, hasher="pbkdf2_sha256")
    user.save(update_fields=["password"])
    before = user.password
    response = client.post(reverse("login"), {"username": user.username, "password": "wrong"})
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.password == before
