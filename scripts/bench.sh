#!/usr/bin/env bash
# `make bench`: the speed targets of DESIGN.md measured on PostgreSQL beside the raw database.
# Arguments go to bench/run.py (e.g. `bash scripts/bench.sh --only race,lookup --rows 200000`).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh

# The race opens 200 connections at once. Without DATABASE_URL, the local server on port 5432 is
# used when it allows that many; otherwise the benchmark starts its own throwaway PostgreSQL with
# stock durability (fsync and synchronous_commit on, unlike the test suite's throwaway server) and
# max_connections=300.
BENCH_PG_DIR=""
cleanup() {
  stop_services
  if [ -n "$BENCH_PG_DIR" ]; then
    "${BENCH_PG_RUN[@]}" "$BENCH_PG_BIN/pg_ctl" -D "$BENCH_PG_DIR/data" -m fast stop >/dev/null 2>&1 || true
    rm -rf "$BENCH_PG_DIR"
  fi
}
trap cleanup EXIT

start_bench_postgres() {
  local port=54339
  BENCH_PG_BIN=$(pg_bin) || { echo "Installing PostgreSQL (Debian) ..."; apt_install postgresql; BENCH_PG_BIN=$(pg_bin); }
  BENCH_PG_DIR=$(mktemp -d /tmp/opora-bench-pg.XXXXXX)
  chown postgres:postgres "$BENCH_PG_DIR" 2>/dev/null || true
  BENCH_PG_RUN=(runuser -u postgres --)
  [ "$(id -u)" = 0 ] || BENCH_PG_RUN=(env)
  "${BENCH_PG_RUN[@]}" "$BENCH_PG_BIN/initdb" -D "$BENCH_PG_DIR/data" -A trust -U postgres -E UTF8 >/dev/null
  "${BENCH_PG_RUN[@]}" "$BENCH_PG_BIN/pg_ctl" -D "$BENCH_PG_DIR/data" -l "$BENCH_PG_DIR/log" -w -o \
    "-p $port -k $BENCH_PG_DIR -c listen_addresses=127.0.0.1 -c max_connections=300" start >/dev/null
  export DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
  echo "Started a throwaway PostgreSQL for the benchmark on port $port"
}

if [ -n "${DATABASE_URL:-}" ]; then
  ensure_postgres  # the server you chose; bench/run.py says so if it allows too few connections
else
  command -v psql >/dev/null || apt_install postgresql-client
  max_conn=$(psql "postgres://postgres@127.0.0.1:5432/postgres" -tAc "show max_connections" 2>/dev/null || echo 0)
  if [ "${max_conn:-0}" -ge 250 ]; then
    ensure_postgres  # the local server on 5432
  else
    start_bench_postgres
  fi
fi

ensure_redis  # production-like: client notifications are queued, not sent inside the booking
.venv/bin/python bench/run.py "$@"
