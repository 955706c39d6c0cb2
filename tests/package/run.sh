#!/usr/bin/env bash
# The Debian package (issue 22, item 1): `make deb` into a temp dir, the
# package extracted into a throwaway tree, a PostgreSQL of its own, then
# node's test runner over package.test.js, which inspects the package
# (dpkg-deb, lintian, systemd-analyze) and runs the extracted binaries
# against that database (tests/lib/node_suite.sh). Prints node's summary and
# "N passed, M failed"; exits non-zero on failure.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/node_suite.sh"
suite_node_modules

tmp=$(suite_tmp wallet-package)
cleanup() { bash "$root/scripts/pg.sh" stop "$tmp/pg" || true; rm -rf "$tmp"; }
trap cleanup EXIT
DEB=$(OUT_DIR="$tmp/deb" bash "$root/scripts/deb.sh")
mkdir -p "$tmp/tree"
dpkg-deb -x "$DEB" "$tmp/tree"
port=$(suite_free_port)
# An empty database: the packaged migrate command creates the tables (and the
# roles) as the superuser; the daemons run as their role wallet_app.
ADMIN_DATABASE_URL=$(bash "$root/scripts/pg.sh" start "$tmp/pg" "$port")
DATABASE_URL=$(bash "$root/scripts/app-url.sh" "$ADMIN_DATABASE_URL")
export DEB TREE="$tmp/tree" ADMIN_DATABASE_URL DATABASE_URL LOG_DIR="$tmp/logs" BIN_DIR="$tmp/tree/usr/sbin" METRICS_ADDR=0
export TOOLS_DIR="${TOOLS_DIR:-$root/build/tests/tools}"
mkdir -p "$LOG_DIR"
cd "$here"
status=0
suite_node_test 300 package.test.js || status=$?
[ "$status" = 0 ] || { echo "daemon logs (last lines):"; tail -n 20 "$LOG_DIR"/*.log 2>/dev/null || true; }
exit $status
