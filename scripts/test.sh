#!/usr/bin/env bash
# The whole suite: unit tests, integration tests on a real PostgreSQL, browser tests in Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh
source scripts/janus.sh
trap 'stop_services; stop_janus' EXIT

if [ ! -x /usr/bin/chromium ]; then
  echo "Installing Debian's Chromium for the browser tests ..."
  apt_install chromium
fi
# A real IMAP server for the e-mail intake tests: each test run starts its own dovecot instance.
if [ ! -x /usr/sbin/dovecot ]; then
  echo "Installing Debian's dovecot (IMAP) for the e-mail tests ..."
  apt_install dovecot-imapd
fi
# WeasyPrint (the journals as PDF) needs Pango; the PDFs' Cyrillic and Kazakh letters need DejaVu.
if [ ! -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || ! ldconfig -p | grep -q libpangoft2-1.0; then
  echo "Installing Pango and DejaVu fonts for the PDF journals ..."
  apt_install libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core
fi
ensure_postgres
ensure_redis
# Janus (Debian's janus, VideoRoom) for the group rooms of events: a throwaway instance on a free
# loopback port (OPORA_JANUS_URL); the browser test of the group room skips if it cannot start.
ensure_janus install

# Lint and format first: a style or import-order slip fails in seconds, not after the suite.
.venv/bin/ruff check opora e2e bench
.venv/bin/ruff format --check opora e2e bench
# Types (pyproject.toml's [tool.mypy]: strict on access, the services, the selectors and the API).
.venv/bin/mypy

# Against the embedded SQLite: the PostgreSQL database itself is created by the test run.
env -u DATABASE_URL .venv/bin/opora makemigrations --check --dry-run --settings=opora.settings.test >/dev/null \
  || { echo "Models changed without a migration: run 'opora makemigrations'"; exit 1; }

# The whole suite on PostgreSQL; the SQLite-specific tests (the booking race, the demo) run the
# embedded default in subprocesses of their own.
.venv/bin/python -m pytest -p no:cacheprovider "$@"
