"""Run a test script module on the embedded default (a SQLite file, local settings) in a fresh
process, the way `make run` uses the database, and read the JSON its last line prints."""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]


def run_on_sqlite(module: str, var_dir: Path) -> tuple[dict[str, Any], str]:
    """The script's result (its last stdout line, JSON) and its stderr; fails the test if it failed."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        DJANGO_SETTINGS_MODULE="opora.settings.local",
        OPORA_VAR_DIR=str(var_dir),
        OPORA_LOG_LEVEL="WARNING",
    )
    proc = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", module],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if proc.returncode != 0:
        pytest.fail(f"{module} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1]), proc.stderr
