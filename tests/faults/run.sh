#!/usr/bin/env bash
# The fault suite (issue 11): real faults between the daemons and a
# PostgreSQL of their own, never the integration suite's, because these tests
# freeze it (SIGSTOP), restart it, hold its row locks and change its role
# settings. A fault-injecting TCP proxy (lib/proxy.js) sits between a daemon
# and the server where a test needs one. Uses the integration suite's node
# modules and harness (tests/lib/node_suite.sh), which runs the files in two
# shards side by side, each with a PostgreSQL of its own. Prints each file's
# results and "N passed, M failed"; exits non-zero on failure.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/node_suite.sh"
suite_node_modules

tmp=$(suite_tmp wallet-faults)
cleanup() {
  local pg
  for pg in "$tmp"/*/pg; do
    [ -d "$pg" ] || continue
    # a test that failed mid-freeze must not leave the server stopped
    [ -f "$pg/data/postmaster.pid" ] && kill -CONT "$(head -1 "$pg/data/postmaster.pid")" 2>/dev/null || true
    bash "$root/scripts/pg.sh" stop "$pg" || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
# Helpers built by the Makefile (tests/tools): the notification socket, the thread stall.
export TOOLS_DIR="${TOOLS_DIR:-$root/build/tests/tools}" BIN_DIR="${BIN_DIR:-$root/bin}" METRICS_ADDR=0

# A shard's PostgreSQL (suite_node_shards): its own under $tmp/<n>, since
# these tests freeze it, restart it and change its role settings, migrated
# as the superuser (ADMIN_DATABASE_URL); the daemons run as their role
# wallet_app (DATABASE_URL). A port taken meanwhile: another try.
shard_pg() {
  local dir=$tmp/$1 try
  mkdir -p "$dir/logs"
  for try in 1 2 3; do
    PG_PORT=$(suite_free_port)
    ADMIN_DATABASE_URL=$(bash "$root/scripts/pg.sh" start "$dir/pg" "$PG_PORT") && break
    [ "$try" -lt 3 ] || return 1
  done
  DATABASE_URL=$(bash "$root/scripts/app-url.sh" "$ADMIN_DATABASE_URL")
  export ADMIN_DATABASE_URL DATABASE_URL PG_DIR="$dir/pg" PG_PORT LOG_DIR="$dir/logs"
  DATABASE_URL=$ADMIN_DATABASE_URL bash "$root/scripts/migrate.sh" 2>/dev/null
}

cd "$here"
status=0
files=("$@")
[ ${#files[@]} -gt 0 ] || files=(*.test.js)
# Two shards side by side (FAULTS_SHARDS): the tests mostly wait on their
# faults' timers (deadlines, the peer cap, backoff), so two halve the wall
# time and barely load the CPU; each file is bounded (most take seconds).
suite_node_shards 300 "${FAULTS_SHARDS:-2}" shard_pg -- "${files[@]}" || status=$?
# Daemons built with sanitizers (BIN_DIR=build-sanitize/bin) report into their logs.
for logs in "$tmp"/*/logs; do suite_sanitizer_reports "$logs" || status=1; done
[ "$status" = 0 ] || { echo "daemon logs (last lines):"; tail -n 20 "$tmp"/*/logs/*.log || true; }
exit $status
