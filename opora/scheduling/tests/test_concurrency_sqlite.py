"""The embedded default: 20 threads on one SQLite file book one slot. IMMEDIATE transactions and
the busy timeout make writers queue: one booking, the rest Conflict, never "database is locked"."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def test_20_threads_one_slot_on_sqlite(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        DJANGO_SETTINGS_MODULE="opora.settings.local",
        OPORA_VAR_DIR=str(tmp_path),
        OPORA_LOG_LEVEL="WARNING",
    )
    proc = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "opora.scheduling.tests.sqlite_race"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if proc.returncode != 0:
        pytest.fail(f"race script failed:\n{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["vendor"] == "sqlite"
    assert result["errors"] == []
    assert "database is locked" not in proc.stderr
    assert result["booked"] == 1 and result["conflict"] == 19
    assert result["active_bookings"] == 1 and result["bookings"] == 1
    assert (tmp_path / "opora.sqlite3").exists()
