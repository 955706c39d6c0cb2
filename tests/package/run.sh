#!/usr/bin/env bash
# The Debian package (issue 22, item 1): `make deb` into a temp dir, the
# package extracted into a throwaway tree, a PostgreSQL of its own, then
# node's test runner over package.test.js, which inspects the package
# (dpkg-deb, lintian, systemd-analyze) and runs the extracted binaries
# against that database. Prints node's summary; exits non-zero on failure.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
it="$root/tests/integration"
[ -d "$it/node_modules/@grpc/grpc-js" ] && [ "$it/node_modules/.package-lock.json" -nt "$it/package-lock.json" ] ||
  (cd "$it" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)

tmp=$(mktemp -d /tmp/wallet-package.XXXXXX)
chmod 711 "$tmp" # the postgres user must reach its data dir inside
cleanup() { bash "$root/scripts/pg.sh" stop "$tmp/pg" || true; rm -rf "$tmp"; }
trap cleanup EXIT
DEB=$(OUT_DIR="$tmp/deb" bash "$root/scripts/deb.sh")
mkdir -p "$tmp/tree"
dpkg-deb -x "$DEB" "$tmp/tree"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
       echo $((20000 + RANDOM % 20000)))
# An empty database: the packaged migrate command creates the tables.
DATABASE_URL=$(bash "$root/scripts/pg.sh" start "$tmp/pg" "$port")
export DEB TREE="$tmp/tree" DATABASE_URL LOG_DIR="$tmp/logs" BIN_DIR="$tmp/tree/usr/sbin" METRICS_ADDR=0
export TOOLS_DIR="${TOOLS_DIR:-$root/build/tests/tools}"
mkdir -p "$LOG_DIR"
cd "$here"
status=0
timeout 300 node --test --test-concurrency=1 --test-reporter=spec package.test.js || status=$?
[ "$status" = 0 ] || { echo "daemon logs (last lines):"; tail -n 20 "$LOG_DIR"/*.log 2>/dev/null || true; }
exit $status
