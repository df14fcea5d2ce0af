#!/usr/bin/env bash
# Janus for the group rooms of events (issue 14): render its configuration from the environment,
# start a throwaway instance for `make run` / `make test`, stop it.
#   scripts/janus.sh render DIR     write DIR/*.jcfg from deploy/janus/ (the systemd unit uses it)
# Sourced by run.sh and test.sh: `ensure_janus [install]` exports OPORA_JANUS_URL and
# OPORA_JANUS_ADMIN_SECRET (unless OPORA_JANUS_URL is already set); `stop_janus` stops it.

_janus_root() { cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd; }

render_janus_config() {
  local dir=$1 root
  root=$(_janus_root)
  mkdir -p "$dir"
  local f
  for f in janus.jcfg janus.plugin.videoroom.jcfg janus.transport.http.jcfg; do
    sed -e "s|@CONFIG_DIR@|$dir|g" \
        -e "s|@RTP_PORTS@|${OPORA_JANUS_RTP_PORTS:-20000-40000}|g" \
        -e "s|@ADMIN_SECRET@|${OPORA_JANUS_ADMIN_SECRET:?set OPORA_JANUS_ADMIN_SECRET}|g" \
        -e "s|@HTTP_PORT@|${OPORA_JANUS_HTTP_PORT:-8088}|g" \
        -e "s|@HTTP_INTERFACE@|${OPORA_JANUS_HTTP_INTERFACE:-lo}|g" \
        -e "s|@ALLOW_ORIGIN@|${OPORA_JANUS_ALLOW_ORIGIN:-*}|g" \
        "$root/deploy/janus/$f" > "$dir/$f"
  done
  chmod 600 "$dir"/*.jcfg
}

# ensure_janus [install]: with "install", installs Debian's janus when missing (tests); without,
# a machine without Janus just runs without group rooms (make run: the 1:1 room needs none).
ensure_janus() {
  [ -n "${OPORA_JANUS_URL:-}" ] && return 0
  if [ ! -x /usr/bin/janus ]; then
    if [ "${1:-}" = install ] && declare -F apt_install >/dev/null; then
      echo "Installing Debian's janus (WebRTC server) for the group rooms ..."
      apt_install janus || { echo "janus not installed: the group-room tests will skip"; return 0; }
    else
      echo "No Janus (apt-get install janus): events' group rooms will say they are unavailable."
      return 0
    fi
  fi
  local dir port
  dir=$(mktemp -d /tmp/opora-janus.XXXXXX)
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  export OPORA_JANUS_ADMIN_SECRET=${OPORA_JANUS_ADMIN_SECRET:-$(python3 -c 'import secrets; print(secrets.token_hex(16))')}
  OPORA_JANUS_HTTP_PORT=$port OPORA_JANUS_HTTP_INTERFACE=lo render_janus_config "$dir"
  /usr/bin/janus -F "$dir" -L "$dir/janus.log" --disable-colors >/dev/null 2>&1 &
  OPORA_JANUS_PID=$!
  OPORA_JANUS_DIR=$dir
  local i
  for i in $(seq 50); do
    if python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/janus/info', timeout=1)" 2>/dev/null; then
      export OPORA_JANUS_URL="http://127.0.0.1:$port/janus"
      echo "Started a throwaway Janus at $OPORA_JANUS_URL ($dir)"
      return 0
    fi
    sleep 0.2
  done
  echo "Janus did not start (see $dir/janus.log): events' group rooms will be unavailable."
  stop_janus
}

stop_janus() {
  [ -n "${OPORA_JANUS_PID:-}" ] && kill "$OPORA_JANUS_PID" 2>/dev/null || true
  [ -n "${OPORA_JANUS_DIR:-}" ] && rm -rf "$OPORA_JANUS_DIR" || true
  OPORA_JANUS_PID=""
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  case "${1:-}" in
    render) render_janus_config "${2:?directory}" ;;
    start) ensure_janus install; echo "OPORA_JANUS_URL=$OPORA_JANUS_URL"; wait ;;
    *) echo "usage: $0 render DIR | start" >&2; exit 2 ;;
  esac
fi
