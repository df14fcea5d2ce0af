#!/usr/bin/env bash
# Serve Opora with demo data. Embedded default (SQLite under var/, no servers) unless DATABASE_URL /
# REDIS_URL are set, in which case the same steps run against PostgreSQL and Redis.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${1:-${PORT:-8000}}
export PORT
# Links in letters, SMS and messenger notices point at the port being served unless told otherwise.
export OPORA_PUBLIC_URL=${OPORA_PUBLIC_URL:-http://127.0.0.1:${PORT}}
BIN=.venv/bin
export DJANGO_SETTINGS_MODULE=${DJANGO_SETTINGS_MODULE:-opora.settings.local}

# migrate, collectstatic and the demo in one process, each skipped when it has nothing to do.
$BIN/opora prepare

pids=()
# Janus for events' group rooms when it is installed (apt-get install janus); without it the 1:1
# room works as ever and a group room says it is unavailable.
source scripts/janus.sh
ensure_janus
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; stop_janus; }
trap cleanup EXIT INT TERM
echo "Opora is at http://127.0.0.1:${PORT}/  (Ctrl+C stops it)"
$BIN/uvicorn opora.asgi:application --host 127.0.0.1 --port "$PORT" --log-level warning &
server=$!
pids+=("$server")
# The background worker starts beside the server, at a lower priority so that it does not delay the
# first page; its first periodic run is at the next whole minute anyway.
if [ -n "${REDIS_URL:-}" ]; then
  # With a broker: a Celery worker with the beat scheduler embedded runs background and periodic work.
  mkdir -p var  # beat's schedule file lives beside the SQLite database, not in the checkout
  nice -n 10 $BIN/celery -A opora worker --beat --schedule=var/celerybeat-schedule --loglevel=WARNING --concurrency=2 &
  pids+=($!)
else
  # Embedded default: no broker; this process fires the periodic tasks (they run in-process).
  nice -n 10 $BIN/opora scheduler &
  pids+=($!)
fi
wait "$server"
