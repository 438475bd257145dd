#!/usr/bin/env bash
# Make sure a PostgreSQL server is reachable for the integration tests and print its libpq DSN on stdout.
#   1. the server already running at 127.0.0.1:5432 (user postgres, trust auth), if it answers;
#   2. otherwise a throw-away cluster on 127.0.0.1:${LIENTHONG_PG_PORT:-54329}, made with the server binaries found
#      on the machine, installing Debian's `postgresql` package first when there are none.
# Progress goes to stderr so that callers can capture the DSN.
set -euo pipefail
say() { printf 'ensure-postgres: %s\n' "$*" >&2; }
answers() { # host port
  "${PYTHON:-.venv/bin/python}" - "$1" "$2" <<'PY' >/dev/null 2>&1
import sys, psycopg
psycopg.connect(host=sys.argv[1], port=sys.argv[2], user="postgres", dbname="postgres", connect_timeout=3).close()
PY
}

if [ -n "${LIENTHONG_TEST_PG_DSN:-}" ]; then echo "$LIENTHONG_TEST_PG_DSN"; exit 0; fi
if answers 127.0.0.1 5432; then
  say "using the PostgreSQL server running at 127.0.0.1:5432"
  echo "host=127.0.0.1 port=5432 user=postgres dbname=postgres"; exit 0
fi

port=${LIENTHONG_PG_PORT:-54329}
data=${LIENTHONG_PG_DATA:-/tmp/lienthong-pg-$port}
if answers 127.0.0.1 "$port"; then
  say "using the throw-away cluster already running at 127.0.0.1:$port"
  echo "host=127.0.0.1 port=$port user=postgres dbname=postgres"; exit 0
fi

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bindir" ] && command -v pg_config >/dev/null && [ -x "$(pg_config --bindir)/initdb" ]; then
  bindir=$(pg_config --bindir)
fi
if [ -z "$bindir" ]; then
  say "no PostgreSQL server binaries found: installing Debian's postgresql package"
  sudo_=""; [ "$(id -u)" -eq 0 ] || sudo_="sudo"
  $sudo_ apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq postgresql >&2
  bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
fi

# initdb refuses to run as root: run the cluster as the unprivileged `postgres` user when we are root.
run_as=()
if [ "$(id -u)" -eq 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --home-dir /nonexistent --shell /usr/sbin/nologin postgres
  run_as=(runuser -u postgres --)
fi
if [ ! -s "$data/PG_VERSION" ]; then
  say "creating a throw-away cluster in $data with $bindir"
  mkdir -p "$data"; [ "$(id -u)" -eq 0 ] && chown postgres "$data"
  "${run_as[@]}" "$bindir/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >&2
fi
say "starting it on 127.0.0.1:$port"
"${run_as[@]}" "$bindir/pg_ctl" -D "$data" -l "$data/server.log" -w \
  -o "-p $port -c listen_addresses=127.0.0.1 -k $data -c fsync=off" start >&2
echo "host=127.0.0.1 port=$port user=postgres dbname=postgres"
