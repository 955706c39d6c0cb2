#!/usr/bin/env bash
# The ceiling: pgbench on the benchmark's own PostgreSQL running exactly the
# statement an RPC issues (bench/pgbench/NAME.sql), prepared, one statement per
# transaction (autocommit, like the daemons), at CLIENTS clients for SECS.
# "hot" runs every client on one row (-D uid=HOT); "spread" picks one of the
# rows whose key is 1..ROWS at random (pgbench can only draw numbers, so the
# spread rows have numeric-text keys instead of UUIDs; the statement is the same).
# Prints tps=... and lat_ms=... (pgbench's average latency).
#   pgbench.sh URL NAME hot|spread CLIENTS SECS HOT_UUID ROWS
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
url=${1:?url}; name=${2:?name}; mode=${3:?hot|spread}; clients=${4:?clients}; secs=${5:?secs}
hot=${6:?hot uuid}; rows=${7:?rows}
script=$(mktemp /tmp/wallet-bench-pgb.XXXXXX)
trap 'rm -f "$script"' EXIT
if [ "$mode" = spread ]; then
  { echo "\\set uid random(1, $rows)"; cat "$here/pgbench/$name.sql"; } >"$script"
  define=()
else
  cat "$here/pgbench/$name.sql" >"$script"
  define=(-D "uid=$hot")
fi
out=$(timeout $((secs + 60)) pgbench -n -M prepared -c "$clients" -j "$(( clients < 2 ? 1 : 2 ))" -T "$secs" \
  "${define[@]}" -f "$script" "$url" 2>&1) || { echo "$out" >&2; exit 1; }
echo "$out" | awk '/^tps = / { print "tps=" int($3 + 0.5) } /^latency average/ { print "lat_ms=" $4 }
                   /^number of failed transactions/ { print "failed=" $5 }'
