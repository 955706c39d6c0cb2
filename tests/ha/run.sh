#!/usr/bin/env bash
# `make test-ha` (issue 16): the bank load through two replicas of each daemon
# while a pg_auto_failover cluster of its own (scripts/ha.sh, in a temp dir)
# loses its primary, gets it back as a standby and switches over, and while
# one replica of each daemon is killed -9 and restarted. Uses the integration
# suite's node modules and harness. Exits non-zero on failure.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
it="$root/tests/integration"
[ -d "$it/node_modules/@grpc/grpc-js" ] && [ "$it/node_modules/.package-lock.json" -nt "$it/package-lock.json" ] ||
  (cd "$it" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)

tmp=$(mktemp -d /tmp/wallet-ha.XXXXXX)
chmod 711 "$tmp" # the postgres user must reach the cluster inside
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
# A bound on the whole run (it takes ~1.5 min): a hang fails, it never blocks make test.
timeout 330 node --test --test-concurrency=1 --test-reporter=spec ha.test.js || status=$?
if grep -l -E "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$LOG_DIR"/*.log 2>/dev/null; then
  grep -h -A30 -E "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$LOG_DIR"/*.log | head -120
  status=1
fi
# HA_KEEP_LOGS=DIR: the daemons' logs are copied there (the temp dir goes).
[ -z "${HA_KEEP_LOGS:-}" ] || cp -r "$LOG_DIR/." "$HA_KEEP_LOGS/" || true
if [ "$status" -ne 0 ]; then
  echo "test-ha: failed; the cluster's state and logs:" >&2
  bash "$root/scripts/ha.sh" primary "$tmp/cluster" >&2 || true
  tail -n 20 "$tmp"/cluster/*.log >&2 || true
fi
exit "$status"
