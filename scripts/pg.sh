#!/usr/bin/env bash
# A PostgreSQL cluster of the project's own: `pg.sh start DIR PORT` creates it
# under DIR on first use (trust auth on a unix socket in DIR and on 127.0.0.1),
# starts it and creates database "wallet"; `pg.sh stop DIR` stops it. Used by
# make run (var/pg, kept between runs), the tests and the benchmarks (temp dirs).
set -euo pipefail
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$bindir" ] || { echo "pg.sh: no PostgreSQL server found; run scripts/deps.sh" >&2; exit 1; }
cmd=${1:?usage: pg.sh start DIR PORT | stop DIR | url DIR PORT}
dir=${2:?data directory}
dir=$(mkdir -p "$dir" && cd "$dir" && pwd)

# PostgreSQL refuses to run as root: run it as the postgres user (or nobody).
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    local user=postgres
    id "$user" >/dev/null 2>&1 || user=nobody
    chown -R "$user" "$dir"
    runuser -u "$user" -- "$@"
  else
    "$@"
  fi
}

case "$cmd" in
  start)
    port=${3:?port}
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      mkdir -p "$dir/data"
      as_owner "$bindir/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
        { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    # setsid: a Ctrl-C meant for `make run` must not reach the server directly.
    as_owner setsid "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200 -c shared_buffers=256MB" \
      start >/dev/null || { tail -20 "$dir/server.log" >&2; exit 1; }
    psql -X -q -h "$dir" -p "$port" -U postgres -d postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname = 'wallet'" | grep -q 1 ||
      psql -X -q -h "$dir" -p "$port" -U postgres -d postgres -c 'CREATE DATABASE wallet' >/dev/null
    echo "postgresql://postgres@127.0.0.1:$port/wallet"
    ;;
  stop)
    [ -f "$dir/data/postmaster.pid" ] || exit 0
    as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    ;;
  *) echo "usage: pg.sh start DIR PORT | stop DIR" >&2; exit 2 ;;
esac
