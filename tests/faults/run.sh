#!/usr/bin/env bash
# The fault suite (issue 11): real faults between the daemons and a
# PostgreSQL of its own, never the integration suite's, because these tests
# freeze it (SIGSTOP), restart it, hold its row locks and change its role
# settings. A fault-injecting TCP proxy (lib/proxy.js) sits between a daemon
# and the server where a test needs one. Uses the integration suite's node
# modules and harness (tests/lib/node_suite.sh). Prints node's summary and
# "N passed, M failed"; exits non-zero on failure.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/node_suite.sh"
suite_node_modules

tmp=$(suite_tmp wallet-faults)
port=$(suite_free_port)
cleanup() {
  # a test that failed mid-freeze must not leave the server stopped
  [ -f "$tmp/pg/data/postmaster.pid" ] && kill -CONT "$(head -1 "$tmp/pg/data/postmaster.pid")" 2>/dev/null || true
  bash "$root/scripts/pg.sh" stop "$tmp/pg" || true
  rm -rf "$tmp"
}
trap cleanup EXIT
# Migrations as the superuser (ADMIN_DATABASE_URL), the daemons as their role wallet_app.
ADMIN_DATABASE_URL=$(bash "$root/scripts/pg.sh" start "$tmp/pg" "$port")
DATABASE_URL=$(bash "$root/scripts/app-url.sh" "$ADMIN_DATABASE_URL")
export ADMIN_DATABASE_URL DATABASE_URL PG_DIR="$tmp/pg" PG_PORT="$port" LOG_DIR="$tmp/logs" BIN_DIR="${BIN_DIR:-$root/bin}" METRICS_ADDR=0
# Helpers built by the Makefile (tests/tools): the notification socket, the thread stall.
export TOOLS_DIR="${TOOLS_DIR:-$root/build/tests/tools}"
mkdir -p "$LOG_DIR"
DATABASE_URL=$ADMIN_DATABASE_URL bash "$root/scripts/migrate.sh" 2>/dev/null

cd "$here"
status=0
files=("$@")
[ ${#files[@]} -gt 0 ] || files=(*.test.js)
# A bound on the whole run (it takes ~100 s).
suite_node_test 300 "${files[@]}" || status=$?
# Daemons built with sanitizers (BIN_DIR=build-sanitize/bin) report into their logs.
suite_sanitizer_reports "$LOG_DIR" || status=1
[ "$status" = 0 ] || { echo "daemon logs (last lines):"; tail -n 20 "$LOG_DIR"/*.log || true; }
exit $status
