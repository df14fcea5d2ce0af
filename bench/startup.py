"""Benchmark "startup": seconds from `make run` to the first page, cold and warm.

    .venv/bin/python bench/startup.py [--warm-runs 3] [--timeout 300] [--json]
                                      [--command "make run"]

Starts the command (by default `make run`) on a free port (PORT), with its own var/ folder
(var/bench/startup/: OPORA_VAR_DIR) and the embedded default (DATABASE_URL and REDIS_URL unset),
polls /healthz and then the portal's page /s/ every 50 ms until both answer 200, and stops the
command's process group. "Cold": the folder is emptied first (a new database: every migration, the
static files, the demo). "Warm": the same again, with everything in place from the run before.
The virtualenv is installed already in both (`make install`; on a new machine that comes first).
The `prepare:` lines of the run (opora/core/management/commands/prepare.py) give the steps' times.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "bench" / "startup"
TARGET_WARM_S = 10.0
POLL_S = 0.05


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback only
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Stops the process group this benchmark started (make, the shell, uvicorn, the scheduler)."""
    for sig, wait_s in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(wait_s)
            return
        except subprocess.TimeoutExpired:
            continue


def one_run(command: list[str], timeout: float, log: Path) -> dict[str, Any]:
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "OPORA_PUBLIC_URL", "PORT"}
    }
    env.update({"PORT": str(port), "OPORA_VAR_DIR": str(VAR)})
    base = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(  # noqa: S603 - the project's own command
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        health = page = None
        try:
            while time.perf_counter() - started < timeout:
                if proc.poll() is not None:
                    break
                if health is None and answers(base + "/healthz"):
                    health = time.perf_counter() - started
                if health is not None and answers(base + "/s/"):
                    page = time.perf_counter() - started
                    break
                time.sleep(POLL_S)
        finally:
            stop(proc)
    text = log.read_text(encoding="utf-8", errors="replace")
    steps = [line for line in text.splitlines() if line.startswith("prepare:")]
    if page is None:
        tail = "\n".join(text.splitlines()[-15:])
        raise RuntimeError(f"no page within {timeout:.0f} s (exit {proc.returncode}); log:\n{tail}")
    return {
        "port": port,
        "healthz_s": round(health or page, 2),
        "page_s": round(page, 2),
        "steps": steps,
    }


def run(warm_runs: int, timeout: float, command: list[str]) -> dict[str, Any]:
    shutil.rmtree(VAR, ignore_errors=True)
    VAR.mkdir(parents=True)
    logs = VAR.parent
    cold = one_run(command, timeout, logs / "startup-cold.log")
    warm = [one_run(command, timeout, logs / f"startup-warm-{i}.log") for i in range(warm_runs)]
    pages = [w["page_s"] for w in warm]
    return {
        "command": shlex.join(command),
        "cold_s": cold["page_s"],
        "cold_steps": cold["steps"],
        "warm_s": pages,
        "warm_healthz_s": [w["healthz_s"] for w in warm],
        "warm_median_s": round(statistics.median(pages), 2) if pages else None,
        "warm_max_s": max(pages) if pages else None,
        "warm_steps": warm[-1]["steps"] if warm else [],
        "target_warm_s": TARGET_WARM_S,
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--warm-runs", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=300.0, help="per run, seconds (300)")
    parser.add_argument("--command", default="make run", help='what to start ("make run")')
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    result = run(args.warm_runs, args.timeout, shlex.split(args.command))
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"{result['command']}: cold {result['cold_s']} s to the first page")
    print("\n".join("  " + step for step in result["cold_steps"]))
    print(
        f"warm: {', '.join(map(str, result['warm_s']))} s (median {result['warm_median_s']} s; "
        f"target ≤ {TARGET_WARM_S:.0f} s)"
    )
    print("\n".join("  " + step for step in result["warm_steps"]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
