#!/usr/bin/env bash
# The whole suite: unit tests, integration tests on a real PostgreSQL, browser tests in Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh
trap stop_services EXIT

if [ ! -x /usr/bin/chromium ]; then
  echo "Installing Debian's Chromium for the browser tests ..."
  apt_install chromium
fi
ensure_postgres
ensure_redis

.venv/bin/opora makemigrations --check --dry-run --settings=opora.settings.test >/dev/null \
  || { echo "Models changed without a migration: run 'opora makemigrations'"; exit 1; }

# First the whole suite on PostgreSQL, then the SQLite-specific tests on the embedded default.
.venv/bin/python -m pytest -p no:cacheprovider "$@"
