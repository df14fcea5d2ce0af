#!/usr/bin/env bash
# Sourced by test.sh and bench.sh: make sure a PostgreSQL (and a Redis) answer, and export their URLs.
# Uses DATABASE_URL / REDIS_URL when set; else a server on the standard local port when one answers;
# else installs Debian's packages if needed and starts throwaway servers in a temporary directory.

export DEBIAN_FRONTEND=noninteractive
_apt_updated=""
apt_install() {
  [ -n "$_apt_updated" ] || { apt-get update -qq >/dev/null; _apt_updated=1; }
  apt-get install -y -qq "$@" >/dev/null
}

pg_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && { echo "$d"; return 0; }; done
  return 1
}

# start_throwaway_postgres [PORT] [DURABLE]: a PostgreSQL in a temporary directory, removed by
# stop_services. Tests run it with fsync off; the benchmark passes DURABLE=1 for stock durability.
start_throwaway_postgres() {
  local bindir port=${1:-54329} durable=${2:-0} dir extra="-c fsync=off"
  [ "$durable" = 1 ] && extra=""
  bindir=$(pg_bin) || { echo "Installing PostgreSQL (Debian) ..."; apt_install postgresql; bindir=$(pg_bin); }
  dir=$(mktemp -d /tmp/opora-pg.XXXXXX)
  chown postgres:postgres "$dir" 2>/dev/null || true
  local run=(runuser -u postgres --)
  [ "$(id -u)" = 0 ] || run=()
  "${run[@]}" "$bindir/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 >/dev/null
  "${run[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/log" -w -o \
    "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=300 $extra" start >/dev/null
  OPORA_PG_STOP=("${run[@]}" "$bindir/pg_ctl" -D "$dir/data" -m fast stop)
  OPORA_PG_DIR=$dir
  export DATABASE_URL="postgres://postgres@127.0.0.1:$port/opora"
  echo "Started a throwaway PostgreSQL on port $port ($dir)"
}

ensure_postgres() {
  if [ -n "${DATABASE_URL:-}" ]; then return 0; fi
  command -v psql >/dev/null || apt_install postgresql-client
  if psql "postgres://postgres@127.0.0.1:5432/postgres" -tAc "select 1" >/dev/null 2>&1; then
    export DATABASE_URL="postgres://postgres@127.0.0.1:5432/opora"
  else
    start_throwaway_postgres
  fi
}

ensure_redis() {
  if [ -n "${REDIS_URL:-}" ]; then return 0; fi
  command -v redis-server >/dev/null || { echo "Installing Redis (Debian) ..."; apt_install redis-server; }
  if redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    export OPORA_TEST_REDIS_URL="redis://127.0.0.1:6379/15"
  else
    redis-server --daemonize yes --bind 127.0.0.1 --port 63799 --save "" --appendonly no \
      --dir /tmp --logfile /tmp/opora-redis.log
    OPORA_REDIS_STOP=(redis-cli -p 63799 shutdown nosave)
    export OPORA_TEST_REDIS_URL="redis://127.0.0.1:63799/15"
    echo "Started a throwaway Redis on port 63799"
  fi
}

stop_services() {
  [ -n "${OPORA_PG_STOP+x}" ] && "${OPORA_PG_STOP[@]}" >/dev/null 2>&1 || true
  [ -n "${OPORA_PG_DIR:-}" ] && rm -rf "$OPORA_PG_DIR" || true
  [ -n "${OPORA_REDIS_STOP+x}" ] && "${OPORA_REDIS_STOP[@]}" >/dev/null 2>&1 || true
}
