#!/usr/bin/env bash
# Create the virtualenv; on a fresh Debian, install python3-venv first (Debian ships venv separately).
set -euo pipefail
PY=${1:-python3}
VENV=${2:-.venv}
[ -x "$VENV/bin/python" ] && exit 0
if ! "$PY" -m venv "$VENV" 2>/dev/null; then
  rm -rf "$VENV"
  echo "Installing python3-venv (Debian) ..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
  "$PY" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --upgrade "pip>=24"
