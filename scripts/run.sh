#!/usr/bin/env bash
# Serve Opora with demo data. Embedded default (SQLite under var/, no servers) unless DATABASE_URL /
# REDIS_URL are set, in which case the same steps run against PostgreSQL and Redis.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${1:-${PORT:-8000}}
BIN=.venv/bin
export DJANGO_SETTINGS_MODULE=${DJANGO_SETTINGS_MODULE:-opora.settings.local}

$BIN/opora migrate --noinput -v0
$BIN/opora collectstatic --noinput -v0
$BIN/opora demo

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM
if [ -n "${REDIS_URL:-}" ]; then
  # With a broker: a Celery worker with the beat scheduler embedded runs background and periodic work.
  $BIN/celery -A opora worker --beat --loglevel=WARNING --concurrency=2 &
  pids+=($!)
else
  # Embedded default: no broker; this process fires the periodic tasks (they run in-process).
  $BIN/opora scheduler &
  pids+=($!)
fi
echo "Opora is at http://127.0.0.1:${PORT}/  (Ctrl+C stops it)"
$BIN/uvicorn opora.asgi:application --host 127.0.0.1 --port "$PORT" --log-level warning &
pids+=($!)
wait "${pids[-1]}"
