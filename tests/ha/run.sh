#!/usr/bin/env bash
# `make test-ha` (issue 16): the bank load through two replicas of each daemon
# while a pg_auto_failover cluster of its own (scripts/ha.sh, in a temp dir)
# loses its primary, gets it back as a standby and switches over, and while
# one replica of each daemon is killed -9 and restarted. Uses the integration
# suite's node modules and harness (tests/lib/node_suite.sh). Prints node's
# summary and "N passed, M failed"; exits non-zero on failure.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/node_suite.sh"
suite_node_modules

tmp=$(suite_tmp wallet-ha) # the postgres user must reach the cluster inside
# Three consecutive free ports below the ephemeral range (32768 and up), so
# no outgoing connection can take one before its server binds it.
free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for ((try = 0; try < 50; try++)); do
  base=$((21000 + RANDOM % 10000))
  free "$base" && free $((base + 1)) && free $((base + 2)) && break
done
cleanup() {
  bash "$root/scripts/ha.sh" down "$tmp/cluster" || true
  rm -rf "$tmp"
}
trap cleanup EXIT
# Migrations as the superuser (ADMIN_DATABASE_URL), the daemons as their role wallet_app.
ADMIN_DATABASE_URL=$(bash "$root/scripts/ha.sh" up "$tmp/cluster" "$base")
DATABASE_URL=$(bash "$root/scripts/app-url.sh" "$ADMIN_DATABASE_URL")
export ADMIN_DATABASE_URL DATABASE_URL HA_DIR="$tmp/cluster" LOG_DIR="$tmp/logs" BIN_DIR="${BIN_DIR:-$root/bin}" METRICS_ADDR=0
mkdir -p "$LOG_DIR"
DATABASE_URL=$ADMIN_DATABASE_URL bash "$root/scripts/migrate.sh" >/dev/null 2>&1

cd "$here"
status=0
# A bound on the whole run (it takes ~1.5 min).
suite_node_test 330 ha.test.js || status=$?
suite_sanitizer_reports "$LOG_DIR" || status=1
# HA_KEEP_LOGS=DIR: the daemons' logs and the cluster's (pg_autoctl, the
# nodes' PostgreSQL) are copied there (the temp dir goes).
if [ -n "${HA_KEEP_LOGS:-}" ]; then
  cp -r "$LOG_DIR/." "$HA_KEEP_LOGS/" || true
  mkdir -p "$HA_KEEP_LOGS/cluster"
  cp "$tmp"/cluster/*.log "$HA_KEEP_LOGS/cluster/" 2>/dev/null || true
  for n in n1 n2; do cp -r "$tmp/cluster/$n/log" "$HA_KEEP_LOGS/cluster/$n-pglog" 2>/dev/null || true; done
fi
if [ "$status" -ne 0 ]; then
  echo "test-ha: failed; the cluster's state and logs:" >&2
  bash "$root/scripts/ha.sh" primary "$tmp/cluster" >&2 || true
  tail -n 20 "$tmp"/cluster/*.log >&2 || true
fi
exit "$status"
