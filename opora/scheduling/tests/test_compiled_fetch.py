"""The booking path's compiled fetch returns what the plain QuerySet returns (compiled_contract.py),
on the database the suite runs on and on a SQLite file in a fresh process."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from opora.scheduling.tests.compiled_contract import run_contract

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.django_db(transaction=True)
def test_the_compiled_fetch_returns_what_the_queryset_returns():
    result = run_contract()
    assert result["mismatches"] == []
    assert result["cases"] == 11


def test_the_compiled_fetch_returns_what_the_queryset_returns_on_sqlite(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        DJANGO_SETTINGS_MODULE="opora.settings.local",
        OPORA_VAR_DIR=str(tmp_path),
        OPORA_LOG_LEVEL="WARNING",
    )
    proc = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "opora.scheduling.tests.compiled_contract"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if proc.returncode != 0:
        pytest.fail(f"contract script failed:\n{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["vendor"] == "sqlite"
    assert result["mismatches"] == []
    assert result["cases"] == 11
