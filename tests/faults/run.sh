#!/usr/bin/env bash
# The fault suite (issue 11): real faults between the daemons and a
# PostgreSQL of its own, never the integration suite's, because these tests
# freeze it (SIGSTOP), restart it, hold its row locks and change its role
# settings. A fault-injecting TCP proxy (lib/proxy.js) sits between a daemon
# and the server where a test needs one. Uses the integration suite's node
# modules and harness. Prints node's summary; exits non-zero on failure.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
it="$root/tests/integration"
[ -d "$it/node_modules/@grpc/grpc-js" ] && [ "$it/node_modules/.package-lock.json" -nt "$it/package-lock.json" ] ||
  (cd "$it" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)

tmp=$(mktemp -d /tmp/wallet-faults.XXXXXX)
chmod 711 "$tmp" # the postgres user must reach its data dir inside
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
       echo $((20000 + RANDOM % 20000)))
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
# A bound on the whole run (it takes ~100 s): a hang fails, it never blocks make test.
timeout 300 node --test --test-concurrency=1 --test-reporter=spec "${files[@]}" || status=$?
# Daemons built with sanitizers (BIN_DIR=build-sanitize/bin) report into their logs.
if grep -l -E "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$LOG_DIR"/*.log 2>/dev/null; then
  grep -h -A30 -E "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$LOG_DIR"/*.log | head -120
  status=1
fi
[ "$status" = 0 ] || { echo "daemon logs (last lines):"; tail -n 20 "$LOG_DIR"/*.log || true; }
exit $status
