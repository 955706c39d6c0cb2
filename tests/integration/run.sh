#!/usr/bin/env bash
# Runs the integration suite: a throwaway PostgreSQL on a free port under a
# temp dir (never the `make run` database), migrations, then node's test runner
# over tests/integration/*.test.js. VALGRIND=1 wraps the daemons in valgrind
# and runs the files marked `// runs-under: valgrind` (today flow, concurrency
# and status: fibers, pipelined and grouped statements, peer calls, every
# error path). Prints node's summary and "N passed, M failed"
# (tests/lib/node_suite.sh); exits non-zero on failure.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/node_suite.sh"
cd "$here"
suite_node_modules

tmp=$(suite_tmp wallet-it)
port=$(suite_free_port)
cleanup() { bash "$root/scripts/pg.sh" stop "$tmp/pg" || true; rm -rf "$tmp"; }
trap cleanup EXIT
# Migrations and the tests' own statements as the superuser (ADMIN_DATABASE_URL),
# the daemons as their role wallet_app (DATABASE_URL), as in production.
ADMIN_DATABASE_URL=$(bash "$root/scripts/pg.sh" start "$tmp/pg" "$port")
DATABASE_URL=$(bash "$root/scripts/app-url.sh" "$ADMIN_DATABASE_URL")
export ADMIN_DATABASE_URL DATABASE_URL LOG_DIR="$tmp/logs" BIN_DIR="${BIN_DIR:-$root/bin}" DB_TEST_DIR="${DB_TEST_DIR:-$root/build/tests/db}"
# Daemons a test starts without a metrics port of its own serve no /metrics:
# the default ports (9464, 9465) may be taken on this machine.
export METRICS_ADDR=0
mkdir -p "$LOG_DIR"
DATABASE_URL=$ADMIN_DATABASE_URL bash "$root/scripts/migrate.sh" 2>/dev/null

# FILES="a.test.js b.test.js" runs only those files (e.g. make test-integration FILES=history.test.js).
read -r -a files <<< "${FILES:-$(echo *.test.js)}"
if [ "${VALGRIND:-0}" = 1 ]; then
  export DAEMON_WRAPPER="valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite --log-file=$LOG_DIR/valgrind-%p.log"
  # A test file opts in with a line `// runs-under: valgrind` (slow: the daemons run 20-50x slower).
  mapfile -t files < <(grep -l '^// runs-under: valgrind$' "${files[@]}")
fi
status=0
suite_node_test 0 "${files[@]}" || status=$? # 0: no bound (valgrind runs are slow)
if [ "${VALGRIND:-0}" = 1 ]; then
  for f in "$LOG_DIR"/valgrind-*.log; do
    [ -s "$f" ] && { echo "valgrind reported errors:"; cat "$f"; status=1; }
  done
fi
[ "$status" = 0 ] || { echo "daemon logs (last lines):"; tail -n 20 "$LOG_DIR"/*.log || true; }
exit $status
