#!/usr/bin/env bash
# `make bench`: the speed targets of DESIGN.md measured on PostgreSQL beside the raw database.
# Arguments go to bench/run.py (e.g. `bash scripts/bench.sh --only race,lookup --rows 200000`).
# `--only startup,signin`: make run's time to the first page and the sign-in POST (bench/startup.py,
# bench/signin.py; they run in their own processes, the sign-in also on production's settings).
# `--only export`: a streamed XLSX export of 100k journal rows, its peak memory (bench/bench_export.py).
# `--only waves`: three waves of 400 simultaneous requests on uvicorn (production's settings), with
# the connection pool and without it (bench/load_waves.py): 5xx per wave, most server connections.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh

# The race opens 200 connections at once. Without DATABASE_URL, the local server on port 5432 is
# used when it allows that many; otherwise the benchmark starts its own throwaway PostgreSQL with
# stock durability (fsync and synchronous_commit on, unlike the test suite's throwaway server) and
# max_connections=300.
trap stop_services EXIT

if [ -n "${DATABASE_URL:-}" ]; then
  ensure_postgres  # the server you chose; bench/run.py says so if it allows too few connections
else
  command -v psql >/dev/null || apt_install postgresql-client
  max_conn=$(psql "postgres://postgres@127.0.0.1:5432/postgres" -tAc "show max_connections" 2>/dev/null || echo 0)
  if [ "${max_conn:-0}" -ge 250 ]; then
    ensure_postgres  # the local server on 5432
  else
    start_throwaway_postgres 54339 1
  fi
fi

ensure_redis  # production-like: client notifications are queued, not sent inside the booking
.venv/bin/python bench/run.py "$@"
